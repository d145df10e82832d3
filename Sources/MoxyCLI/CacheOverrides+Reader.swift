// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxyHTTP

extension CacheOverrides {
    /// The cache knobs of a route (`routes.NAME.cache.*`) and of signed URLs (`signed.cache.*`),
    /// with what each does (documentation order).
    static let knobs: [(name: String, help: String)] = [
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
        ("compress", "keep gzip, brotli and zstd forms of stored text, JSON, XML, JavaScript and SVG responses (once per entry); each client gets the smallest it accepts"),
        ("targeted_cache_control", "the field that targets Moxy (RFC 9213): decides storage and freshness over CDN-Cache-Control and Cache-Control; not sent downstream"),
    ]

    /// Reads a `cache:` section over defaults.
    /// - Parameters:
    ///   - node: The section (`routes.NAME.cache`, `signed.cache`).
    ///   - defaults: The mode's defaults, which unset knobs keep.
    /// - Throws: ``SettingsError`` naming the knob and the bad value.
    init(node: ConfigNode, defaults: CacheOverrides) throws {
        self = defaults
        try node.checkKeys(Self.knobs.map(\.name))
        func seconds(_ name: String) throws -> Int64? { try node[name].seconds() }
        func flag(_ name: String) throws -> Bool? { try node[name].flag() }
        if let ttl = try seconds("default_ttl") { defaultTTL = ttl }
        if let ttl = try seconds("min_ttl") { minTTL = ttl }
        if let ttl = try seconds("max_ttl") { maxTTL = ttl }
        if let minTTL, let maxTTL, minTTL > maxTTL {
            throw SettingsError(.invalidValue, "invalid \(node.context): min_ttl is larger than max_ttl")
        }
        for entry in try node["status_ttl"].list() ?? [] {
            let parts = entry.split(separator: "=", maxSplits: 1).map { String($0.trimmingSpaces) }
            guard parts.count == 2, let status = Int(parts[0]), (200...599).contains(status), status != 206, status != 304,
                let ttl = ValueParsers.duration(parts[1])
            else {
                throw SettingsError(.invalidValue, "invalid \(node.context).status_ttl entry '\(entry)' (use STATUS=DURATION, e.g. 404=30s)")
            }
            statusTTL[status] = Int64(ttl)
        }
        if let value = try flag("ignore_no_cache") { ignoreNoCache = value }
        if let value = try flag("ignore_private") { ignorePrivate = value }
        if let value = try flag("ignore_set_cookie") { ignoreSetCookie = value }
        if let value = try seconds("stale_while_revalidate") { staleWhileRevalidate = value }
        if let value = try seconds("stale_if_error") { staleIfError = value }
        if let value = try seconds("max_stale") { maxStale = value }
        if let value = try seconds("heuristic_max_ttl") { heuristicMaxTTL = value }
        if let value = try flag("honor_request_cache_control") { honorRequestDirectives = value }
        if let value = try seconds("hit_for_miss") { hitForMiss = value }
        if let value = try flag("compress") { compress = value }
        if let name = try node["targeted_cache_control"].scalar() {
            let isToken = !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "!#$%&'*+-.^_`|~".contains($0)) }
            guard isToken, !["cache-control", "expires", "pragma"].contains(name.lowercased()) else {
                throw SettingsError(.invalidValue, "invalid \(node["targeted_cache_control"].context): '\(name)' (a field name such as Moxy-Cache-Control)")
            }
            targetedCacheControl = name.lowercased()
        }
    }
}
