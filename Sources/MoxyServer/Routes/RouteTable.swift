// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import MoxyCache

/// The routes in matching order: host-specific routes before host-less ones, longer prefixes first.
public struct RouteTable: Sendable {
    /// The routes, in matching order.
    public let routes: [RouteConfiguration]
    /// What matching reads of each route, apart (reading a route from ``routes`` copies the
    /// whole configuration struct on every request).
    private let prefixes: [String]
    private let hosts: [String?]
    /// Whether any route names a host: without one, the `Host` field is never normalized.
    private let hasHosts: Bool

    /// Orders routes for matching.
    /// - Parameter routes: The configured routes.
    public init(_ routes: [RouteConfiguration]) {
        self.routes = routes.enumerated().sorted { a, b in
            let (x, y) = (a.element, b.element)
            if (x.host != nil) != (y.host != nil) { return x.host != nil }
            if x.pathPrefix.count != y.pathPrefix.count { return x.pathPrefix.count > y.pathPrefix.count }
            return a.offset < b.offset
        }.map(\.element)
        self.prefixes = self.routes.map(\.pathPrefix)
        self.hosts = self.routes.map(\.host)
        self.hasHosts = self.hosts.contains { $0 != nil }
    }

    /// The first route matching a request.
    /// - Parameters:
    ///   - host: The `Host` field value (port and case ignored).
    ///   - target: The request target (path and query).
    /// - Returns: The route, or `nil`.
    public func match(host: String?, target: Substring) -> RouteConfiguration? {
        matchIndex(host: host, target: target).map { routes[$0] }
    }

    /// The index in ``routes`` of the first route matching a request.
    func matchIndex(host: String?, target: Substring) -> Int? {
        guard !routes.isEmpty else { return nil }
        let name = hasHosts ? Self.hostName(host) : ""
        for index in prefixes.indices {
            if let routeHost = hosts[index], !RouteConfiguration.hostMatches(routeHost, name) { continue }
            if RouteConfiguration.hasPathPrefix(target, prefixes[index]) { return index }
        }
        return nil
    }

    /// A `Host` value without port, lowercased.
    static func hostName(_ host: String?) -> String {
        guard var text = host?.trimmingSpaces.lowercased() else { return "" }
        if text.hasPrefix("[") {
            if let close = text.firstIndex(of: "]") { text = String(text[...close]) }
        } else if let colon = text.lastIndex(of: ":") {
            text = String(text[..<colon])
        }
        return text
    }
}
