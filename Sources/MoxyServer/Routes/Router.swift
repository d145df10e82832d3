// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import MoxyCache
import MoxySigning

/// Tells routes and signed URLs apart and names a route request's cache key.
///
/// A class: every request resolves through it, and a struct held by another would be copied
/// (its arrays retained) on each use.
final class Router: Sendable {
    /// What a request target maps to.
    enum Resolution {
        /// An origin route (its cache source), with the target to forward.
        case route(CacheSource, target: Substring)
        /// A signed URL path.
        case signed(Substring)
        /// Neither (routes only, no match).
        case notFound
    }

    /// The routes in matching order.
    let table: RouteTable
    /// Each route's cache source, in the table's order.
    private let sources: [CacheSource]
    /// The path prefix reserved for signed URLs, if any.
    let signedPrefix: String?
    /// Whether signed (or camo) URLs are served at all.
    let servesSigned: Bool

    init(routes: [RouteConfiguration], signedPrefix: String?, servesSigned: Bool, metrics: MoxyMetrics, signer: URLSigner? = nil) {
        self.table = RouteTable(routes)
        self.sources = table.routes.map { CacheSource(route: $0, counters: metrics.requestCounters(.route, route: $0.name), signer: signer) }
        self.signedPrefix = signedPrefix
        self.servesSigned = servesSigned
    }

    /// The cache source of the route with this name.
    func source(named name: String) -> CacheSource? { sources.first { $0.name == name } }

    /// The signed prefix (when set) first, then routes by `Host` and path prefix, then signed URLs.
    func resolve(_ target: Substring, host: String?) -> Resolution {
        if let prefix = signedPrefix, RouteConfiguration.hasPathPrefix(target, prefix) {
            let rest = target.dropFirst(prefix.hasSuffix("/") ? prefix.count - 1 : prefix.count)
            return .signed(rest.isEmpty ? "/" : rest)
        }
        if let index = table.matchIndex(host: host, target: target) { return .route(sources[index], target: target) }
        return servesSigned ? .signed(target) : .notFound
    }

    /// The primary cache key of a route request.
    static func routeKey(_ route: RouteConfiguration, host: String?, target: Substring) -> String {
        routeKey(prefix: keyPrefix(route), usesHost: keyUsesHost(route), host: host, target: target)
    }

    /// The same key from a route's parts computed once (``CacheSource/keyPrefix``): one
    /// allocation per request, not one per piece.
    @inline(__always)
    static func routeKey(prefix: String, usesHost: Bool, host: String?, target: Substring) -> String {
        let hostPart = usesHost ? RouteTable.hostName(host) : ""
        var key = String()
        key.reserveCapacity(prefix.utf8.count + hostPart.utf8.count + 1 + target.utf8.count)
        key.append(prefix)
        key.append(hostPart)
        key.append(" ")
        key.append(contentsOf: target)
        return key
    }

    /// What every key of a route starts with. Route names, hosts and request targets contain no
    /// spaces, so the key is unambiguous and printable.
    static func keyPrefix(_ route: RouteConfiguration) -> String { "route:" + route.name + " " }

    /// Whether a route's keys hold the client's host.
    static func keyUsesHost(_ route: RouteConfiguration) -> Bool { route.preserveHost || route.host?.hasPrefix("*.") == true }

    /// The path of a `Location` that points back at this route's public origin or its upstream.
    static func sameOriginPath(_ value: String, host: String?, route: RouteConfiguration) -> String? {
        let text = String(value.trimmingSpaces)
        if text.hasPrefix("/") && !text.hasPrefix("//") { return text }
        guard let url = TargetURL(text) else { return nil }
        let sameAsClient = host.map { RouteTable.hostName($0) == url.host.lowercased() } ?? false
        let sameAsUpstream = url.origin == route.upstream.origin
        return sameAsClient || sameAsUpstream ? url.pathAndQuery : nil
    }
}
