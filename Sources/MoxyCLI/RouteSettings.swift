// SPDX-License-Identifier: Apache-2.0

import MoxyYAML
import MoxyHTTP
import MoxyCache
import MoxyServer

/// Reads origin routes and cache knobs: named routes from the config file (`routes.NAME.*`),
/// shorthand routes from `--route` / `MOXY_ROUTES` / a `routes:` list, and the cache knobs shared by
/// routes (`routes.NAME.cache.*`) and signed URLs (`signed.cache.*`).
enum RouteSettings {
    /// The fields of a named route (besides `cache.*`).
    static let routeFields: Set<String> = [
        "host", "path_prefix", "upstream", "strip_prefix", "preserve_host", "max_request_body", "max_object_size",
        "forwarded_headers", "request_headers", "response_headers",
    ]

    /// The cache knobs, with what each does (documentation order).
    static let cacheKnobs: [(name: String, help: String)] = [
        ("default_ttl", "freshness for storable responses without explicit expiration"),
        ("min_ttl", "lower bound on every stored lifetime"),
        ("max_ttl", "upper bound on every stored lifetime"),
        ("status_ttl", "freshness per status without explicit expiration, list of STATUS=DURATION (404=30s); makes the status storable"),
        ("ignore_no_cache", "store and reuse `no-cache` responses without revalidation"),
        ("ignore_private", "store `private` responses"),
        ("ignore_set_cookie", "store responses that set cookies (the Set-Cookie field is never stored)"),
        ("stale_while_revalidate", "serve stale this long while refreshing in the background, when the origin sets none"),
        ("stale_if_error", "serve stale this long when the origin fails (errors, timeouts, 5xx), when the origin sets none"),
        ("max_stale", "never serve anything staler than this"),
        ("heuristic_max_ttl", "cap on heuristic freshness (10 % of the time since Last-Modified)"),
        ("honor_request_cache_control", "obey request Cache-Control / Pragma (no-cache, max-age, max-stale, min-fresh, only-if-cached)"),
        ("hit_for_miss", "how long a key whose response was not storable skips request coalescing (0 turns it off)"),
    ]

    /// Applies cache knobs to overrides.
    /// - Parameters:
    ///   - overrides: The overrides to change.
    ///   - value: Returns a knob's values (one for scalars) or `nil` when not set.
    ///   - context: The key prefix for error messages, e.g. `routes.api.cache`.
    static func applyCacheKnobs(
        to overrides: inout CacheOverrides,
        value: (String) -> [String]?,
        context: String
    ) throws {
        func seconds(_ name: String) throws -> Int64? {
            guard let text = value(name)?.first else { return nil }
            guard let parsed = ValueParsers.duration(text), parsed <= 10 * 365 * 86_400 else {
                throw SettingsError(.invalidValue, "invalid \(context).\(name): '\(text)' (use a duration such as 30s, 5m, 1h)")
            }
            return Int64(parsed)
        }
        func flag(_ name: String) throws -> Bool? {
            guard let text = value(name)?.first else { return nil }
            guard let parsed = ValueParsers.bool(text) else {
                throw SettingsError(.invalidValue, "invalid \(context).\(name): '\(text)' (use true or false)")
            }
            return parsed
        }
        if let ttl = try seconds("default_ttl") { overrides.defaultTTL = ttl }
        if let ttl = try seconds("min_ttl") { overrides.minTTL = ttl }
        if let ttl = try seconds("max_ttl") { overrides.maxTTL = ttl }
        if let (minimum, maximum) = overrides.minTTL.flatMap({ a in overrides.maxTTL.map { (a, $0) } }), minimum > maximum {
            throw SettingsError(.invalidValue, "invalid \(context): min_ttl is larger than max_ttl")
        }
        for entry in value("status_ttl") ?? [] {
            let parts = entry.split(separator: "=", maxSplits: 1).map { String($0.trimmingSpaces) }
            guard parts.count == 2, let status = Int(parts[0]), (200...599).contains(status), status != 206, status != 304,
                let ttl = ValueParsers.duration(parts[1])
            else {
                throw SettingsError(.invalidValue, "invalid \(context).status_ttl entry '\(entry)' (use STATUS=DURATION, e.g. 404=30s)")
            }
            overrides.statusTTL[status] = Int64(ttl)
        }
        if let value = try flag("ignore_no_cache") { overrides.ignoreNoCache = value }
        if let value = try flag("ignore_private") { overrides.ignorePrivate = value }
        if let value = try flag("ignore_set_cookie") { overrides.ignoreSetCookie = value }
        if let value = try seconds("stale_while_revalidate") { overrides.staleWhileRevalidate = value }
        if let value = try seconds("stale_if_error") { overrides.staleIfError = value }
        if let value = try seconds("max_stale") { overrides.maxStale = value }
        if let value = try seconds("heuristic_max_ttl") { overrides.heuristicMaxTTL = value }
        if let value = try flag("honor_request_cache_control") { overrides.honorRequestDirectives = value }
        if let value = try seconds("hit_for_miss") { overrides.hitForMiss = value }
    }

    /// The leaves under a prefix, with the prefix removed.
    static func section(_ prefix: String, of values: [String: YAMLSubset.Value]) -> [String: YAMLSubset.Value] {
        var section: [String: YAMLSubset.Value] = [:]
        for (key, value) in values where key.hasPrefix(prefix) { section[String(key.dropFirst(prefix.count))] = value }
        return section
    }

