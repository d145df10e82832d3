// SPDX-License-Identifier: Apache-2.0

/// One header field as every module sees it: the name as received, the value.
///
/// Cache, validation and server share this one representation (NIO's `HTTPHeaders` stays at the
/// socket edge).
public typealias HTTPField = (name: String, value: String)

/// Parsing of delta-seconds values (RFC 9111 §1.2.2).
public enum DeltaSeconds {
    /// Parses a non-negative integer, capping huge values at 2^31.
    /// - Parameter text: The field value.
    /// - Returns: Seconds, or `nil` when not a valid delta-seconds.
    public static func parse(_ text: some StringProtocol) -> Int64? {
        let digits = text.trimmingSpaces
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        if digits.utf8.count > 10 { return 2_147_483_648 }
        return min(Int64(digits) ?? 0, 2_147_483_648)
    }

    /// Parses an `Age` value: a list-based one by its first member (RFC 9111 §5.1), so that
    /// `Age: 7200, 0` is 7200 seconds old rather than invalid (and read as fresh).
    /// - Parameter text: The field value.
    /// - Returns: Seconds, or `nil` when the first member is not a valid delta-seconds.
    public static func parseAge(_ text: some StringProtocol) -> Int64? {
        parse(text.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }
}

extension Array where Element == (name: String, value: String) {
    /// The values of every field with the given lowercase name.
    /// - Parameter name: A lowercase field name.
    /// - Returns: The values, in order.
    public func values(named name: String) -> [String] {
        compactMap { $0.name.isFieldName(name) ? $0.value : nil }
    }

    /// The first value of the field with the given lowercase name.
    /// - Parameter name: A lowercase field name.
    /// - Returns: The value, or `nil`.
    public func first(named name: String) -> String? {
        first { $0.name.isFieldName(name) }?.value
    }
}

extension String {
    /// Whether this field name is `lowercaseName` in any ASCII case, compared byte by byte: no
    /// lowercased copy (a miss compared about 40 names through `lowercased()`, each a new string).
    /// Field names are tokens (RFC 9110 §5.1), so ASCII folding is the whole comparison.
    /// - Parameter lowercaseName: A field name in lowercase ASCII.
    @inlinable
    public func isFieldName(_ lowercaseName: String) -> Bool {
        guard utf8.count == lowercaseName.utf8.count else { return false }
        var expected = lowercaseName.utf8.makeIterator()
        for byte in utf8 {
            let folded = byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
            guard folded == expected.next() else { return false }
        }
        return true
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    public var trimmingSpaces: Substring {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
