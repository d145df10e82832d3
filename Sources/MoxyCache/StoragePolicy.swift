// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP

/// Decides whether a response may be stored by a shared cache, and with which freshness
/// (RFC 9111 §3, §4.2, §5.2.2; RFC 5861; RFC 8246), adjusted by the operator's ``CacheOverrides``.
///
/// A pure function of the request facts, the response head and the clock readings; no I/O.
public struct StoragePolicy: Sendable, Hashable {
    /// The operator's adjustments.
    public var overrides: CacheOverrides

    /// Creates a policy.
    /// - Parameter overrides: Operator adjustments (default: plain RFC 9111).
    public init(overrides: CacheOverrides = CacheOverrides()) {
        self.overrides = overrides
    }

    /// The signed-URL policy: `200` only, `defaultTTL` seconds when the origin says nothing.
    /// - Parameter defaultTTL: Seconds of freshness without an explicit lifetime; `0` stores nothing without one.
    public init(defaultTTL: Int64) {
        var overrides = CacheOverrides.signedURLs
        overrides.defaultTTL = defaultTTL
        self.overrides = overrides
    }

    /// The outcome of an evaluation.
    public enum Decision: Sendable, Hashable {
        /// Store with this freshness.
        case store(Freshness)
        /// Do not store, for this reason (its text is `Cache-Status`'s `detail`).
        case doNotStore(Refusal)

        /// The freshness to store with, or `nil` when not storing.
        public var freshness: Freshness? {
            if case .store(let freshness) = self { return freshness }
            return nil
        }

        /// Whether the response is to be stored.
        public var isStore: Bool { freshness != nil }
    }

    /// Why a response may not be stored; the raw value is `Cache-Status`'s `detail`.
    public enum Refusal: String, Sendable, Hashable {
        /// Not a `GET`.
        case method
        /// A status that may not be stored, or not without explicit freshness.
        case status
        /// The response's `no-store`.
        case noStore = "no-store"
        /// The request's `no-store`.
        case requestNoStore = "request-no-store"
        /// The response's unqualified `private`.
        case `private`
        /// The request carried credentials and the response does not allow sharing.
        case authorization
        /// `Vary: *`.
        case varyStar = "vary-star"
        /// The response sets a cookie.
        case setCookie = "set-cookie"
        /// No explicit freshness and no default.
        case noFreshness = "no-freshness"
        /// Must be revalidated on every use and cannot be.
        case noCache = "no-cache"
        /// Stale on arrival.
        case stale
    }

    /// Statuses a cache may store without explicit freshness (RFC 9110 §15.1, "heuristically cacheable").
    public static let heuristicallyCacheable: Set<Int> = [200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501]

