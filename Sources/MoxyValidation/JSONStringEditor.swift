// SPDX-License-Identifier: Apache-2.0

/// Replaces selected string values of a JSON document and leaves every other byte as it was:
/// the members around them, their order, the whitespace, the number forms and the escapes of the
/// strings that do not change. A new value is written in the escaping style of the one it
/// replaces (`\/` for `/` and `\uXXXX` for non-ASCII when the old one used them, as PHP's
/// `json_encode` does), so a WordPress answer keeps looking like one.
public enum JSONStringEditor {
    /// The document with the selected strings changed, or `nil` when nothing changed.
    /// - Parameters:
    ///   - bytes: The document.
    ///   - selector: The strings to offer (values of other types are left alone).
    ///   - transform: The new text for a string (given its pattern's index and its text), or `nil`
    ///     to leave it.
    /// - Throws: ``JSONParser/ParseError`` when the document is not JSON.
    public static func edit(
        _ bytes: UnsafeRawBufferPointer,
        selector: JSONSelector,
        transform: (Int, String) -> String?
    ) throws(JSONParser.ParseError) -> [UInt8]? {
        var output: [UInt8] = []
        var copied = 0
        var lastEnd = 0
        for match in try selector.matches(in: bytes) {
            // A value two patterns select (or one inside another) is changed once, by the first.
            guard match.range.lowerBound >= lastEnd, case .string(let text) = match.value,
                let replacement = transform(match.pattern, text), replacement != text
            else { continue }
            if output.isEmpty { output.reserveCapacity(bytes.count + bytes.count / 4) }
            output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[copied..<match.range.lowerBound]))
            let old = UnsafeRawBufferPointer(rebasing: bytes[match.range])
            encode(replacement, style: Style(of: old), into: &output)
            copied = match.range.upperBound
            lastEnd = match.range.upperBound
        }
        guard copied > 0 else { return nil }
        output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[copied...]))
        return output
    }

    /// How a string was escaped.
    struct Style: Equatable {
        /// `/` written as `\/`.
        var escapesSlash = false
        /// Non-ASCII written as `\uXXXX`.
        var escapesNonASCII = false

        /// The style of a string as it appears in a document (with its quotes).
        init(of raw: UnsafeRawBufferPointer) {
            var index = 0
            var sawRawNonASCII = false
            var sawEscapedNonASCII = false
            while index < raw.count {
                let byte = raw[index]
                if byte >= 0x80 { sawRawNonASCII = true }
                if byte == UInt8(ascii: "\\"), index + 1 < raw.count {
                    let next = raw[index + 1]
                    if next == UInt8(ascii: "/") { escapesSlash = true }
                    if next == UInt8(ascii: "u"), index + 5 < raw.count, Self.hexValue(raw[(index + 2)..<(index + 6)]) >= 0x80 {
                        sawEscapedNonASCII = true
                    }
                    index += 2
                    continue
                }
                index += 1
            }
            escapesNonASCII = sawEscapedNonASCII && !sawRawNonASCII
        }

        /// The value of four hex digits (the parser checked them).
        static func hexValue(_ digits: Slice<UnsafeRawBufferPointer>) -> UInt32 {
            digits.reduce(0) { value, byte in
                let digit: UInt8 =
                    switch byte {
                    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
                    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
                    default: byte &- UInt8(ascii: "A") &+ 10
                    }
                return value << 4 | UInt32(digit & 0xF)
            }
        }

        init(escapesSlash: Bool, escapesNonASCII: Bool) {
            self.escapesSlash = escapesSlash
            self.escapesNonASCII = escapesNonASCII
        }
    }

    /// Writes a JSON string (with its quotes).
    static func encode(_ text: String, style: Style, into output: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        func escapeUnit(_ unit: UInt16) {
            output += [UInt8(ascii: "\\"), UInt8(ascii: "u")]
            output += [hex[Int(unit >> 12)], hex[Int(unit >> 8 & 0xF)], hex[Int(unit >> 4 & 0xF)], hex[Int(unit & 0xF)]]
        }
        output.append(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x22: output += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case 0x5C: output += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x2F where style.escapesSlash: output += [UInt8(ascii: "\\"), UInt8(ascii: "/")]
            case 0x0A: output += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: output += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: output += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x08: output += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: output += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0..<0x20: escapeUnit(UInt16(scalar.value))
            case 0x80... where style.escapesNonASCII:
                UTF16.encode(scalar) { escapeUnit($0) }
            default: UTF8.encode(scalar) { output.append($0) }
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
