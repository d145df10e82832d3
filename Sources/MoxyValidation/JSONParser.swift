// SPDX-License-Identifier: Apache-2.0

/// A strict JSON parser (RFC 8259) over bytes: UTF-8 only, no trailing commas, no comments, no
/// leading zeros, no control characters in strings, nesting bounded, nothing after the value but
/// whitespace. It runs once per upstream response that a route validates, never on cache hits.
public enum JSONParser {
    /// Deepest nesting accepted (deeper documents are refused rather than risking the stack).
    public static let maxDepth = 512

    /// Why a body is not JSON.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        /// The byte offset where parsing stopped.
        public let offset: Int
        /// What was wrong there.
        public let message: String
        /// `message at byte N`.
        public var description: String { "\(message) at byte \(offset)" }
    }

    /// Parses a document.
    /// - Throws: ``ParseError``.
    /// - Parameters:
    ///   - bytes: The body.
    ///   - keeping: The parts to build values for; the rest is checked for syntax only (skipped
    ///     array items read as `null`, skipped object members are left out).
    public static func parse(_ bytes: UnsafeRawBufferPointer, keeping: JSONPaths = .everything) throws(ParseError) -> JSONValue {
        var reader = Reader(bytes: bytes)
        reader.skipWhitespace()
        let value = try reader.value(depth: 0, keep: keeping)
        reader.skipWhitespace()
        guard reader.index == bytes.count else { throw ParseError(offset: reader.index, message: "unexpected text after the value") }
        return value
    }

    /// Parses a document held in an array.
    public static func parse(_ bytes: [UInt8], keeping: JSONPaths = .everything) throws(ParseError) -> JSONValue {
        do {
            return try bytes.withUnsafeBytes { buffer in try parse(buffer, keeping: keeping) }
        } catch let error as ParseError {
            throw error
        } catch {
            throw ParseError(offset: 0, message: "\(error)")
        }
    }

    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        func fail(_ message: String) -> ParseError { ParseError(offset: index, message: message) }

        mutating func skipWhitespace() {
            while index < bytes.count {
                let byte = bytes[index]
                guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { return }
                index += 1
            }
        }

        /// A value; with `keep == nil` only its syntax is checked and `null` stands for it.
        mutating func value(depth: Int, keep: JSONPaths?) throws(ParseError) -> JSONValue {
            guard index < bytes.count else { throw fail("unexpected end of input") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(depth: depth + 1, keep: keep)
            case UInt8(ascii: "["): return try array(depth: depth + 1, keep: keep)
            case UInt8(ascii: "\""):
                if keep == nil {
                    try skipString()
                    return .null
                }
                return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let number = try number(convert: keep != nil)
                return keep == nil ? .null : .number(number)
            default: throw fail("unexpected character")
            }
        }

        mutating func literal(_ word: StaticString) throws(ParseError) {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { throw fail("unexpected end of input") }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
                throw fail("unexpected character")
            }
            index += count
        }

        mutating func object(depth: Int, keep: JSONPaths?) throws(ParseError) -> JSONValue {
            guard depth <= JSONParser.maxDepth else { throw fail("nested too deeply") }
            index += 1
            var members: [JSONValue.Member] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a member name") }
                // Names are built only where a pointer may look them up.
                var name = ""
                if keep != nil { name = try string() } else { try skipString() }
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                index += 1
                skipWhitespace()
                let child = keep.flatMap { $0.whole ? $0 : $0.members[name] }
                let member = try value(depth: depth, keep: child)
                if child != nil { members.append(JSONValue.Member(name: name, value: member)) }
                if try endOfCollection(UInt8(ascii: "}")) { return .object(members) }
            }
        }

        /// After a member or item: `true` at the closing bracket, `false` at a comma (both consumed).
        mutating func endOfCollection(_ closing: UInt8) throws(ParseError) -> Bool {
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input") }
            let byte = bytes[index]
            guard byte == closing || byte == UInt8(ascii: ",") else {
                throw fail("expected ',' or '\(Character(Unicode.Scalar(closing)))'")
            }
            index += 1
            return byte == closing
        }

        mutating func array(depth: Int, keep: JSONPaths?) throws(ParseError) -> JSONValue {
            guard depth <= JSONParser.maxDepth else { throw fail("nested too deeply") }
            index += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            }
            while true {
                skipWhitespace()
                let child = keep.flatMap { $0.whole ? $0 : $0.items[items.count] }
                let item = try value(depth: depth, keep: child)
                // Skipped items stay as `null` so that indices still count right (and nothing is kept when skipping).
                if keep != nil { items.append(item) }
                if try endOfCollection(UInt8(ascii: "]")) { return .array(items) }
            }
        }

        mutating func string() throws(ParseError) -> String {
            index += 1
            let start = index
            // Fast path: no escapes, so the bytes are the string.
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
                    index += 1
                    guard let text = String(validating: slice, as: UTF8.self) else {
                        throw ParseError(offset: start, message: "invalid UTF-8 in a string")
                    }
                    return text
                }
                if byte == UInt8(ascii: "\\") { break }
                guard byte >= 0x20 else { throw fail("control character in a string") }
                index += 1
            }
            var scalars: [UInt8] = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    guard let text = String(validating: scalars, as: UTF8.self) else {
                        throw ParseError(offset: start, message: "invalid UTF-8 in a string")
                    }
                    return text
                }
                guard byte >= 0x20 else { throw fail("control character in a string") }
                if byte != UInt8(ascii: "\\") {
                    scalars.append(byte)
                    index += 1
                    continue
                }
                index += 1
                guard index < bytes.count else { break }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(escape)
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0C)
                case UInt8(ascii: "n"): scalars.append(0x0A)
                case UInt8(ascii: "r"): scalars.append(0x0D)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "u"):
                    guard let scalar = Unicode.Scalar(try unicodeEscape()) else { throw fail("invalid escape") }
                    scalars.append(contentsOf: String(Character(scalar)).utf8)
                default:
                    throw fail("invalid escape")
                }
            }
            throw fail("unterminated string")
        }

        /// The code point of a `\\u` escape (after the `u`), joining a surrogate pair.
        mutating func unicodeEscape() throws(ParseError) -> UInt32 {
            let code = try hex4()
            if (0xD800...0xDBFF).contains(code) {
                // A high surrogate must be followed by an escaped low one.
                guard index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw fail("unpaired surrogate")
                }
                index += 2
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw fail("unpaired surrogate") }
                return 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            }
            guard !(0xDC00...0xDFFF).contains(code) else { throw fail("unpaired surrogate") }
            return code
        }

        /// Checks a string's syntax and UTF-8 without building it.
        mutating func skipString() throws(ParseError) {
            index += 1
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return
                }
                if byte == UInt8(ascii: "\\") {
                    index += 1
                    guard index < bytes.count else { break }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                        UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        continue
                    case UInt8(ascii: "u"): _ = try unicodeEscape()
                    default: throw fail("invalid escape")
                    }
                    continue
                }
                guard byte >= 0x20 else { throw fail("control character in a string") }
                if byte < 0x80 {
                    index += 1
                } else {
                    try skipUTF8Sequence()
                }
            }
            throw fail("unterminated string")
        }

        /// Steps over one well-formed multi-byte UTF-8 sequence (no overlong forms, surrogates or
        /// code points past U+10FFFF), as `String(validating:)` accepts.
        mutating func skipUTF8Sequence() throws(ParseError) {
            let lead = bytes[index]
            let length: Int
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: throw fail("invalid UTF-8 in a string")
            }
            guard index + length <= bytes.count else { throw fail("invalid UTF-8 in a string") }
            var code = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
            for offset in 1..<length {
                let byte = bytes[index + offset]
                guard byte & 0xC0 == 0x80 else { throw fail("invalid UTF-8 in a string") }
                code = code << 6 | UInt32(byte & 0x3F)
            }
            let valid =
                switch length {
                case 3: code >= 0x800 && !(0xD800...0xDFFF).contains(code)
                case 4: code >= 0x10000 && code <= 0x10FFFF
                default: true
                }
            guard valid else { throw fail("invalid UTF-8 in a string") }
            index += length
        }

        mutating func hex4() throws(ParseError) -> UInt32 {
            guard index + 4 <= bytes.count else { throw fail("unexpected end of input") }
            var code: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw fail("invalid \\u escape")
                }
                code = code << 4 | UInt32(digit)
                index += 1
            }
            return code
        }

        /// A number's value (`0` when `convert` is off: only its syntax is checked).
        mutating func number(convert: Bool) throws(ParseError) -> Double {
            let start = index
            var negative = false
            if bytes[index] == UInt8(ascii: "-") {
                negative = true
                index += 1
            }
            func isDigit(_ at: Int) -> Bool { at < bytes.count && bytes[at] >= 0x30 && bytes[at] <= 0x39 }
            guard isDigit(index) else { throw fail("expected a digit") }
            var integer: UInt64 = 0
            var digits = 0
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
                guard !isDigit(index) else { throw fail("leading zero in a number") }
            } else {
                while isDigit(index) {
                    if digits < 18 { integer = integer * 10 + UInt64(bytes[index] - 0x30) }
                    digits += 1
                    index += 1
                }
            }
            var simple = digits <= 15
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard isDigit(index) else { throw fail("expected a digit after '.'") }
                while isDigit(index) { index += 1 }
                simple = false
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard isDigit(index) else { throw fail("expected a digit in the exponent") }
                while isDigit(index) { index += 1 }
                simple = false
            }
            if !convert { return 0 }
            if simple { return negative ? -Double(integer) : Double(integer) }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            guard let value = Double(text) else { throw ParseError(offset: start, message: "invalid number") }
            return value
        }
    }
}
