// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxyHTTP
import MoxyServer
import MoxyValidation

extension RouteConfiguration {
    /// The fields of a named route (besides `cache` and `validate`), documentation order aside.
    static let fields: Set<String> = [
        "host", "path_prefix", "upstream", "strip_prefix", "preserve_host", "max_request_body", "max_object_size",
        "forwarded_headers", "request_headers", "response_headers", "interim_responses",
        "method_override",
    ]

    /// Reads a named route (`routes.NAME`): its fields, its `cache:` knobs and its `validate:` rules.
    /// - Parameters:
    ///   - name: The route's name.
    ///   - node: The route's mapping.
    ///   - cacheDefaults: The cache knobs its `cache:` section starts from (the global ones).
    /// - Throws: ``SettingsError`` naming the key and the bad value.
    init(name: String, node: ConfigNode, cacheDefaults: CacheOverrides = CacheOverrides()) throws {
        let context = node.context
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw SettingsError(.invalidValue, "invalid route name '\(name)' (letters, digits, - and _)")
        }
        try node.checkKeys(Self.fields.union(["cache", "validate", "tags", "rewrite_json"]))
        func scalar(_ field: String) throws -> String? {
            do { return try node[field].scalar() } catch { throw SettingsError(.invalidValue, "invalid \(context).\(field): a list is not allowed here") }
        }
        guard let upstream = try scalar("upstream") else {
            throw SettingsError(.invalidValue, "\(context) has no upstream")
        }
        self = try Self.make(name: name, host: try scalar("host"), prefix: try scalar("path_prefix") ?? "/", upstream: upstream, context: context)
        func bool(_ field: String) throws -> Bool? { try node[field].flag() }
        func size(_ field: String) throws -> Int? { try node[field].bytes() }
        if let value = try bool("strip_prefix") { stripPrefix = value }
        if let value = try bool("preserve_host") { preserveHost = value }
        if let value = try bool("forwarded_headers") { forwardedHeaders = value }
        if let value = try bool("interim_responses") { interimResponses = value }
        if let value = try scalar("method_override") {
            guard let mode = MethodOverride(rawValue: value) else {
                throw SettingsError(.invalidValue, "invalid \(context).method_override '\(value)' (bypass or strip)")
            }
            methodOverride = mode
        }
        if let value = try size("max_request_body") { maxRequestBody = value }
        if let value = try size("max_object_size") { maxObjectSize = value }
        setRequestHeaders = try Self.headerList(node["request_headers"])
        setResponseHeaders = try Self.headerList(node["response_headers"])
        cache = try CacheOverrides(node: node["cache"], defaults: cacheDefaults)
        validation = try ValidationConfiguration(node: node["validate"])
        tags = try BodyTagRules(node: node["tags"])
        jsonImages = try JSONImageRewrite(node: node["rewrite_json"])
    }

    /// Reads a list of `"Name: value"` fields to set (`"Name:"` removes the field).
    static func headerList(_ node: ConfigNode) throws -> [(name: String, value: String)] {
        let items: [String]
        do { items = try node.list() ?? [] } catch {
            throw SettingsError(.invalidValue, "invalid \(node.context): use a list of \"Name: value\" strings")
        }
        return try items.map { item in
            guard let colon = item.firstIndex(of: ":") else {
                throw SettingsError(.invalidValue, "invalid \(node.context) entry '\(item)' (use \"Name: value\", or \"Name:\" to remove)")
            }
            let name = String(item[..<colon].trimmingSpaces)
            let value = String(item[item.index(after: colon)...].trimmingSpaces)
            let token = !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "!#$%&'*+-.^_`|~".contains($0)) }
            guard token, !value.contains(where: { $0 == "\r" || $0 == "\n" }),
                !["host", "content-length", "transfer-encoding", "connection"].contains(name.lowercased())
            else {
                throw SettingsError(.invalidValue, "invalid \(node.context) entry '\(item)' (not a field Moxy lets you set)")
            }
            return (name: name, value: value)
        }
    }

    /// Parses a shorthand route `PREFIX=UPSTREAM` or `HOST/PREFIX=UPSTREAM`.
    /// - Parameters:
    ///   - shorthand: The shorthand.
    ///   - name: The route's name.
    /// - Returns: The route (plain RFC 9111 caching, no prefix stripping).
    init(shorthand text: String, name: String) throws {
        guard let equals = text.firstIndex(of: "=") else {
            throw SettingsError(.invalidValue, "invalid route '\(text)' (use PREFIX=UPSTREAM, e.g. /=http://127.0.0.1:8000)")
        }
        let match = String(text[..<equals])
        let upstream = String(text[text.index(after: equals)...])
        var host: String? = nil
        var prefix = match
        if !match.hasPrefix("/") {
            let slash = match.firstIndex(of: "/") ?? match.endIndex
            host = String(match[..<slash])
            prefix = slash == match.endIndex ? "/" : String(match[slash...])
        }
        self = try Self.make(name: name, host: host, prefix: prefix, upstream: upstream, context: "route '\(text)'")
    }

    static func make(name: String, host: String?, prefix: String, upstream: String, context: String) throws -> RouteConfiguration {
        guard prefix.hasPrefix("/"), !prefix.contains("?"), !prefix.contains(" ") else {
            throw SettingsError(.invalidValue, "invalid \(context): the path prefix must start with / ('\(prefix)')")
        }
        if let host {
            let valid = !host.isEmpty && host.allSatisfy { $0.isLetter || $0.isNumber || "-.*".contains($0) }
            guard valid, !host.dropFirst(2).contains("*"), !host.hasPrefix("*") || host.hasPrefix("*.") else {
                throw SettingsError(.invalidValue, "invalid \(context): bad host '\(host)'")
            }
        }
        guard let url = TargetURL(upstream), !url.pathAndQuery.contains("?"), !upstream.contains("@") else {
            throw SettingsError(.invalidValue, "invalid \(context): upstream must be an http(s) URL without query or user info ('\(upstream)')")
        }
        return RouteConfiguration(name: name, host: host, pathPrefix: prefix, upstream: url)
    }
}
