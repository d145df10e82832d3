// SPDX-License-Identifier: Apache-2.0

import NIOCore

/// One command as Redis reads it: an array of bulk strings, encoded once when it is made.
public struct RedisCommand: Sendable {
    /// The command as RESP bytes.
    public let bytes: ByteBuffer
    /// The command's name, upper-cased (for logs and errors; never its arguments, which may be
    /// a password).
    public let name: String
    /// Seconds to wait for this command's answer (`nil`: the connection's command timeout). A
    /// blocking command (`BLPOP`) waits longer than the rest; a handshake waits as long as the
    /// connect timeout. Answers come in order, so a command behind a slower one waits for it.
    public var timeout: Double?

    /// Encodes a command.
    /// - Parameters:
    ///   - name: `GET`, `SET`, `HELLO` …
    ///   - arguments: Its arguments.
    public init(_ name: String, _ arguments: [RedisArgument] = []) {
        var bytes = ByteBuffer()
        bytes.writeString("*\(arguments.count + 1)\r\n")
        Self.write(Array(name.utf8), to: &bytes)
        for argument in arguments {
            switch argument {
            case .string(let text): Self.write(Array(text.utf8), to: &bytes)
            case .bytes(let value):
                bytes.writeString("$\(value.readableBytes)\r\n")
                var copy = value
                bytes.writeBuffer(&copy)
                bytes.writeStaticString("\r\n")
            case .integer(let number): Self.write(Array(String(number).utf8), to: &bytes)
            }
        }
        self.bytes = bytes
        self.name = name.uppercased()
    }

    /// Encodes a command.
    public init(_ name: String, _ arguments: RedisArgument...) {
        self.init(name, arguments)
    }

    /// The same command with its own timeout.
    public func waiting(atMost seconds: Double) -> RedisCommand {
        var command = self
        command.timeout = seconds
        return command
    }

    private static func write(_ value: [UInt8], to bytes: inout ByteBuffer) {
        bytes.writeString("$\(value.count)\r\n")
        bytes.writeBytes(value)
        bytes.writeStaticString("\r\n")
    }
}

/// One argument of a command.
public enum RedisArgument: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    /// Text, sent as its UTF-8.
    case string(String)
    /// Bytes as they are.
    case bytes(ByteBuffer)
    /// A number, sent as its decimal text.
    case integer(Int64)

    /// A text argument.
    public init(stringLiteral value: String) { self = .string(value) }
    /// A number argument.
    public init(integerLiteral value: Int64) { self = .integer(value) }
}
