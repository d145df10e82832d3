// SPDX-License-Identifier: Apache-2.0

/// One compiled rule a response must pass to be stored: a check and the name it is reported under
/// (in `Cache-Status` details, logs and the failure counter).
public struct ValidationRule: Sendable {
    /// The name reported when the rule fails (the operator's `name:` or a generated description).
    public var name: String
    /// What the rule checks.
    public var check: Check

    /// Creates a rule.
    public init(name: String, check: Check) {
        self.name = name
        self.check = check
    }

    /// What a rule checks.
    public indirect enum Check: Sendable {
        /// The status is one of these.
        case status(Set<Int>)
        /// The media type (without parameters, lowercase) matches one of these patterns:
        /// `type/subtype`, `type/*` or `*/*`.
        case contentType([String])
        /// The body has at least this many bytes.
        case minBytes(Int)
        /// The body has at most this many bytes.
        case maxBytes(Int)
        /// A predicate on a response field (name lowercase; any of several fields may satisfy it).
        case header(String, HeaderPredicate)
        /// The body parses as JSON.
        case json
        /// A predicate on the value a JSON pointer refers to (the body must parse as JSON).
        case pointer(JSONPointer, JSONPredicate)
        /// The body does not contain these bytes.
        case bodyDenies([UInt8])
        /// The body does not match this regular expression.
        case bodyDeniesPattern(Pattern)
        /// Every rule passes.
        case all([ValidationRule])
        /// At least one rule passes.
        case any([ValidationRule])
        /// The rule fails.
        case not(ValidationRule)
    }

    /// A predicate on a response field.
    public enum HeaderPredicate: Sendable {
        /// The field is present.
        case present
        /// The field is absent.
        case absent
        /// A field has exactly this value (surrounding spaces ignored).
        case equals(String)
        /// A field's value matches this expression.
        case matches(Pattern)
    }

    /// A predicate on the value at a JSON pointer.
    public enum JSONPredicate: Sendable {
        /// The pointer refers to a value.
        case exists
        /// The pointer refers to nothing.
        case absent
        /// The value equals this one (numbers by value).
        case equals(JSONValue)
        /// The value is absent or differs from this one.
        case notEquals(JSONValue)
        /// The value equals one of these.
        case oneOf([JSONValue])
        /// The value is a number below this one.
        case lessThan(Double)
        /// The value is a number at most this one.
        case atMost(Double)
        /// The value is a number above this one.
        case greaterThan(Double)
        /// The value is a number at least this one.
        case atLeast(Double)
        /// The value is a string matching this expression (searched, not anchored).
        case matches(Pattern)
        /// The value has this type.
        case type(JSONValue.Kind)
        /// The value is an array with at least this many items.
        case minItems(Int)
    }
}

/// A regular expression compiled once, with the text it came from.
public struct Pattern: @unchecked Sendable, CustomStringConvertible {
    // `Regex<AnyRegexOutput>` is immutable after compilation and only read while matching.
    private let regex: Regex<AnyRegexOutput>
    /// The expression as written.
    public let description: String

    /// Compiles an expression (Swift regex syntax, which accepts the PCRE forms such as `(?i)`).
    /// - Throws: The compiler's error when the syntax is wrong.
    public init(_ text: String) throws {
        regex = try Regex(text)
        description = text
    }

    /// Whether the expression matches somewhere in `text`.
    public func found(in text: String) -> Bool {
        (try? regex.firstMatch(in: text)) != nil
    }
}
