// SPDX-License-Identifier: Apache-2.0

import MoxyValidation
import MoxyYAML

/// Compiles one validation rule written as a mapping in the config file (`{pointer: /code, absent: true}`).
struct RuleCompiler {
    /// The section's path for messages.
    let context: String

    /// The kinds of rule; a rule mapping has exactly one of them.
    static let kinds = ["pointer", "header", "status", "content_type", "min_bytes", "max_bytes", "json", "deny_body", "deny_body_regex", "all", "any", "not"]
    /// The predicates a `pointer:` rule takes.
    static let pointerPredicates = ["exists", "absent", "equals", "not_equals", "in", "lt", "lte", "gt", "gte", "matches", "type", "min_items"]
    /// The predicates a `header:` rule takes.
    static let headerPredicates = ["present", "absent", "equals", "matches"]

    func fail(_ at: String, _ message: String) -> SettingsError {
        SettingsError(.invalidValue, "invalid rule \(context).\(at): \(message)")
    }

    /// Compiles a rule mapping.
    func rule(_ node: ConfigNode, at: String) throws -> ValidationRule {
        guard node.isMap, !node.keys.isEmpty else {
            throw fail(at, "a rule is a mapping such as {pointer: /code, absent: true}")
        }
        var named: String? = nil
        if node.keys.contains("name") {
            guard let text = node["name"].scalarText, !text.isEmpty else { throw fail(at, "name must be text") }
            named = text
        }
        let keys = node.keys.filter { $0 != "name" }
        let at = named.map { "\(at) (\($0))" } ?? at
        let kinds = keys.filter { Self.kinds.contains($0) }
        guard kinds.count == 1, let kind = kinds.first else {
            throw fail(at, kinds.isEmpty ? "no rule kind (pointer, header, status, content_type, json, deny_body, all, any, not …)" : "one rule kind per rule, found \(kinds.joined(separator: ", "))")
        }
        let kindValue = node[kind]
        let predicates = keys.filter { $0 != kind }
        func noPredicates() throws {
            if let extra = predicates.first { throw fail(at, "unknown key '\(extra)' for a \(kind) rule") }
        }
        func text(_ what: String) throws -> String {
            guard let text = kindValue.scalarText else { throw fail(at, "\(what) must be a single value") }
            return text
        }
        func texts() throws -> [String] {
            guard case .list? = kindValue.shape else { return [try text(kind)] }
            return try kindValue.items.map { item in
                guard let text = item.scalarText else { throw fail(at, "\(kind) must be a single value") }
                return text
            }
        }
        func rules() throws -> [ValidationRule] {
            let items = kindValue.items
            guard !items.isEmpty else { throw fail(at, "\(kind) takes a list of rules") }
            return try items.enumerated().map { try rule($1, at: "\(at).\(kind)[\($0)]") }
        }
        func withName(_ rule: ValidationRule) -> ValidationRule {
            named.map { ValidationRule(name: $0, check: rule.check) } ?? rule
        }
        let check: ValidationRule.Check
        let description: String
        switch kind {
        case "pointer":
            let written = try text("pointer")
            let pointer: JSONPointer
            do { pointer = try JSONPointer(written) } catch { throw fail(at, "\(error)") }
            guard !predicates.isEmpty else {
                throw fail(at, "a pointer rule needs a predicate (\(Self.pointerPredicates.joined(separator: ", ")))")
            }
            var checks: [ValidationRule] = []
            for predicate in predicates {
                let compiled = try pointerPredicate(predicate, node[predicate], at: at)
                checks.append(ValidationRule(name: "\(written) \(predicate) \(Self.summary(node[predicate]))", check: .pointer(pointer, compiled)))
            }
            if checks.count == 1 { return named.map { ValidationRule(name: $0, check: checks[0].check) } ?? checks[0] }
            check = .all(checks)
            description = checks.map(\.name).joined(separator: ", ")
        case "header":
            let name = try text("header").lowercased()
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) }) else {
                throw fail(at, "bad header name '\(name)'")
            }
            guard predicates.count == 1, let predicate = predicates.first, Self.headerPredicates.contains(predicate) else {
                throw fail(at, "a header rule takes one of \(Self.headerPredicates.joined(separator: ", "))")
            }
            let value = node[predicate]
            switch predicate {
            case "present": check = .header(name, try flag(value, "present", at: at) ? .present : .absent)
            case "absent": check = .header(name, try flag(value, "absent", at: at) ? .absent : .present)
            case "equals":
                guard let text = value.scalarText else { throw fail(at, "equals must be a single value") }
                check = .header(name, .equals(text))
            default:
                guard let text = value.scalarText else { throw fail(at, "matches must be a single value") }
                check = .header(name, .matches(try pattern(text, at: at)))
            }
            description = "header \(name) \(predicate) \(Self.summary(value))"
        case "status":
            try noPredicates()
            return withName(try status(try texts(), at: at))
        case "content_type":
            try noPredicates()
            return withName(try contentType(try texts(), at: at))
        case "min_bytes", "max_bytes":
            try noPredicates()
            return withName(try size(kind, try text(kind), at: at))
        case "json":
            try noPredicates()
            return withName(try json(try text("json"), at: at))
        case "deny_body":
            try noPredicates()
            return withName(try denyBody(try text("deny_body"), summary: Self.summary(kindValue), at: at))
        case "deny_body_regex":
            try noPredicates()
            return withName(try denyBodyRegex(try text("deny_body_regex"), summary: Self.summary(kindValue), at: at))
        case "all", "any":
            try noPredicates()
            let children = try rules()
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

    /// `status: [200, 404]`.
    func status(_ texts: [String], at: String) throws -> ValidationRule {
        let statuses = try texts.map { text in
            guard let status = Int(text), (100...599).contains(status) else { throw fail(at, "'\(text)' is not a status") }
            return status
        }
        return ValidationRule(name: "status", check: .status(Set(statuses)))
    }

    /// `content_type: [application/json, "application/*+json"]`.
    func contentType(_ texts: [String], at: String) throws -> ValidationRule {
        let types = texts.map { $0.lowercased() }
        for type in types where !MoxySettings.isContentTypePattern(type) { throw fail(at, "'\(type)' is not a media type") }
        return ValidationRule(name: "content_type", check: .contentType(types))
    }

    /// `min_bytes: 2`, `max_bytes: 1MiB`.
    func size(_ kind: String, _ text: String, at: String) throws -> ValidationRule {
        guard let size = ValueParsers.size(text) else { throw fail(at, "'\(text)' is not a size") }
        return ValidationRule(name: kind, check: kind == "min_bytes" ? .minBytes(size) : .maxBytes(size))
    }

    /// `json: true`.
    func json(_ text: String, at: String) throws -> ValidationRule {
        guard let flag = ValueParsers.bool(text) else { throw fail(at, "json must be true or false") }
        guard flag else { throw fail(at, "json: false checks nothing; remove it") }
        return ValidationRule(name: "json", check: .json)
    }

    /// `deny_body: "Fatal error"`; `summary` is the text as written, for the rule's name.
    func denyBody(_ text: String, summary: String, at: String) throws -> ValidationRule {
        guard !text.isEmpty else { throw fail(at, "deny_body needs a text") }
        return ValidationRule(name: "deny_body \(summary)", check: .bodyDenies(Array(text.utf8)))
    }

    /// `deny_body_regex: "(?i)database error"`.
    func denyBodyRegex(_ text: String, summary: String, at: String) throws -> ValidationRule {
        ValidationRule(name: "deny_body_regex \(summary)", check: .bodyDeniesPattern(try pattern(text, at: at)))
    }

    func pattern(_ text: String, at: String) throws -> Pattern {
        do { return try Pattern(text) } catch { throw fail(at, "bad regular expression '\(text)': \(error)") }
    }

    func flag(_ node: ConfigNode, _ key: String, at: String) throws -> Bool {
        guard let text = node.scalarText, let flag = ValueParsers.bool(text) else { throw fail(at, "\(key) must be true or false") }
        return flag
    }
}
