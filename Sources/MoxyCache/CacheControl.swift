// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP

/// The directives of one or more `Cache-Control` field values (RFC 9111 §5.2).
///
/// Names are case-insensitive; values may be tokens or quoted strings. When a directive repeats,
/// the first occurrence wins (RFC 9111 §4.2.1 allows this), and a delta-seconds value that does not
/// parse is kept as present-but-invalid so that callers can treat it as zero.
public struct CacheControl: Sendable, Hashable {
    /// Directive names (lowercased) to their values (`nil` when the directive has no argument).
    public private(set) var directives: [String: String?] = [:]

    /// Parses field values.
    /// - Parameter values: Each `Cache-Control` field line's value.
    public init(_ values: some Sequence<String>) {
        var quoted: Set<String> = []
        for value in values { parse(value, quoted: &quoted) }
    }

    /// Parses a targeted field (`CDN-Cache-Control`, RFC 9213), a structured dictionary whose
    /// delta-seconds directives must be integers: one of another type (a string `"60"`, a decimal
    /// `1.5`, a negative number) is ignored (RFC 9213 §2.1), never read as a lifetime.
    /// - Parameter values: The field's values (already checked to be a valid dictionary).
    public init(targeted values: some Sequence<String>) {
        var quoted: Set<String> = []
        for value in values { parse(value, quoted: &quoted) }
        for name in Self.deltaSecondsDirectives {
            guard let entry = directives[name] else { continue }
            let isInteger = entry.map { !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } } ?? false
            if !isInteger || quoted.contains(name) { directives[name] = nil }
        }
    }

    /// The directives whose value is a number of seconds.
    static let deltaSecondsDirectives = ["max-age", "s-maxage", "stale-while-revalidate", "stale-if-error"]

    /// Whether the directive is present.
    /// - Parameter name: A lowercase directive name.
    /// - Returns: `true` when present, with or without a value.
    public func has(_ name: String) -> Bool { directives[name] != nil }

    /// The delta-seconds value of a directive.
    /// - Parameter name: A lowercase directive name such as `max-age`.
    /// - Returns: `nil` when absent; `0` when present but not a valid non-negative integer
    ///   (the safe reading, RFC 9111 §1.2.2); huge values are capped at 2^31.
    public func seconds(_ name: String) -> Int64? {
        guard let entry = directives[name] else { return nil }
        guard let text = entry, !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return 0 }
        if text.utf8.count > 10 { return 2_147_483_648 }
        return min(Int64(text) ?? 0, 2_147_483_648)
    }

    /// Whether the directive is present without an argument (`no-cache`, not `no-cache="Set-Cookie"`).
    /// - Parameter name: A lowercase directive name.
    /// - Returns: `true` when present with no value.
    public func hasUnqualified(_ name: String) -> Bool {
        guard let entry = directives[name] else { return false }
        guard let value = entry else { return true }
        return value.trimmingSpaces.isEmpty
    }

    /// The field names listed by a qualified directive such as `private="Set-Cookie, X-User"` (lowercased).
    /// - Parameter name: A lowercase directive name.
    /// - Returns: The names, empty when absent or unqualified.
    public func fieldNames(_ name: String) -> [String] {
        guard let entry = directives[name], let list = entry else { return [] }
        return list.split(separator: ",").map { $0.trimmingSpaces.lowercased() }.filter { !$0.isEmpty }
    }

    private mutating func parse(_ value: String, quoted: inout Set<String>) {
        var chars = Substring(value)
        while !chars.isEmpty {
            chars = chars.drop(while: { $0 == " " || $0 == "\t" || $0 == "," })
            let name = chars.prefix(while: { $0 != "=" && $0 != "," && $0 != " " && $0 != "\t" })
            chars = chars.dropFirst(name.count).drop(while: { $0 == " " || $0 == "\t" })
            var argument: String? = nil
            if chars.first == "=" {
                chars = chars.dropFirst().drop(while: { $0 == " " || $0 == "\t" })
                if chars.first == "\"" {
                    var text = ""
                    var index = chars.index(after: chars.startIndex)
                    while index < chars.endIndex, chars[index] != "\"" {
                        if chars[index] == "\\" { index = chars.index(after: index) }
                        if index < chars.endIndex { text.append(chars[index]) }
                        index = index < chars.endIndex ? chars.index(after: index) : index
                    }
                    chars = index < chars.endIndex ? chars[chars.index(after: index)...] : ""
                    argument = text
                    quoted.insert(name.lowercased())
                } else {
                    let token = chars.prefix(while: { $0 != "," && $0 != " " && $0 != "\t" })
                    chars = chars.dropFirst(token.count)
                    argument = String(token)
                }
            }
            chars = chars.drop(while: { $0 != "," })
            if !name.isEmpty {
                let key = name.lowercased()
                if directives[key] == nil { directives[key] = .some(argument) }
            }
        }
    }
}