    /// Evaluates a response.
    /// - Parameters:
    ///   - method: The request method (only `GET` responses are stored; `HEAD` is fetched as `GET`).
    ///   - requestHeaders: The request fields (for `Authorization` and request `no-store`).
    ///   - status: The final status code.
    ///   - headers: The response header fields (names in any case).
    ///   - requestTime: Unix seconds when the request was sent.
    ///   - responseTime: Unix seconds when the response arrived.
    /// - Returns: Whether and how long to store it.
    public func evaluate(
        method: String = "GET",
        requestHeaders: [(name: String, value: String)] = [],
        status: Int,
        headers: [(name: String, value: String)],
        requestTime: Int64,
        responseTime: Int64
    ) -> Decision {
        guard method == "GET" else { return .doNotStore(.method) }
        // 206 is partial, 304 only updates, 1xx is not final: none is a complete response (§3, §3.3).
        guard (200...599).contains(status), status != 206, status != 304 else { return .doNotStore(.status) }
        // RFC 9213: a valid targeted field replaces Cache-Control (and Expires) entirely for this cache.
        let targeted = Self.targetedControl(headers, field: overrides.targetedCacheControl)
        let cacheControl = targeted ?? CacheControl(headers.values(named: "cache-control"))
        if cacheControl.has("no-store") { return .doNotStore(.noStore) }
        if overrides.honorRequestDirectives, CacheControl(requestHeaders.values(named: "cache-control")).has("no-store") {
            return .doNotStore(.requestNoStore)
        }
        if cacheControl.hasUnqualified("private"), !overrides.ignorePrivate { return .doNotStore(.private) }
        // Qualified private / no-cache: the rest may be stored, the named fields may not (§5.2.2.4, §5.2.2.7).
        var withheld = cacheControl.fieldNames("private") + cacheControl.fieldNames("no-cache")
        if let allowed = overrides.cacheableStatuses, !allowed.contains(status), overrides.statusTTL[status] == nil {
            return .doNotStore(.status)
        }
        // §3.5: a shared cache stores an answer to an authenticated request only when told it may.
        if requestHeaders.contains(where: { $0.name.lowercased() == "authorization" }),
            !(cacheControl.has("public") || cacheControl.has("must-revalidate") || cacheControl.has("s-maxage"))
        {
            return .doNotStore(.authorization)
        }
        if headers.values(named: "vary").contains(where: { $0.split(separator: ",").contains { $0.trimmingSpaces == "*" } }) {
            return .doNotStore(.varyStar)
        }
        if headers.contains(where: { $0.name.lowercased() == "set-cookie" }) {
            guard overrides.ignoreSetCookie || withheld.contains("set-cookie") else { return .doNotStore(.setCookie) }
            withheld.append("set-cookie")
        }
        let date = headers.values(named: "date").first.flatMap { HTTPDate.parse($0) }
        let ageValue = headers.values(named: "age").first.flatMap { DeltaSeconds.parseAge($0) }
        let initialAge = Freshness.initialAge(ageHeader: ageValue, dateHeader: date, requestTime: requestTime, responseTime: responseTime)

        var lifetime: Int64
        var isExplicit = true
        if let sharedMaxAge = cacheControl.seconds("s-maxage") {
            lifetime = sharedMaxAge
        } else if let maxAge = cacheControl.seconds("max-age") {
            lifetime = maxAge
        } else if targeted == nil, let expiresText = headers.values(named: "expires").first {
            // An invalid Expires (e.g. "0") means already expired (RFC 9111 §5.3).
            let expires = HTTPDate.parse(expiresText) ?? Int64.min / 2
            lifetime = max(0, expires - (date ?? responseTime))
        } else {
            isExplicit = false
            if let ttl = overrides.statusTTL[status] {
                lifetime = ttl
            } else if let ttl = overrides.defaultTTL {
                lifetime = ttl
            } else if Self.heuristicallyCacheable.contains(status) || cacheControl.has("public"),
                let modified = headers.values(named: "last-modified").first.flatMap({ HTTPDate.parse($0) })
            {
                // §4.2.2: a fraction (10 %) of the time since the last modification, capped.
                lifetime = min(max(0, ((date ?? responseTime) - modified) / 10), overrides.heuristicMaxTTL)
            } else if Self.heuristicallyCacheable.contains(status) || cacheControl.has("public") {
                // Storable, but with nothing to say how long: only worth keeping with a validator.
                guard headers.contains(where: { $0.name.lowercased() == "etag" }) else { return .doNotStore(.noFreshness) }
                lifetime = 0
            } else {
                return .doNotStore(.noFreshness)
            }
        }
        // The bounds adjust what the origin said (or the heuristic); a per-status TTL is the operator's own word.
        if isExplicit || overrides.statusTTL[status] == nil {
            if let minimum = overrides.minTTL { lifetime = max(lifetime, minimum) }
            if let maximum = overrides.maxTTL { lifetime = min(lifetime, maximum) }
        }

        var freshness = Freshness(lifetime: lifetime, initialAge: initialAge, isExplicit: isExplicit)
        freshness.mustRevalidate =
            cacheControl.has("must-revalidate") || cacheControl.has("proxy-revalidate") || cacheControl.has("s-maxage")
        freshness.alwaysRevalidate = cacheControl.hasUnqualified("no-cache") && !overrides.ignoreNoCache
        freshness.immutable = cacheControl.has("immutable")
        freshness.staleWhileRevalidate = cacheControl.seconds("stale-while-revalidate") ?? overrides.staleWhileRevalidate
        if let window = cacheControl.seconds("stale-if-error") {
            freshness.staleIfError = window
            freshness.staleIfErrorFromOrigin = true
        } else {
            freshness.staleIfError = overrides.staleIfError
        }
        freshness.maxStale = overrides.maxStale
        freshness.withheldFields = withheld

        let hasValidator = headers.contains { ["etag", "last-modified"].contains($0.name.lowercased()) }
        // An entry that is stale on arrival (or always needs validation) is only worth keeping if it
        // can be validated or served stale on error.
        if lifetime <= initialAge || freshness.alwaysRevalidate {
            guard hasValidator || freshness.staleIfError > 0 || freshness.staleWhileRevalidate > 0 else {
                return .doNotStore(freshness.alwaysRevalidate ? .noCache : .stale)
            }
        }
        return .store(freshness)
    }

    /// The cache-control directives targeted at this cache (RFC 9213 §2.1): the first of the
    /// operator's field and `CDN-Cache-Control` whose value is a valid, non-empty structured
    /// dictionary; `nil` when neither is, and `Cache-Control` applies.
    /// - Parameters:
    ///   - headers: The response fields.
    ///   - field: The lowercase name of the field that targets this cache.
    public static func targetedControl(_ headers: [(name: String, value: String)], field: String) -> CacheControl? {
        for name in field == "cdn-cache-control" ? [field] : [field, "cdn-cache-control"] {
            let values = headers.values(named: name)
            if !values.isEmpty, StructuredFieldDictionary.isValid(values) { return CacheControl(targeted: values) }
        }
        return nil
    }
}
