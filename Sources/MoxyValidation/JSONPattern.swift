// SPDX-License-Identifier: Apache-2.0

/// A JSON Pointer (RFC 6901) in which a token `*` stands for every item of an array (and every
/// member of an object): `/*/id` is the `id` of each item of a collection, `/*/categories/*` every
/// category of every item. Routes use these to read tags from a body and to pick the strings whose
/// image URLs are rewritten.
public struct JSONPattern: Sendable, Hashable, CustomStringConvertible {
    /// One step of a pattern.
    public enum Token: Sendable, Hashable {
        /// A member name (or, when it is an index, an array item).
        case name(String)
        /// Every item of an array and every member of an object.
        case any
    }

    /// The steps, unescaped.
    public let tokens: [Token]
    /// The pattern as written.
    public let description: String

    /// Parses a pattern: a JSON Pointer whose tokens may be `*` (`~0` and `~1` escape `~` and `/`,
    /// so a member literally named `*` cannot be told apart from the wildcard, which matches it too).
    /// - Throws: ``JSONPointer/ParseError`` as for a pointer.
    public init(_ text: String) throws(JSONPointer.ParseError) {
        let pointer = try JSONPointer(text)
        tokens = pointer.tokens.map { $0 == "*" ? .any : .name($0) }
        description = text
    }

    /// Whether the pattern has a wildcard (it may select many values).
    public var hasWildcard: Bool { tokens.contains(.any) }
}
