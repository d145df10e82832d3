// SPDX-License-Identifier: Apache-2.0

import MoxyValidation
import MoxyYAML

extension ValidationConfiguration {
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

    /// Reads a `validate:` section (`routes.NAME.validate`, `signed.validate`) into compiled rules:
    /// every rule compiles here, once, at load time, and a bad one is an error naming the route,
    /// the rule and the reason.
    /// - Parameter node: The section.
    /// - Returns: `nil` when the config file has no such section.
    /// - Throws: ``SettingsError`` naming the key and the reason.
    init?(node: ConfigNode) throws {
        guard node.shape != nil else { return nil }
        try node.checkKeys(Self.fields.map(\.name))
        let context = node.context
        let compiler = RuleCompiler(context: context)
        var rules: [ValidationRule] = []
        if let statuses = try node["statuses"].list() { rules.append(try compiler.status(statuses, at: "statuses")) }
        if let types = try node["content_types"].list() { rules.append(try compiler.contentType(types, at: "content_types")) }
        for kind in ["min_bytes", "max_bytes"] {
            if let text = try node[kind].scalar() { rules.append(try compiler.size(kind, text, at: kind)) }
        }
        if let text = try node["json"].scalar() { rules.append(try compiler.json(text, at: "json")) }
        for text in try node["deny_body"].list() ?? [] { rules.append(try compiler.denyBody(text, summary: text, at: "deny_body")) }
        for text in try node["deny_body_regex"].list() ?? [] {
            rules.append(try compiler.denyBodyRegex(text, summary: text, at: "deny_body_regex"))
        }
        if case .scalar? = node["rules"].shape {
            throw SettingsError(.invalidValue, "invalid \(context).rules: a list of rules is expected")
        }
        for (index, item) in node["rules"].items.enumerated() {
            rules.append(try compiler.rule(item, at: "rules[\(index)]"))
        }
        // Through init(rules:): an initializer's own assignment would not run `rules`' didSet,
        // which computes the JSON paths the rules read.
        self.init(rules: rules)
        if let text = try node["keep_last_good"].scalar() {
            guard let value = ValueParsers.duration(text), value <= 10 * 365 * 86_400 else {
                throw SettingsError(.invalidValue, "invalid \(context).keep_last_good: '\(text)' (use a duration such as 7d)")
            }
            keepLastGood = Int64(value)
        }
        if let text = try node["on_invalid"].scalar() {
            guard let value = OnInvalid(rawValue: text) else {
                throw SettingsError(.invalidValue, "invalid \(context).on_invalid: '\(text)' (use pass or error)")
            }
            onInvalid = value
        }
        if let text = try node["validate_max_bytes"].scalar() {
            guard let value = ValueParsers.size(text), value > 0, value <= 1 << 30 else {
                throw SettingsError(.invalidValue, "invalid \(context).validate_max_bytes: '\(text)' (use a size such as 2MiB)")
            }
            validateMaxBytes = value
        }
        if let text = try node["too_large"].scalar() {
            guard text == "pass" || text == "fail" else {
                throw SettingsError(.invalidValue, "invalid \(context).too_large: '\(text)' (use pass or fail)")
            }
            passTooLarge = text == "pass"
        }
        for key in ["backoff", "max_backoff"] {
            guard let text = try node[key].scalar() else { continue }
            guard let value = ValueParsers.duration(text), value <= 86_400 else {
                throw SettingsError(.invalidValue, "invalid \(context).\(key): '\(text)' (use a duration such as 5s)")
            }
            if key == "backoff" { backoff = value } else { maxBackoff = value }
        }
    }
}
