// SPDX-License-Identifier: Apache-2.0

/// A parsed JSON value (RFC 8259), as the validation rules see it.
public indirect enum JSONValue: Sendable, Hashable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number (compared as a double: `500` equals `500.0`).
    case number(Double)
    /// A string, unescaped.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object, members in document order (duplicate names kept; lookups take the last, as browsers do).
    case object([Member])

    /// One member of an object.
    public struct Member: Sendable, Hashable {
        /// The member name, unescaped.
        public var name: String
        /// The value.
        public var value: JSONValue

        /// Creates a member.
        public init(name: String, value: JSONValue) {
            self.name = name
            self.value = value
        }
    }

    /// The JSON type names used by the `type` predicate.
    public enum Kind: String, Sendable, CaseIterable {
        /// An object.
        case object
        /// An array.
        case array
        /// A string.
        case string
        /// A number.
        case number
        /// `true` or `false`.
        case bool
        /// `null`.
        case null
    }

    /// This value's type.
    public var kind: Kind {
        switch self {
        case .null: .null
        case .bool: .bool
        case .number: .number
        case .string: .string
        case .array: .array
        case .object: .object
        }
    }

    /// The value of an object member (the last one of that name), if this is an object that has it.
    public subscript(member name: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { $0.name == name })?.value
    }

    /// Whether two values are equal as JSON: numbers by value, objects regardless of member order.
    public func jsonEquals(_ other: JSONValue) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.jsonEquals($1) }
        case (.object(let a), .object(let b)):
            let names = Set(a.map(\.name))
            guard names == Set(b.map(\.name)) else { return false }
            return names.allSatisfy { name in
                guard let left = self[member: name], let right = other[member: name] else { return false }
                return left.jsonEquals(right)
            }
        default: return false
        }
    }

    /// A short JSON rendering for messages (strings quoted, collections summarised).
    public var summary: String {
        switch self {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .number(let value): value == value.rounded() && abs(value) < 1e15 ? "\(Int64(value))" : "\(value)"
        case .string(let value): "\"" + (value.count > 60 ? value.prefix(60) + "…" : value) + "\""
        case .array(let items): "array of \(items.count)"
        case .object(let members): "object with \(members.count) members"
        }
    }
}
