// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP

/// A single byte range of a `Range` request (RFC 9110 §14.1.2), resolved against a length.
public enum ByteRange: Sendable, Hashable {
    /// Bytes `first...last` (inclusive) of the representation.
    case satisfiable(first: Int, last: Int)
    /// No range can be served (416 with `Content-Range: bytes */length`).
    case unsatisfiable
    /// The field is absent, malformed, not in bytes, or asks for several ranges: serve the whole
    /// representation (RFC 9110 §14.2 lets a server ignore `Range`).
    case ignored

    /// Parses a `Range` field value against a representation length.
    /// - Parameters:
    ///   - value: The field value, e.g. `bytes=0-99`, `bytes=-500`, `bytes=9500-`.
    ///   - length: The representation length.
    /// - Returns: The resolved range.
    public static func parse(_ value: String?, length: Int) -> ByteRange {
        guard let value else { return .ignored }
        let text = value.trimmingSpaces
        guard text.count > 6, text.prefix(6).lowercased() == "bytes=" else { return .ignored }
        let spec = text.dropFirst(6).trimmingSpaces
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .ignored }
        let firstText = spec[..<dash].trimmingSpaces
        let lastText = spec[spec.index(after: dash)...].trimmingSpaces
        func number(_ digits: Substring) -> Int? {
            guard !digits.isEmpty, digits.count <= 18, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
            return Int(digits)
        }
        if firstText.isEmpty {
            // Suffix range: the last N bytes.
            guard let suffix = number(lastText) else { return .ignored }
            guard suffix > 0, length > 0 else { return .unsatisfiable }
            return .satisfiable(first: max(0, length - suffix), last: length - 1)
        }
        guard let first = number(firstText) else { return .ignored }
        let last: Int
        if lastText.isEmpty {
            last = length - 1
        } else {
            guard let value = number(lastText), value >= first else { return .ignored }
            last = min(value, length - 1)
        }
        guard first < length else { return .unsatisfiable }
        return .satisfiable(first: first, last: last)
    }
}
