// SPDX-License-Identifier: Apache-2.0

public import MoxyCache
public import MoxyValidation

/// One origin route: requests matching its `Host` and path prefix are forwarded to its upstream
/// and cached by RFC 9111 with the route's ``CacheOverrides``.
public struct RouteConfiguration: Sendable {
    /// The route's name (in logs, cache keys and `Cache-Status` keys).
    public var name: String
    /// The `Host` to match (lowercase, without port; `*.example.com` matches any subdomain); `nil` for any.
    public var host: String?
    /// The path prefix to match (default `/`, every path).
    public var pathPrefix: String
    /// The upstream base URL, e.g. `http://127.0.0.1:8000` or `http://10.0.0.5/api`.
    public var upstream: TargetURL
    /// Remove ``pathPrefix`` from the path before appending it to the upstream base.
    public var stripPrefix: Bool
    /// Send the client's `Host` upstream instead of the upstream's own (nginx `proxy_set_header Host $host`).
    public var preserveHost: Bool
    /// The largest request body forwarded, in bytes (413 past it).
    public var maxRequestBody: Int
    /// The largest response body stored, in bytes; larger responses stream through uncached.
    public var maxObjectSize: Int
    /// Caching adjustments (default: plain RFC 9111, no default TTL).
    public var cache: CacheOverrides
    /// Send `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host` upstream.
    public var forwardedHeaders: Bool
    /// Request fields set on the way upstream, replacing the client's (nginx `proxy_set_header`);
    /// an empty value removes the field.
    public var setRequestHeaders: [(name: String, value: String)] = []
    /// Response fields set on the way to the client and in stored responses (an empty value
    /// removes the field, as nginx `proxy_hide_header`).
    public var setResponseHeaders: [(name: String, value: String)] = []
    /// Forward the upstream's interim responses (`103 Early Hints`, `102`) to HTTP/1.1 clients
    /// before the final response (body-less requests), as RFC 9110 §15.2 asks of a proxy (on by
    /// default; their connections are pooled).
    public var interimResponses = true
    /// What a `GET` or `HEAD` carrying `X-HTTP-Method-Override` (or `X-HTTP-Method`,
    /// `X-Method-Override`) does: bypass the cache (default) or have the fields removed.
    public var methodOverride = MethodOverride.bypass
    /// Rules a response must pass to be stored or to replace the stored one (`nil`: none).
    public var validation: ValidationConfiguration?
    /// Tags for purges by tag, fixed and read from the JSON body (`nil`: the upstream's only).
    public var tags: BodyTagRules?
    /// Image URLs inside the JSON body rewritten into signed Moxy URLs before storing (`nil`: none).
    public var jsonImages: JSONImageRewrite?

    /// Creates a route.
    /// - Parameters:
    ///   - name: Its name.
    ///   - host: `Host` to match, or `nil` for any.
    ///   - pathPrefix: Path prefix to match (default `/`).
    ///   - upstream: The upstream base URL.
    ///   - stripPrefix: Remove the prefix before forwarding (default `false`).
    ///   - preserveHost: Forward the client's `Host` (default `false`).
    ///   - maxRequestBody: Largest request body (default 16 MiB).
    ///   - maxObjectSize: Largest stored response (default 10 MiB).
    ///   - cache: Caching adjustments.
    ///   - forwardedHeaders: Add `X-Forwarded-*` (default `true`).
    public init(
        name: String,
        host: String? = nil,
        pathPrefix: String = "/",
        upstream: TargetURL,
        stripPrefix: Bool = false,
        preserveHost: Bool = false,
        maxRequestBody: Int = 16 << 20,
        maxObjectSize: Int = 10 << 20,
        cache: CacheOverrides = CacheOverrides(),
        forwardedHeaders: Bool = true
    ) {
        self.name = name
        self.host = host?.lowercased()
        self.pathPrefix = pathPrefix
        self.upstream = upstream
        self.stripPrefix = stripPrefix
        self.preserveHost = preserveHost
        self.maxRequestBody = maxRequestBody
        self.maxObjectSize = maxObjectSize
        self.cache = cache
        self.forwardedHeaders = forwardedHeaders
    }

    /// Whether the route matches a request.
    /// - Parameters:
    ///   - host: The request's `Host` without port, lowercased (empty when absent).
    ///   - path: The request target's path (and query).
    /// - Returns: `true` on a match.
    public func matches(host requestHost: String, path: Substring) -> Bool {
        if let host, !Self.hostMatches(host, requestHost) { return false }
        return Self.hasPathPrefix(path, pathPrefix)
    }

    /// Whether a route's `host` (a name, or `*.` and a domain) matches a request's host name.
    static func hostMatches(_ host: String, _ requestHost: String) -> Bool {
        host.hasPrefix("*.") ? requestHost.hasSuffix(host.dropFirst(1)) : host == requestHost
    }

    /// Whether `path` starts with `prefix` at a segment boundary (`/api` matches `/api`, `/api/x`,
    /// `/api?q`, not `/apix`; a prefix ending in `/` matches by plain prefix).
    static func hasPathPrefix(_ path: Substring, _ prefix: String) -> Bool {
        // Bytes, not Characters: a path is compared as sent, and faster.
        guard path.utf8.starts(with: prefix.utf8) else { return false }
        if prefix.hasSuffix("/") || path.utf8.count == prefix.utf8.count { return true }
        let next = path.utf8[path.utf8.index(path.utf8.startIndex, offsetBy: prefix.utf8.count)]
        return next == UInt8(ascii: "/") || next == UInt8(ascii: "?")
    }

    /// The upstream URL for a client request target.
    /// - Parameter target: The client's path and query (origin form).
    /// - Returns: The absolute upstream URL.
    public func upstreamURL(for target: Substring) -> String {
        var rest = target
        if stripPrefix, pathPrefix != "/" {
            rest = rest.dropFirst(pathPrefix.hasSuffix("/") ? pathPrefix.count - 1 : pathPrefix.count)
            if rest.isEmpty || rest.first == "?" { rest = "/" + rest }
        }
        var base = upstream.origin + upstream.pathAndQuery
        if base.hasSuffix("/") { base.removeLast() }
        return base + rest
    }
}
