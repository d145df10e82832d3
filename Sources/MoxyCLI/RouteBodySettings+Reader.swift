// SPDX-License-Identifier: Apache-2.0

import MoxyRewrite
import MoxyYAML
import MoxyServer
import MoxySigning
import MoxyValidation

extension BodyTagRules {
    /// The keys of a route's `tags:` section.
    static let fields = ["fixed", "from_body", "max_count", "max_length"]

    /// Reads a route's `tags:` section (`routes.NAME.tags`):
    ///
    /// ```yaml
    /// tags:
    ///   fixed: [wp-api]
    ///   from_body:
    ///     - {pointer: "/*/id", tag: "post-{}"}
    ///   max_count: 64
    ///   max_length: 128
    /// ```
    /// - Returns: `nil` when the file has no such section.
    /// - Throws: ``SettingsError`` naming the key and the reason.
    init?(node: ConfigNode) throws {
        guard node.shape != nil else { return nil }
        try node.checkKeys(Self.fields)
        let context = node.context
        let fixed = try node["fixed"].list() ?? []
        for tag in fixed where !Self.isValidTag(tag) {
            throw SettingsError(.invalidValue, "invalid \(context).fixed tag '\(tag)' (visible ASCII without spaces, commas, quotes or backslashes)")
        }
        if case .scalar? = node["from_body"].shape {
            throw SettingsError(.invalidValue, "invalid \(context).from_body: a list of {pointer, tag} is expected")
        }
        var rules: [Rule] = []
        for (index, item) in node["from_body"].items.enumerated() {
            let at = "\(context).from_body[\(index)]"
            try item.checkKeys(["pointer", "tag"])
            guard let pointer = try item["pointer"].scalar(), let template = try item["tag"].scalar() else {
                throw SettingsError(.invalidValue, "invalid \(at): both pointer and tag are needed, e.g. {pointer: \"/*/id\", tag: \"post-{}\"}")
            }
            let pattern: JSONPattern
            do { pattern = try JSONPattern(pointer) } catch { throw SettingsError(.invalidValue, "invalid \(at).pointer: \(error)") }
            guard template.contains("{}"), Self.isValidTag(template) else {
                throw SettingsError(.invalidValue, "invalid \(at).tag '\(template)': a tag with {} where the value goes")
            }
            rules.append(Rule(pattern: pattern, template: template))
        }
        // Through init(rules:): an initializer's own assignment would not run `rules`' didSet,
        // which builds the selector.
        self.init(fixed: fixed, rules: rules)
        if let value = try node["max_count"].scalar() {
            guard let count = Int(value), (1...1_000).contains(count) else {
                throw SettingsError(.invalidValue, "invalid \(context).max_count: '\(value)' (1 to 1000)")
            }
            maxCount = count
        }
        if let value = try node["max_length"].scalar() {
            guard let length = Int(value), (1...1_024).contains(length) else {
                throw SettingsError(.invalidValue, "invalid \(context).max_length: '\(value)' (1 to 1024)")
            }
            maxLength = length
        }
    }
}

extension JSONImageRewrite {
    /// The keys of a route's `rewrite_json:` section.
    static let fields = ["html", "urls", "base", "allow_hosts", "only_insecure", "origin", "key_id"]

    /// Reads a route's `rewrite_json:` section (`routes.NAME.rewrite_json`), with the policy
    /// knobs of `moxy rewrite`:
    ///
    /// ```yaml
    /// rewrite_json:
    ///   html: [/content/rendered, "/*/content/rendered"]
    ///   urls: ["/*/jetpack_featured_media_url"]
    ///   base: https://img.example.com
    ///   allow_hosts: [blog.example.com]
    /// ```
    /// - Returns: `nil` when the file has no such section.
    /// - Throws: ``SettingsError`` naming the key and the reason.
    init?(node: ConfigNode) throws {
        guard node.shape != nil else { return nil }
        try node.checkKeys(Self.fields)
        let context = node.context
        func patterns(_ key: String) throws -> [JSONPattern] {
            try (node[key].list() ?? []).map { text in
                do { return try JSONPattern(text) } catch { throw SettingsError(.invalidValue, "invalid \(context).\(key) pointer: \(error)") }
            }
        }
        let html = try patterns("html")
        let urls = try patterns("urls")
        guard !html.isEmpty || !urls.isEmpty else {
            throw SettingsError(.invalidValue, "invalid \(context): name the JSON fields to rewrite in html or urls")
        }
        let base = try node["base"].scalar() ?? ""
        guard base.isEmpty || ((base.hasPrefix("http://") || base.hasPrefix("https://")) && !base.contains("?") && !base.contains("#")) else {
            throw SettingsError(.invalidValue, "invalid \(context).base '\(base)' (an http(s) URL such as https://img.example.com)")
        }
        let origin = try node["origin"].scalar()
        if let origin, !(origin.hasPrefix("http://") || origin.hasPrefix("https://")) {
            throw SettingsError(.invalidValue, "invalid \(context).origin '\(origin)' (the site's http(s) URL, for relative URLs)")
        }
        // No expiry: the URLs live in stored entries as long as those do.
        let signOptions = SignOptions(keyID: try node["key_id"].scalar())
        let options = RewriteOptions(
            base: base, onlyInsecure: try node["only_insecure"].flag() ?? false, allowHosts: try node["allow_hosts"].list() ?? [],
            origin: origin, signOptions: signOptions)
        self.init(htmlFields: html, urlFields: urls, options: options)
    }
}
