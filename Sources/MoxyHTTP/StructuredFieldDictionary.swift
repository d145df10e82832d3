// SPDX-License-Identifier: Apache-2.0

/// Whether a field value is a valid structured-field Dictionary (RFC 8941 §3.2, parsed as
/// §4.2.2 says), without building it: what RFC 9213 needs to tell a valid targeted cache-control
/// field (`CDN-Cache-Control: max-age=60`) from one to ignore.
public enum StructuredFieldDictionary {
    /// Checks the combined value of a field's lines.
    /// - Parameter values: The field line values, in order (joined with `,` as RFC 8941 §4.2 says).
    /// - Returns: `true` for a valid, non-empty dictionary.
    public static func isValid(_ values: [String]) -> Bool {
        guard !values.isEmpty else { return false }
        var parser = Parser(bytes: Array(values.joined(separator: ",").utf8))
        return parser.dictionary()
    }

    struct Parser {
        let bytes: [UInt8]
        var index = 0

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skip(_ set: (UInt8) -> Bool) { while let byte = current, set(byte) { index += 1 } }
        mutating func skipSpaces() { skip { $0 == 0x20 } }
        mutating func skipOWS() { skip { $0 == 0x20 || $0 == 0x09 } }

        /// §4.2.2: members separated by `,` with optional whitespace; no trailing comma; not empty.
        mutating func dictionary() -> Bool {
            skipSpaces()
            guard current != nil else { return false }
            while true {
                guard key() else { return false }
                if current == UInt8(ascii: "=") {
                    index += 1
                    guard itemOrInnerList() else { return false }
                } else {
                    guard parameters() else { return false }
                }
                skipOWS()
                guard let byte = current else { return true }
                guard byte == UInt8(ascii: ",") else { return false }
                index += 1
                skipOWS()
                guard current != nil else { return false }
            }
        }

        /// §4.2.3.3: `lcalpha / "*"` then `lcalpha / DIGIT / "_" / "-" / "." / "*"`.
        mutating func key() -> Bool {
            guard let first = current, Self.isLower(first) || first == UInt8(ascii: "*") else { return false }
            index += 1
            skip { Self.isLower($0) || Self.isDigit($0) || "_-.*".utf8.contains($0) }
            return true
        }

        mutating func itemOrInnerList() -> Bool {
            if current == UInt8(ascii: "(") {
                index += 1
                while true {
                    skipSpaces()
                    if current == UInt8(ascii: ")") {
                        index += 1
                        return parameters()
                    }
                    guard bareItem(), parameters() else { return false }
                    guard let byte = current, byte == 0x20 || byte == UInt8(ascii: ")") else { return false }
                }
            }
            return bareItem() && parameters()
        }

        /// §4.2.3.2: `;key[=bare-item]` repeated.
        mutating func parameters() -> Bool {
            while current == UInt8(ascii: ";") {
                index += 1
                skipSpaces()
                guard key() else { return false }
                if current == UInt8(ascii: "=") {
                    index += 1
                    guard bareItem() else { return false }
                }
            }
            return true
        }

        /// §4.2.3.1: integer or decimal, string, token, byte sequence, boolean.
        mutating func bareItem() -> Bool {
            guard let byte = current else { return false }
            switch byte {
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
            case UInt8(ascii: "\""): return string()
            case UInt8(ascii: ":"): return byteSequence()
            case UInt8(ascii: "?"):
                index += 1
                guard let value = current, value == UInt8(ascii: "0") || value == UInt8(ascii: "1") else { return false }
                index += 1
                return true
            default:
                guard Self.isAlpha(byte) || byte == UInt8(ascii: "*") else { return false }
                index += 1
                skip { Self.isTChar($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "/") }
                return true
            }
        }

        mutating func number() -> Bool {
            if current == UInt8(ascii: "-") { index += 1 }
            let start = index
            skip(Self.isDigit)
            let integerDigits = index - start
            guard integerDigits > 0 else { return false }
            guard current == UInt8(ascii: ".") else { return integerDigits <= 15 }
            index += 1
            let fractionStart = index
            skip(Self.isDigit)
            let fractionDigits = index - fractionStart
            return integerDigits <= 12 && (1...3).contains(fractionDigits)
        }

        mutating func string() -> Bool {
            index += 1
            while let byte = current {
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return true
                case UInt8(ascii: "\\"):
                    guard let escaped = current, escaped == UInt8(ascii: "\"") || escaped == UInt8(ascii: "\\") else { return false }
                    index += 1
                case 0x20...0x7e: continue
                default: return false
                }
            }
            return false
        }

        mutating func byteSequence() -> Bool {
            index += 1
            skip { Self.isAlpha($0) || Self.isDigit($0) || "+/=".utf8.contains($0) }
            guard current == UInt8(ascii: ":") else { return false }
            index += 1
            return true
        }

        static func isLower(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") }
        static func isAlpha(_ byte: UInt8) -> Bool { isLower(byte) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) }
        static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        static func isTChar(_ byte: UInt8) -> Bool { isAlpha(byte) || isDigit(byte) || "!#$%&'*+-.^_`|~".utf8.contains(byte) }
    }
}
