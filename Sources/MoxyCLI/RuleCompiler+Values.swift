// SPDX-License-Identifier: Apache-2.0

import MoxyValidation
import MoxyYAML

extension RuleCompiler {
    /// Compiles one predicate of a `pointer:` rule (`equals: 500`, `in: [a, b]`, `lt: 3`).
    func pointerPredicate(_ key: String, _ value: ConfigNode, at: String) throws -> ValidationRule.JSONPredicate {
        func number() throws -> Double {
            guard let text = value.scalarText, let number = Double(text), number.isFinite else {
                throw fail(at, "\(key) needs a number")
            }
            return number
        }
        func flag() throws -> Bool {
            guard let text = value.scalarText, let flag = ValueParsers.bool(text) else { throw fail(at, "\(key) must be true or false") }
            return flag
        }
        switch key {
        case "exists": return try flag() ? .exists : .absent
        case "absent": return try flag() ? .absent : .exists
        case "equals": return .equals(Self.json(value))
        case "not_equals": return .notEquals(Self.json(value))
        case "in":
            let items = value.items
            guard !items.isEmpty else { throw fail(at, "in needs a list of values") }
            return .oneOf(items.map(Self.json))
        case "lt": return .lessThan(try number())
        case "lte": return .atMost(try number())
        case "gt": return .greaterThan(try number())
        case "gte": return .atLeast(try number())
        case "matches":
            guard let text = value.scalarText else { throw fail(at, "matches needs a regular expression") }
            return .matches(try pattern(text, at: at))
        case "type":
            let text = value.scalarText ?? ""
            guard let kind = JSONValue.Kind(rawValue: text == "boolean" ? "bool" : text) else {
                throw fail(at, "type must be one of object, array, string, number, bool, null")
            }
            return .type(kind)
        case "min_items":
            guard let text = value.scalarText, let count = Int(text), count >= 0 else { throw fail(at, "min_items needs a whole number") }
            return .minItems(count)
        default:
            throw fail(at, "unknown key '\(key)' for a pointer rule (\(Self.pointerPredicates.joined(separator: ", ")))")
        }
    }

    /// A value as written in a rule, for generated rule names (`"text"`, `500`, `[a, b]`).
    static func summary(_ node: ConfigNode) -> String {
        switch node.shape {
        case .list?: "[" + node.items.map(summary).joined(separator: ", ") + "]"
        case .map(let keys)?: "{" + keys.map { "\($0): \(summary(node[$0]))" }.joined(separator: ", ") + "}"
        case .scalar?, nil:
            node.isQuoted ? "\"\(node.text ?? "")\"" : node.text ?? ""
        }
    }

    /// A value as JSON: quoted scalars are strings; plain ones are `null`, booleans or numbers when
    /// they read as such.
    static func json(_ node: ConfigNode) -> JSONValue {
        switch node.shape {
        case .list?: return .array(node.items.map(json))
        case .map(let keys)?: return .object(keys.map { JSONValue.Member(name: $0, value: json(node[$0])) })
        case .scalar?, nil:
            let text = node.text ?? ""
            if node.isQuoted { return .string(text) }
            switch text {
            case "null", "~": return .null
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: return Double(text).flatMap { $0.isFinite ? .number($0) : nil } ?? .string(text)
            }
        }
    }
}
