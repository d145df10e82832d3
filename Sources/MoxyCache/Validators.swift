// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP

/// Entity tags and the comparisons of RFC 9110 §8.8.3.2, and evaluation of client conditionals
/// against a stored response (RFC 9110 §13.2).
public enum Validators {
    /// Strong comparison: both strong and equal.
    /// - Parameters:
    ///   - a: An entity tag as sent (`"x"` or `W/"x"`).
    ///   - b: Another.
    /// - Returns: Whether they match strongly.
    public static func strongMatch(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
        let a = a.trimmingSpaces
        let b = b.trimmingSpaces
        return !a.hasPrefix("W/") && !b.hasPrefix("W/") && a == b && a.hasPrefix("\"")
    }

    /// Weak comparison: equal opaque tags, whatever their weakness.
    /// - Parameters:
    ///   - a: An entity tag.
    ///   - b: Another.
    /// - Returns: Whether they match weakly.
    public static func weakMatch(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
        func opaque(_ tag: Substring) -> Substring { tag.hasPrefix("W/") ? tag.dropFirst(2) : tag }
        let a = opaque(a.trimmingSpaces)
        return a.hasPrefix("\"") && a == opaque(b.trimmingSpaces)
    }

    /// Splits an `If-None-Match` / `If-Match` list into tags (commas inside quotes kept).
    static func tags(_ value: String) -> [Substring] {
        var tags: [Substring] = []
        var start = value.startIndex
        var quoted = false
        var index = value.startIndex
        while index < value.endIndex {
            let char = value[index]
            if char == "\"" { quoted.toggle() }
            if char == ",", !quoted {
                tags.append(value[start..<index].trimmingSpaces)
                start = value.index(after: index)
            }
            index = value.index(after: index)
        }
        tags.append(value[start...].trimmingSpaces)
        return tags.filter { !$0.isEmpty }
    }

    /// Whether a GET/HEAD request's conditionals make a stored response "not modified"
    /// (RFC 9110 §13.2.2: `If-None-Match` first, weak comparison; else `If-Modified-Since`).
    /// - Parameters:
    ///   - requestHeaders: The request fields.
    ///   - etag: The stored `ETag`, if any.
    ///   - lastModified: The stored `Last-Modified` as Unix seconds, if any.
    /// - Returns: `true` to answer 304.
    public static func notModified(
        requestHeaders: [(name: String, value: String)],
        etag: String?,
        lastModified: Int64?
    ) -> Bool {
        let ifNoneMatch = requestHeaders.values(named: "if-none-match")
        if !ifNoneMatch.isEmpty {
            let tags = ifNoneMatch.flatMap { Validators.tags($0) }
            if tags.contains("*") { return true }
            guard let etag else { return false }
            return tags.contains { weakMatch($0, etag) }
        }
        guard let since = requestHeaders.first(named: "if-modified-since").flatMap({ HTTPDate.parse($0) }),
            let lastModified
        else { return false }
        return lastModified <= since
    }

    /// Whether an `If-Range` condition holds, so that `Range` applies (RFC 9110 §13.1.5): a strong
    /// entity-tag match, or an HTTP date equal to a `Last-Modified` that is itself strong
    /// (at least one second older than the response's `Date`).
    /// - Parameters:
    ///   - value: The `If-Range` value, or `nil` (then `Range` applies).
    ///   - etag: The stored `ETag`.
    ///   - lastModified: The stored `Last-Modified` (Unix seconds).
    ///   - date: The stored `Date` (Unix seconds).
    /// - Returns: `true` when the range may be served.
    public static func ifRangeHolds(_ value: String?, etag: String?, lastModified: Int64?, date: Int64?) -> Bool {
        guard let value else { return true }
        let text = value.trimmingSpaces
        if text.hasPrefix("\"") || text.hasPrefix("W/") {
            guard let etag else { return false }
            return strongMatch(text, etag)
        }
        guard let when = HTTPDate.parse(String(text)), let lastModified, let date, date - lastModified >= 1 else { return false }
        return when == lastModified
    }
}
