// SPDX-License-Identifier: Apache-2.0

import MoxyYAML
import MoxyValidation

/// Reads a `validate:` section (`routes.NAME.validate.*`, `signed.validate.*`) into compiled rules.
///
/// Every rule compiles here, once, at load time; a bad one is an error naming the route, the rule
/// and the reason.
enum ValidationSettings {
    /// The keys of a `validate:` section, with what each does (documentation order).
    static let fields: [(name: String, help: String)] = [
        ("statuses", "allowed statuses, e.g. [200, 404]"),
        ("content_types", "allowed media types: type/subtype, type/* or */*"),
        ("min_bytes", "smallest allowed body"),
        ("max_bytes", "largest allowed body"),
        ("json", "the body must parse as JSON"),
        ("deny_body", "texts the body must not contain, e.g. [\"Fatal error\"]"),
        ("deny_body_regex", "regular expressions the body must not match"),
        ("rules", "a list of rules: pointer, header, status, content_type, min_bytes, max_bytes, json, deny_body, deny_body_regex, all, any, not"),
        ("keep_last_good", "how long past its freshness the last good entry keeps being served (default 7d)"),
        ("on_invalid", "with no good entry: pass (forward the response uncached, default) or error (502)"),
        ("validate_max_bytes", "bodies up to this size are buffered and validated (default 2MiB)"),
        ("too_large", "a larger body: fail (default, rule too_large) or pass"),
        ("backoff", "first delay before asking the upstream again after an invalid response (default 5s, doubles)"),
        ("max_backoff", "longest delay between attempts (default 5m)"),
    ]

    /// The predicates a `pointer:` rule takes.
    static let pointerPredicates = ["exists", "absent", "equals", "not_equals", "in", "lt", "lte", "gt", "gte", "matches", "type", "min_items"]
    /// The predicates a `header:` rule takes.
    static let headerPredicates = ["present", "absent", "equals", "matches"]

    /// Builds the settings of a section.
    /// - Parameters:
    ///   - values: The section's leaves by path below `validate.` (e.g. `statuses`, `rules`).
    ///   - context: The section's path for messages, e.g. `routes.wp.validate`.
    /// - Returns: The settings, or `nil` when the section is empty.
    static func build(_ values: [String: YAMLSubset.Value], context: String) throws -> ValidationConfiguration? {
        guard !values.isEmpty else { return nil }
        for key in values.keys where !fields.contains(where: { $0.name == key }) {
            throw SettingsError(.unknownKey, "unknown key '\(context).\(key)'")
        }
        func nodes(_ key: String) -> [YAMLSubset.Node] {
            switch values[key] {
            case .scalar(let text)?: [.scalar(text, quoted: false)]
            case .list(let items)?: items.map { .scalar($0, quoted: false) }
            case .nodes(let items)?: items
            case nil: []
            }
        }
        func scalar(_ key: String) throws -> String? {
            switch values[key] {
            case .scalar(let text)?: return text
            case nil: return nil
            default: throw SettingsError(.invalidValue, "invalid \(context).\(key): a single value is expected")
            }
        }
        var configuration = ValidationConfiguration()
        var rules: [ValidationRule] = []
        let compiler = RuleCompiler(context: context)
        for key in ["statuses", "content_types", "min_bytes", "max_bytes", "json", "deny_body", "deny_body_regex"] {
            let items = nodes(key)
            guard !items.isEmpty else { continue }
            let ruleKey = ["statuses": "status", "content_types": "content_type"][key] ?? key
            if key.hasPrefix("deny_body") {
                for item in items { rules.append(try compiler.rule(.map([.init(key: ruleKey, value: item)]), at: key)) }
            } else {
                let isList = key == "statuses" || key == "content_types"
                let value: YAMLSubset.Node = isList ? .list(items) : items[0]
                guard isList || items.count == 1 else { throw SettingsError(.invalidValue, "invalid \(context).\(key): a single value is expected") }
                rules.append(try compiler.rule(.map([.init(key: ruleKey, value: value)]), at: key))
            }
        }
        for (index, node) in nodes("rules").enumerated() {
            rules.append(try compiler.rule(node, at: "rules[\(index)]"))
        }
        configuration.rules = rules
        if let text = try scalar("keep_last_good") {
            guard let value = ValueParsers.duration(text), value <= 10 * 365 * 86_400 else {
                throw SettingsError(.invalidValue, "invalid \(context).keep_last_good: '\(text)' (use a duration such as 7d)")
            }
            configuration.keepLastGood = Int64(value)
        }
        if let text = try scalar("on_invalid") {
            guard let value = ValidationConfiguration.OnInvalid(rawValue: text) else {
                throw SettingsError(.invalidValue, "invalid \(context).on_invalid: '\(text)' (use pass or error)")
            }
            configuration.onInvalid = value
        }
        if let text = try scalar("validate_max_bytes") {
            guard let value = ValueParsers.size(text), value > 0, value <= 1 << 30 else {
                throw SettingsError(.invalidValue, "invalid \(context).validate_max_bytes: '\(text)' (use a size such as 2MiB)")
            }
            configuration.validateMaxBytes = value
        }
        if let text = try scalar("too_large") {
            guard text == "pass" || text == "fail" else {
                throw SettingsError(.invalidValue, "invalid \(context).too_large: '\(text)' (use pass or fail)")
            }
            configuration.passTooLarge = text == "pass"
        }
        for key in ["backoff", "max_backoff"] {
            guard let text = try scalar(key) else { continue }
            guard let value = ValueParsers.duration(text), value <= 86_400 else {
                throw SettingsError(.invalidValue, "invalid \(context).\(key): '\(text)' (use a duration such as 5s)")
            }
            if key == "backoff" { configuration.backoff = value } else { configuration.maxBackoff = value }
        }
        return configuration
    }
}

