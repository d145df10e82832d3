// SPDX-License-Identifier: Apache-2.0

import NIOCore

/// Reads RESP2 and RESP3 values from bytes as they arrive: a value is returned only once it is
/// whole (nothing is consumed before), and bytes that are not RESP, or that break a limit, are an
/// error rather than an unbounded buffer. Attributes (`|`) are read and dropped: they annotate the
/// value that follows, which is returned. Streamed strings and aggregates (`$?`, `*?`), which no
/// Redis or Valkey release sends, are refused.
public struct RESPDecoder: Sendable {
    /// Bounds on what one value may hold.
    public struct Limits: Sendable, Hashable {
        /// Aggregates inside aggregates.
        public var maxDepth = 32
        /// One bulk string (Redis's own `proto-max-bulk-len` is 512 MiB; the shared tier stores
        /// 128 KiB chunks).
        public var maxBulkBytes = 64 << 20
        /// Elements of one aggregate.
        public var maxElements = 1 << 20
        /// One line: a simple string, an error, a number, a length.
        public var maxLineBytes = 64 << 10

        /// The defaults.
        public init() {}
    }

    /// The bounds.
    public var limits: Limits

    /// Creates a decoder.
    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// The next whole value at the buffer's reader index, consumed; nil (nothing consumed) until
    /// all of it has arrived.
    /// - Throws: ``RedisError/Code/protocolError`` for bytes that are not RESP or break a limit.
    public func decode(_ buffer: inout ByteBuffer) throws(RedisError) -> RESPValue? {
        let view = buffer.readableBytesView
        guard let (value, end) = try parse(buffer, view, at: view.startIndex, depth: 0) else { return nil }
        buffer.moveReaderIndex(to: end)
        return value
    }

    private func parse(_ buffer: ByteBuffer, _ view: ByteBufferView, at start: Int, depth: Int) throws(RedisError) -> (RESPValue, Int)? {
        guard start < view.endIndex else { return nil }
        guard depth <= limits.maxDepth else { throw RedisError(.protocolError, "values nested deeper than \(limits.maxDepth)") }
        guard let (line, next) = try line(view, at: start + 1) else { return nil }
        switch view[start] {
        case UInt8(ascii: "+"): return (.simpleString(String(decoding: view[line], as: UTF8.self)), next)
        case UInt8(ascii: "-"): return (.error(String(decoding: view[line], as: UTF8.self)), next)
        case UInt8(ascii: ":"): return (.integer(try integer(view[line])), next)
        case UInt8(ascii: "_"):
            guard line.isEmpty else { throw RedisError(.protocolError, "a null with content") }
            return (.null, next)
        case UInt8(ascii: "#"):
            switch Array(view[line]) {
            case [UInt8(ascii: "t")]: return (.boolean(true), next)
            case [UInt8(ascii: "f")]: return (.boolean(false), next)
            default: throw RedisError(.protocolError, "a boolean that is neither t nor f")
            }
        case UInt8(ascii: ","):
            guard let value = Double(String(decoding: view[line], as: UTF8.self)) else { throw RedisError(.protocolError, "a double that is not a number") }
            return (.double(value), next)
        case UInt8(ascii: "("):
            let digits = view[line]
            let body = digits.first == UInt8(ascii: "-") ? digits.dropFirst() : digits[...]
            guard !body.isEmpty, body.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
                throw RedisError(.protocolError, "a big number that is not digits")
            }
            return (.bigNumber(String(decoding: digits, as: UTF8.self)), next)
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
            let length = try integer(view[line])
            if length == -1, view[start] == UInt8(ascii: "$") { return (.null, next) }
            guard length >= 0, length <= limits.maxBulkBytes else { throw RedisError(.protocolError, "a string of \(length) bytes") }
            let end = next + Int(length)
            guard end + 2 <= view.endIndex else { return nil }
            guard view[end] == UInt8(ascii: "\r"), view[end + 1] == UInt8(ascii: "\n") else { throw RedisError(.protocolError, "a string longer than its length") }
            // A slice of the received bytes: no copy of a large value.
            guard let bytes = buffer.getSlice(at: next, length: Int(length)) else { return nil }
            switch view[start] {
            case UInt8(ascii: "!"): return (.error(String(buffer: bytes)), end + 2)
            case UInt8(ascii: "="):
                // Three letters of format and a colon (`txt:`) come first.
                guard length >= 4, view[next + 3] == UInt8(ascii: ":") else { throw RedisError(.protocolError, "a verbatim string without its format") }
                return (.verbatimString(String(decoding: view[(next + 4)..<end], as: UTF8.self)), end + 2)
            default: return (.bulkString(bytes), end + 2)
            }
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
            let kind = view[start]
            let count = try integer(view[line])
            if count == -1, kind == UInt8(ascii: "*") { return (.null, next) }
            let isPairs = kind == UInt8(ascii: "%") || kind == UInt8(ascii: "|")
            guard count >= 0, count <= limits.maxElements / (isPairs ? 2 : 1) else { throw RedisError(.protocolError, "an aggregate of \(count) elements") }
            let total = Int(count) * (isPairs ? 2 : 1)
            var elements: [RESPValue] = []
            elements.reserveCapacity(min(total, 1024))
            var position = next
            for _ in 0..<total {
                guard let (element, after) = try parse(buffer, view, at: position, depth: depth + 1) else { return nil }
                elements.append(element)
                position = after
            }
            switch kind {
            case UInt8(ascii: "~"): return (.set(elements), position)
            case UInt8(ascii: ">"): return (.push(elements), position)
            case UInt8(ascii: "%"): return (.map(elements), position)
            // An attribute annotates the value after it, which is the one returned (one level
            // deeper, so that a run of attributes is bounded too).
            case UInt8(ascii: "|"): return try parse(buffer, view, at: position, depth: depth + 1)
            default: return (.array(elements), position)
            }
        default:
            throw RedisError(.protocolError, "unknown type byte \(view[start])")
        }
    }

    /// The line from `start` to its CRLF (its range, and where the next value starts); nil when
    /// the CRLF has not arrived.
    private func line(_ view: ByteBufferView, at start: Int) throws(RedisError) -> (Range<Int>, Int)? {
        let limit = min(view.endIndex, start + limits.maxLineBytes + 1)
        guard let cr = view[start..<max(start, limit)].firstIndex(of: UInt8(ascii: "\r")) else {
            if view.endIndex - start > limits.maxLineBytes { throw RedisError(.protocolError, "a line longer than \(limits.maxLineBytes) bytes") }
            return nil
        }
        guard cr + 1 < view.endIndex else { return nil }
        guard view[cr + 1] == UInt8(ascii: "\n") else { throw RedisError(.protocolError, "a CR without LF") }
        return (start..<cr, cr + 2)
    }

    private func integer(_ digits: ByteBufferView.SubSequence) throws(RedisError) -> Int64 {
        var value: Int64 = 0
        var negative = false
        var index = digits.startIndex
        if index < digits.endIndex, digits[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        } else if index < digits.endIndex, digits[index] == UInt8(ascii: "+") {
            index += 1
        }
        guard index < digits.endIndex else { throw RedisError(.protocolError, "a number without digits") }
        while index < digits.endIndex {
            let byte = digits[index]
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { throw RedisError(.protocolError, "a number with a non-digit") }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { throw RedisError(.protocolError, "a number out of range") }
            value = sum
            index += 1
        }
        return negative ? -value : value
    }
}