    /// Parses a shorthand route `PREFIX=UPSTREAM` or `HOST/PREFIX=UPSTREAM`.
    /// - Parameters:
    ///   - text: The shorthand.
    ///   - name: The route's name.
    /// - Returns: The route (plain RFC 9111 caching, no prefix stripping).
    static func shorthand(_ text: String, name: String) throws -> RouteConfiguration {
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
        return try makeRoute(name: name, host: host, prefix: prefix, upstream: upstream, context: "route '\(text)'")
    }

    static func makeRoute(name: String, host: String?, prefix: String, upstream: String, context: String) throws -> RouteConfiguration {
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

    /// Builds the named routes of a config file.
    /// - Parameter values: The file's `routes.*` leaves by dotted path.
    /// - Returns: The routes, by name order.
    static func named(_ values: [String: YAMLSubset.Value]) throws -> [RouteConfiguration] {
        var byName: [String: [String: YAMLSubset.Value]] = [:]
        for (path, value) in values {
            let parts = path.split(separator: ".", maxSplits: 2).map(String.init)
            guard parts.count == 3, parts[0] == "routes" else {
                throw SettingsError(.unknownKey, "unknown key '\(path)' (routes are routes.NAME.FIELD)")
            }
            byName[parts[1], default: [:]][parts[2]] = value
        }
        var routes: [RouteConfiguration] = []
        for (name, fields) in byName.sorted(by: { $0.key < $1.key }) {
            let context = "routes.\(name)"
            guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw SettingsError(.invalidValue, "invalid route name '\(name)' (letters, digits, - and _)")
            }
            func scalar(_ field: String) throws -> String? {
                switch fields[field] {
                case nil: return nil
                case .scalar(let text)?: return text
                case .list?, .nodes?: throw SettingsError(.invalidValue, "invalid \(context).\(field): a list is not allowed here")
                }
            }
            for field in fields.keys where !routeFields.contains(field) && !field.hasPrefix("validate.") {
                let knob = field.hasPrefix("cache.") ? String(field.dropFirst(6)) : nil
                guard let knob, cacheKnobs.contains(where: { $0.name == knob }) else {
                    throw SettingsError(.unknownKey, "unknown key '\(context).\(field)'")
                }
            }
            guard let upstream = try scalar("upstream") else {
                throw SettingsError(.invalidValue, "\(context) has no upstream")
            }
            var route = try makeRoute(
                name: name,
                host: try scalar("host"),
                prefix: try scalar("path_prefix") ?? "/",
                upstream: upstream,
                context: context
            )
            func bool(_ field: String) throws -> Bool? {
                guard let text = try scalar(field) else { return nil }
                guard let value = ValueParsers.bool(text) else {
                    throw SettingsError(.invalidValue, "invalid \(context).\(field): '\(text)' (use true or false)")
                }
                return value
            }
            func size(_ field: String) throws -> Int? {
                guard let text = try scalar(field) else { return nil }
                guard let value = ValueParsers.size(text), value > 0 else {
                    throw SettingsError(.invalidValue, "invalid \(context).\(field): '\(text)' (use a size such as 10MiB)")
                }
                return value
            }
            if let value = try bool("strip_prefix") { route.stripPrefix = value }
            if let value = try bool("preserve_host") { route.preserveHost = value }
            if let value = try bool("forwarded_headers") { route.forwardedHeaders = value }
            if let value = try size("max_request_body") { route.maxRequestBody = value }
            if let value = try size("max_object_size") { route.maxObjectSize = value }
            func headerList(_ field: String) throws -> [(name: String, value: String)] {
                let items: [String]
                switch fields[field] {
                case nil: return []
                case .scalar(let text)?: items = [text]
                case .list(let list)?: items = list
                case .nodes?: throw SettingsError(.invalidValue, "invalid \(context).\(field): use a list of \"Name: value\" strings")
                }
                return try items.map { item in
                    guard let colon = item.firstIndex(of: ":") else {
                        throw SettingsError(.invalidValue, "invalid \(context).\(field) entry '\(item)' (use \"Name: value\", or \"Name:\" to remove)")
                    }
                    let name = String(item[..<colon].trimmingSpaces)
                    let value = String(item[item.index(after: colon)...].trimmingSpaces)
                    let token = !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "!#$%&'*+-.^_`|~".contains($0)) }
                    guard token, !value.contains(where: { $0 == "\r" || $0 == "\n" }),
                        !["host", "content-length", "transfer-encoding", "connection"].contains(name.lowercased())
                    else {
                        throw SettingsError(.invalidValue, "invalid \(context).\(field) entry '\(item)' (not a field Moxy lets you set)")
                    }
                    return (name: name, value: value)
                }
            }
            route.setRequestHeaders = try headerList("request_headers")
            route.setResponseHeaders = try headerList("response_headers")
            try applyCacheKnobs(
                to: &route.cache,
                value: { knob in
                    switch fields["cache." + knob] {
                    case .scalar(let text)?: [text]
                    case .list(let items)?: items
                    case .nodes?, nil: nil
                    }
                },
                context: context + ".cache"
            )
            route.validation = try ValidationSettings.build(
                Self.section("validate.", of: fields),
                context: context + ".validate"
            )
            routes.append(route)
        }
        return routes
    }
}
