// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import MoxyCache

/// The operator's allow and deny rules for signed-URL targets, in the spirit of go-camo's filter
/// ruleset: when there are allow rules, a target must match one; then any deny rule refuses it.
/// Checked on the signed URL and on every redirect hop; denied networks are checked by the
/// ``AddressPolicy`` on every resolved and connected address.
///
/// A rule is one of:
/// - a host: `example.com` (that host), `*.example.com` (its subdomains);
/// - a host and a path glob: `example.com/images/*` (`*` matches any run of characters);
/// - an exact URL: `https://bad.example/one.png` (blocks one URL without rotating keys);
/// - for deny rules, a CIDR network: `203.0.113.0/24`.
public struct TargetFilter: Sendable, Hashable {
    /// One host / path / URL rule.
    public enum Rule: Sendable, Hashable {
        /// A host glob and an optional path glob.
        case host(String, path: String?)
        /// One exact URL.
        case url(String)

        /// Parses a rule.
        /// - Parameter text: The rule text.
        /// - Returns: The rule, or `nil` when malformed.
        public init?(_ text: String) {
            let text = String(text.trimmingSpaces)
            guard !text.isEmpty, !text.contains(" ") else { return nil }
            if text.contains("://") {
                guard TargetURL(text) != nil else { return nil }
                self = .url(text)
                return
            }
            let slash = text.firstIndex(of: "/")
            let host = String(slash.map { text[..<$0] } ?? text[...]).lowercased()
            guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || "-.*:[]".contains($0) }) else { return nil }
            guard !host.dropFirst().contains("*"), !host.hasPrefix("*") || host.hasPrefix("*.") else { return nil }
            self = .host(host, path: slash.map { String(text[$0...]) })
        }

        /// Whether the rule matches a target.
        /// - Parameter target: The parsed target URL.
        /// - Returns: `true` on a match.
        public func matches(_ target: TargetURL) -> Bool {
            switch self {
            case .url(let url):
                return url == target.text
            case .host(let host, let path):
                let hostMatches = host.hasPrefix("*.") ? target.host.hasSuffix(host.dropFirst(1)) : target.host == host
                guard hostMatches else { return false }
                guard let path else { return true }
                return Self.glob(path[...], target.pathAndQuery[...])
            }
        }

        /// `*` matches any run of characters (including none); everything else matches itself.
        static func glob(_ pattern: Substring, _ text: Substring) -> Bool {
            guard let star = pattern.firstIndex(of: "*") else { return pattern == text }
            let head = pattern[..<star]
            guard text.hasPrefix(head) else { return false }
            let restPattern = pattern[pattern.index(after: star)...]
            var rest = text.dropFirst(head.count)
            while true {
                if glob(restPattern, rest) { return true }
                guard !rest.isEmpty else { return false }
                rest = rest.dropFirst()
            }
        }
    }

    /// Allow rules; when not empty, a target must match one.
    public var allow: [Rule]
    /// Deny rules; a target matching one is refused.
    public var deny: [Rule]

    /// Creates a filter.
    /// - Parameters:
    ///   - allow: Allow rules (default none: everything the address policy allows).
    ///   - deny: Deny rules (default none).
    public init(allow: [Rule] = [], deny: [Rule] = []) {
        self.allow = allow
        self.deny = deny
    }

    /// Whether a target is refused by the rules.
    /// - Parameter target: The target (or redirect hop).
    /// - Returns: `true` when refused.
    public func refuses(_ target: TargetURL) -> Bool {
        if !allow.isEmpty, !allow.contains(where: { $0.matches(target) }) { return true }
        return deny.contains { $0.matches(target) }
    }
}