/// Compiles one rule written as a YAML mapping.
struct RuleCompiler {
    /// The section's path for messages.
    let context: String

    func fail(_ at: String, _ message: String) -> SettingsError {
        SettingsError(.invalidValue, "invalid rule \(context).\(at): \(message)")
    }

    /// Compiles a rule mapping such as `{pointer: /code, absent: true}`.
    func rule(_ node: YAMLSubset.Node, at: String) throws -> ValidationRule {
        guard case .map(let entries) = node, !entries.isEmpty else {
            throw fail(at, "a rule is a mapping such as {pointer: /code, absent: true}")
        }
        var named: String? = nil
        var rest: [YAMLSubset.Node.Entry] = []
        for entry in entries {
            if entry.key == "name" {
                guard let text = entry.value.text, !text.isEmpty else { throw fail(at, "name must be text") }
                named = text
            } else {
                rest.append(entry)
            }
        }
        let at = named.map { "\(at) (\($0))" } ?? at
        func value(_ key: String) -> YAMLSubset.Node? { rest.first(where: { $0.key == key })?.value }
        let kinds = rest.map(\.key).filter {
            ["pointer", "header", "status", "content_type", "min_bytes", "max_bytes", "json", "deny_body", "deny_body_regex", "all", "any", "not"]
                .contains($0)
        }
        guard kinds.count == 1, let kind = kinds.first else {
            throw fail(at, kinds.isEmpty ? "no rule kind (pointer, header, status, content_type, json, deny_body, all, any, not …)" : "one rule kind per rule, found \(kinds.joined(separator: ", "))")
        }
        guard let kindValue = value(kind) else { throw fail(at, "no \(kind) value") }
        let predicates = rest.filter { $0.key != kind }
        func noPredicates() throws {
            if let extra = predicates.first { throw fail(at, "unknown key '\(extra.key)' for a \(kind) rule") }
        }
        func text(_ node: YAMLSubset.Node, _ what: String) throws -> String {
            guard let text = node.text else { throw fail(at, "\(what) must be a single value") }
            return text
        }
        func texts(_ node: YAMLSubset.Node, _ what: String) throws -> [String] {
            if case .list(let items) = node { return try items.map { try text($0, what) } }
            return [try text(node, what)]
        }
        func pattern(_ text: String) throws -> Pattern {
            do { return try Pattern(text) } catch { throw fail(at, "bad regular expression '\(text)': \(error)") }
        }
        func flag(_ node: YAMLSubset.Node, _ key: String) throws -> Bool {
            guard let text = node.text, let flag = ValueParsers.bool(text) else { throw fail(at, "\(key) must be true or false") }
            return flag
        }
        func rules(_ node: YAMLSubset.Node) throws -> [ValidationRule] {
            guard case .list(let items) = node, !items.isEmpty else { throw fail(at, "\(kind) takes a list of rules") }
            return try items.enumerated().map { try rule($1, at: "\(at).\(kind)[\($0)]") }
        }
        let check: ValidationRule.Check
        let description: String
        switch kind {
        case "pointer":
            let written = try text(kindValue, "pointer")
            let pointer: JSONPointer
            do { pointer = try JSONPointer(written) } catch { throw fail(at, "\(error)") }
            guard !predicates.isEmpty else {
                throw fail(at, "a pointer rule needs a predicate (\(ValidationSettings.pointerPredicates.joined(separator: ", ")))")
            }
            var checks: [ValidationRule] = []
            for predicate in predicates {
                let compiled = try pointerPredicate(predicate, at: at)
                checks.append(ValidationRule(name: "\(written) \(predicate.key) \(Self.summary(predicate.value))", check: .pointer(pointer, compiled)))
            }
            if checks.count == 1 { return named.map { ValidationRule(name: $0, check: checks[0].check) } ?? checks[0] }
            check = .all(checks)
            description = checks.map(\.name).joined(separator: ", ")
        case "header":
            let name = try text(kindValue, "header").lowercased()
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) }) else {
                throw fail(at, "bad header name '\(name)'")
            }
            guard predicates.count == 1, let predicate = predicates.first,
                ValidationSettings.headerPredicates.contains(predicate.key)
            else {
                throw fail(at, "a header rule takes one of \(ValidationSettings.headerPredicates.joined(separator: ", "))")
            }
            switch predicate.key {
            case "present": check = .header(name, try flag(predicate.value, "present") ? .present : .absent)
            case "absent": check = .header(name, try flag(predicate.value, "absent") ? .absent : .present)
            case "equals": check = .header(name, .equals(try text(predicate.value, "equals")))
            default: check = .header(name, .matches(try pattern(try text(predicate.value, "matches"))))
            }
            description = "header \(name) \(predicate.key) \(Self.summary(predicate.value))"
        case "status":
            try noPredicates()
            let statuses = try texts(kindValue, "status").map { text in
                guard let status = Int(text), (100...599).contains(status) else { throw fail(at, "'\(text)' is not a status") }
                return status
            }
            check = .status(Set(statuses))
            description = "status"
        case "content_type":
            try noPredicates()
            let types = try texts(kindValue, "content_type").map { $0.lowercased() }
            for type in types where !MoxySettings.isContentTypePattern(type) { throw fail(at, "'\(type)' is not a media type") }
            check = .contentType(types)
            description = "content_type"
        case "min_bytes", "max_bytes":
            try noPredicates()
            let written = try text(kindValue, kind)
            guard let size = ValueParsers.size(written) else { throw fail(at, "'\(written)' is not a size") }
            check = kind == "min_bytes" ? .minBytes(size) : .maxBytes(size)
            description = kind
        case "json":
            try noPredicates()
            guard try flag(kindValue, "json") else { throw fail(at, "json: false checks nothing; remove it") }
            check = .json
            description = "json"
        case "deny_body":
            try noPredicates()
            let written = try text(kindValue, "deny_body")
            guard !written.isEmpty else { throw fail(at, "deny_body needs a text") }
            check = .bodyDenies(Array(written.utf8))
            description = "deny_body \(Self.summary(kindValue))"
        case "deny_body_regex":
            try noPredicates()
            check = .bodyDeniesPattern(try pattern(try text(kindValue, "deny_body_regex")))
            description = "deny_body_regex \(Self.summary(kindValue))"
        case "all", "any":
            try noPredicates()
            let children = try rules(kindValue)
            check = kind == "all" ? .all(children) : .any(children)
            description = kind + "(" + children.map(\.name).joined(separator: "; ") + ")"
        default:  // not
            try noPredicates()
            let inner = try rule(kindValue, at: "\(at).not")
            check = .not(inner)
            description = "not(\(inner.name))"
        }
        return ValidationRule(name: named ?? description, check: check)
    }

    func pointerPredicate(_ entry: YAMLSubset.Node.Entry, at: String) throws -> ValidationRule.JSONPredicate {
        func number() throws -> Double {
            guard let text = entry.value.text, let value = Double(text), value.isFinite else {
                throw fail(at, "\(entry.key) needs a number")
            }
            return value
        }
        func flag() throws -> Bool {
            guard let text = entry.value.text, let flag = ValueParsers.bool(text) else { throw fail(at, "\(entry.key) must be true or false") }
            return flag
        }
        switch entry.key {
        case "exists": return try flag() ? .exists : .absent
        case "absent": return try flag() ? .absent : .exists
        case "equals": return .equals(Self.json(entry.value))
        case "not_equals": return .notEquals(Self.json(entry.value))
        case "in":
            guard case .list(let items) = entry.value, !items.isEmpty else { throw fail(at, "in needs a list of values") }
            return .oneOf(items.map(Self.json))
        case "lt": return .lessThan(try number())
        case "lte": return .atMost(try number())
        case "gt": return .greaterThan(try number())
        case "gte": return .atLeast(try number())
        case "matches":
            guard let text = entry.value.text else { throw fail(at, "matches needs a regular expression") }
            do { return .matches(try Pattern(text)) } catch { throw fail(at, "bad regular expression '\(text)': \(error)") }
        case "type":
            let text = entry.value.text ?? ""
            guard let kind = JSONValue.Kind(rawValue: text == "boolean" ? "bool" : text) else {
                throw fail(at, "type must be one of object, array, string, number, bool, null")
            }
            return .type(kind)
        case "min_items":
            guard let text = entry.value.text, let count = Int(text), count >= 0 else { throw fail(at, "min_items needs a whole number") }
            return .minItems(count)
        default:
            throw fail(at, "unknown key '\(entry.key)' for a pointer rule (\(ValidationSettings.pointerPredicates.joined(separator: ", ")))")
        }
    }

    /// A value as written in a rule, for generated rule names (`"text"`, `500`, `[a, b]`).
    static func summary(_ node: YAMLSubset.Node) -> String {
        switch node {
        case .scalar(let text, let quoted): quoted ? "\"\(text)\"" : text
        case .list(let items): "[" + items.map(summary).joined(separator: ", ") + "]"
        case .map(let entries): "{" + entries.map { "\($0.key): \(summary($0.value))" }.joined(separator: ", ") + "}"
        }
    }

    /// A YAML value as JSON: quoted scalars are strings; plain ones are `null`, booleans or numbers when they read as such.
    static func json(_ node: YAMLSubset.Node) -> JSONValue {
        switch node {
        case .scalar(let text, let quoted):
            if quoted { return .string(text) }
            switch text {
            case "null", "~": return .null
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: return Double(text).flatMap { $0.isFinite ? .number($0) : nil } ?? .string(text)
            }
        case .list(let items): return .array(items.map(json))
        case .map(let entries): return .object(entries.map { JSONValue.Member(name: $0.key, value: json($0.value)) })
        }
    }
}
