// SPDX-License-Identifier: Apache-2.0

/// Character references in attribute values (WHATWG "character reference state"): decoding with a
/// map back to the raw bytes, so that a URL found in the decoded value can be replaced in the raw
/// one, and encoding of the replacement.
public enum CharacterReferences {
    /// `text` with its character references decoded, as in an HTML attribute value (XML's five
    /// names and numeric references read the same way). Named references this module does not
    /// know stay as written.
    public static func decoded(_ text: some StringProtocol) -> String {
        String(decoding: decode(ArraySlice(text.utf8)).bytes, as: UTF8.self)
    }

    /// A decoded attribute value and, for each decoded byte, the raw offset its reference starts at
    /// (plus one entry for the end), so raw ranges can be found for decoded ranges.
    struct Decoded {
        var bytes: [UInt8] = []
        var rawOffsets: [Int] = []
        /// A named reference this decoder does not know: the value may not be what a browser reads.
        var hasUnknownName = false

        /// The raw range of decoded bytes `range` (whose ends fall between references).
        func rawRange(_ range: Range<Int>) -> Range<Int> { rawOffsets[range.lowerBound]..<rawOffsets[range.upperBound] }
    }

    /// Decodes `raw` as an attribute value.
    static func decode(_ raw: ArraySlice<UInt8>) -> Decoded {
        var decoded = Decoded()
        decoded.bytes.reserveCapacity(raw.count)
        decoded.rawOffsets.reserveCapacity(raw.count + 1)
        let base = raw.startIndex
        var index = raw.startIndex
        while index < raw.endIndex {
            let start = index
            if raw[index] == UInt8(ascii: "&"), let (scalar, length) = reference(raw, at: index, decoded: &decoded) {
                for byte in String(Character(scalar)).utf8 {
                    decoded.bytes.append(byte)
                    decoded.rawOffsets.append(start - base)
                }
                index += length
            } else {
                decoded.bytes.append(raw[index])
                decoded.rawOffsets.append(start - base)
                index += 1
            }
        }
        decoded.rawOffsets.append(raw.count)
        return decoded
    }

    /// The reference at `index` (which holds `&`) and its length, or `nil` when it is literal text.
    static func reference(_ raw: ArraySlice<UInt8>, at index: Int, decoded: inout Decoded) -> (Unicode.Scalar, Int)? {
        var cursor = index + 1
        guard cursor < raw.endIndex else { return nil }
        if raw[cursor] == UInt8(ascii: "#") {
            cursor += 1
            let hex = cursor < raw.endIndex && raw[cursor] | 0x20 == UInt8(ascii: "x")
            if hex { cursor += 1 }
            var value: UInt32 = 0
            let digitsStart = cursor
            while cursor < raw.endIndex, let digit = digitValue(raw[cursor], hex: hex) {
                value = min(value &* (hex ? 16 : 10) &+ digit, 0x11_0000)
                cursor += 1
            }
            guard cursor > digitsStart else { return nil }
            if cursor < raw.endIndex, raw[cursor] == UInt8(ascii: ";") { cursor += 1 }
            return (numericScalar(value), cursor - index)
        }
        var nameEnd = cursor
        while nameEnd < raw.endIndex, raw[nameEnd].isASCIIAlphanumeric, nameEnd - cursor < 32 { nameEnd += 1 }
        guard nameEnd > cursor else { return nil }
        let name = String(decoding: raw[cursor..<nameEnd], as: UTF8.self)
        let terminated = nameEnd < raw.endIndex && raw[nameEnd] == UInt8(ascii: ";")
        if terminated, let scalar = NamedReferences.table[name] {
            return (scalar, nameEnd + 1 - index)
        }
        // A legacy name without `;`, in an attribute, counts only when not followed by `=` or an
        // alphanumeric (so `?a=1&copy=2` stays as written); names match by their longest prefix.
        for length in stride(from: nameEnd - cursor, through: 2, by: -1) {
            let prefix = String(decoding: raw[cursor..<(cursor + length)], as: UTF8.self)
            guard NamedReferences.legacy.contains(prefix), let scalar = NamedReferences.table[prefix] else { continue }
            let next = cursor + length < raw.endIndex ? raw[cursor + length] : 0
            if next == UInt8(ascii: "=") || next.isASCIIAlphanumeric { return nil }
            return (scalar, length + 1)
        }
        if terminated { decoded.hasUnknownName = true }
        return nil
    }

    static func digitValue(_ byte: UInt8, hex: Bool) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f") where hex: return UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F") where hex: return UInt32(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// WHATWG "numeric character reference end state": NUL, surrogates and out-of-range values
    /// become U+FFFD; 0x80-0x9F map through windows-1252.
    static func numericScalar(_ value: UInt32) -> Unicode.Scalar {
        if value >= 0x80 && value <= 0x9F, let mapped = NamedReferences.windows1252[value] {
            return Unicode.Scalar(mapped)!
        }
        guard value != 0, let scalar = Unicode.Scalar(value) else { return "\u{FFFD}" }
        return scalar
    }

    /// Appends `text` escaped for an attribute value: `&`, quotes and angle brackets as references.
    static func encode(_ text: String, into output: inout [UInt8]) {
        let special: (UInt8) -> Bool = {
            $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "'") || $0 == UInt8(ascii: "<")
                || $0 == UInt8(ascii: ">")
        }
        guard text.utf8.contains(where: special) else {
            output.append(contentsOf: text.utf8)  // a Moxy URL: base64url and the base
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "&"): output += Array("&amp;".utf8)
            case UInt8(ascii: "\""): output += Array("&quot;".utf8)
            case UInt8(ascii: "'"): output += Array("&#39;".utf8)
            case UInt8(ascii: "<"): output += Array("&lt;".utf8)
            case UInt8(ascii: ">"): output += Array("&gt;".utf8)
            default: output.append(byte)
            }
        }
    }
}
