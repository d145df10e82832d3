// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP

/// Secondary cache keys from `Vary` (RFC 9111 §4.1).
public enum VaryKey {
    /// The field names a response varies on, lowercased, sorted and without duplicates.
    /// - Parameter values: The response's `Vary` field values.
    /// - Returns: The names, or `nil` for `Vary: *` (never reusable).
    public static func names(_ values: [String]) -> [String]? {
        var names = Set<String>()
        for value in values {
            for part in value.split(separator: ",") {
                let name = part.trimmingSpaces.lowercased()
                if name == "*" { return nil }
                if !name.isEmpty { names.insert(name) }
            }
        }
        return names.sorted()
    }

    /// The secondary key of a request for the given names: each name's values, combined and
    /// normalised (whitespace runs collapsed, spaces around commas removed), so that requests that
    /// differ only in insignificant whitespace or field-name case share a variant.
    /// - Parameters:
    ///   - names: Lowercase names from ``names(_:)``.
    ///   - requestHeaders: The request fields.
    /// - Returns: A string that is equal for matching requests (absent and empty fields differ).
    public static func secondary(_ names: [String], requestHeaders: [(name: String, value: String)]) -> String {
        var key = ""
        for name in names {
            key += name
            let values = requestHeaders.values(named: name)
            if values.isEmpty {
                key += "\u{0}"
            } else if Self.caseInsensitive.contains(name) {
                key += ":" + normaliseInsensitive(values.joined(separator: ","))
            } else {
                key += ":" + normalise(values.joined(separator: ","))
            }
            key += "\n"
        }
        return key
    }

    /// Fields whose whole value is case-insensitive and holds no significant whitespace: codings,
    /// language ranges and charsets are case-insensitive tokens, and whitespace may stand only
    /// around `,` and `;` (RFC 9110 §12.5.3–§12.5.4, §5.6.1, §12.4.2). `Accept` is not among them:
    /// its media-type parameters may be case-sensitive.
    static let caseInsensitive: Set<String> = ["accept-encoding", "accept-language", "accept-charset"]

    /// `gzip, br;q=0.5` for `GZIP ,br ; q=0.5`: lowercase, no whitespace.
    static func normaliseInsensitive(_ value: String) -> String {
        String(String.UnicodeScalarView(value.unicodeScalars.lazy.filter { $0 != " " && $0 != "\t" })).lowercased()
    }

    static func normalise(_ value: String) -> String {
        value.split(separator: ",", omittingEmptySubsequences: false)
            .map { part in part.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ") }
            .joined(separator: ",")
    }
}
