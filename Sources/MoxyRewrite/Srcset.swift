// SPDX-License-Identifier: Apache-2.0

/// The URLs of a `srcset` value (WHATWG "parse a srcset attribute"), as ranges, so that the
/// descriptors, commas and spacing around them stay byte for byte.
enum Srcset {
    /// The range of each candidate's URL in `value` (decoded).
    static func urlRanges(_ value: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var index = 0
        while index < value.count {
            while index < value.count, value[index].isHTMLSpace || value[index] == UInt8(ascii: ",") { index += 1 }
            guard index < value.count else { break }
            let start = index
            while index < value.count, !value[index].isHTMLSpace { index += 1 }
            var end = index
            if value[end - 1] == UInt8(ascii: ",") {
                while end > start, value[end - 1] == UInt8(ascii: ",") { end -= 1 }
                if end > start { ranges.append(start..<end) }
                continue
            }
            ranges.append(start..<end)
            // Descriptors (`2x`, `300w`, or anything in parentheses) run to a comma outside parentheses.
            var depth = 0
            while index < value.count {
                let byte = value[index]
                if byte == UInt8(ascii: "(") { depth += 1 }
                if byte == UInt8(ascii: ")") && depth > 0 { depth -= 1 }
                if byte == UInt8(ascii: ",") && depth == 0 { break }
                index += 1
            }
        }
        return ranges
    }
}
