// SPDX-License-Identifier: Apache-2.0

import NIOCore

/// One value of the Redis serialization protocol, RESP3 with the RESP2 forms read the same way
/// (a RESP2 null bulk string or null array is ``null``).
public enum RESPValue: Sendable, Hashable {
    /// `+OK`.
    case simpleString(String)
    /// `-ERR …` or a RESP3 bulk error `!`: the server's message, prefix included (`MOVED 1 h:p`).
    case error(String)
    /// `:42`.
    case integer(Int64)
    /// `$5 hello`: bytes as they came.
    case bulkString(ByteBuffer)
    /// RESP3 `_`, RESP2 `$-1` and `*-1`.
    case null
    /// `*N …`.
    case array([RESPValue])
    /// RESP3 `%N`: keys and values alternating (key, value, key, value …), in the server's order.
    case map([RESPValue])
    /// RESP3 `~N`.
    case set([RESPValue])
    /// RESP3 `>N`: out of band (Pub/Sub messages, invalidations), never the reply of a command.
    case push([RESPValue])
    /// RESP3 `#t` / `#f`.
    case boolean(Bool)
    /// RESP3 `,1.5`.
    case double(Double)
    /// RESP3 `(123…`: the digits as text.
    case bigNumber(String)
    /// RESP3 `=N txt:…`: the text after its three-letter format.
    case verbatimString(String)

    /// The value as text: simple, bulk and verbatim strings (bulk strings decoded as UTF-8).
    public var string: String? {
        switch self {
        case .simpleString(let text), .verbatimString(let text): text
        case .bulkString(let bytes): String(buffer: bytes)
        default: nil
        }
    }

    /// The bytes of a bulk string (or a simple string's UTF-8).
    public var bytes: ByteBuffer? {
        switch self {
        case .bulkString(let bytes): bytes
        case .simpleString(let text): ByteBuffer(string: text)
        default: nil
        }
    }

    /// An integer, or a bulk or simple string that holds one (RESP2 answers numbers as strings).
    public var int: Int64? {
        switch self {
        case .integer(let value): value
        case .bulkString, .simpleString: string.flatMap { Int64($0) }
        default: nil
        }
    }

    /// The elements of an array, set or push, or a map's keys and values alternating.
    public var elements: [RESPValue]? {
        switch self {
        case .array(let values), .set(let values), .push(let values), .map(let values): values
        default: nil
        }
    }

    /// Whether the value is a null (RESP3 `_`, RESP2 `$-1` / `*-1`).
    public var isNull: Bool { self == .null }
}
