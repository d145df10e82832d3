// SPDX-License-Identifier: Apache-2.0

/// Operator choices that adjust RFC 9111 behaviour for one route (or for signed URLs).
///
/// Every knob defaults to plain RFC 9111: nothing is stored that the origin did not allow and
/// nothing lives longer than the origin said, except where a field here says otherwise.
public struct CacheOverrides: Sendable, Hashable {
    /// Freshness (seconds) for storable responses that carry no explicit expiration; `nil` for none
    /// (heuristic freshness may still apply).
    public var defaultTTL: Int64?
    /// Lower bound on stored lifetimes (explicit, default or heuristic; not on ``statusTTL`` values).
    public var minTTL: Int64?
    /// Upper bound on stored lifetimes (explicit, default or heuristic; not on ``statusTTL`` values).
    public var maxTTL: Int64?
    /// Freshness per status for responses without explicit expiration (`404: 30` caches 404 for 30 s);
    /// a status listed here is storable.
    public var statusTTL: [Int: Int64]
    /// Statuses that may be stored at all; `nil` for every status RFC 9111 allows.
    public var cacheableStatuses: Set<Int>?
    /// Store responses marked `no-cache` as if they were not (serve them without revalidation).
    public var ignoreNoCache: Bool
    /// Store responses marked `private` (only for origins known to mark public content private).
    public var ignorePrivate: Bool
    /// Store responses that set cookies (the `Set-Cookie` field itself is never stored).
    public var ignoreSetCookie: Bool
    /// `stale-while-revalidate` window (seconds) for responses that do not carry one.
    public var staleWhileRevalidate: Int64
    /// Window (seconds) in which a stale entry is served when the origin fails (errors, timeouts, 5xx),
    /// for responses that do not carry `stale-if-error`.
    public var staleIfError: Int64
    /// The most staleness (seconds) ever served, whatever the origin or the client allows; `nil` for no cap.
    public var maxStale: Int64?
    /// Cap on heuristic freshness (RFC 9111 §4.2.2), in seconds.
    public var heuristicMaxTTL: Int64
    /// Honour request `Cache-Control` / `Pragma` (nginx and Varnish ignore them by default; RFC 9111 honours them).
    public var honorRequestDirectives: Bool
    /// Seconds a key whose response was not storable skips request coalescing (Varnish's hit-for-miss); 0 turns it off.
    public var hitForMiss: Int64 = 30
    /// The lowercase name of the field that targets Moxy (RFC 9213): when present and valid it
    /// decides storage and freshness instead of `Cache-Control` (and before `CDN-Cache-Control`),
    /// and it is not sent downstream.
    public var targetedCacheControl = "moxy-cache-control"
    /// Keep gzip, brotli and zstd forms of stored responses worth compressing; each client gets the smallest it accepts.
    public var compress = true

    /// Creates overrides; the defaults are plain RFC 9111.
    /// - Parameters:
    ///   - defaultTTL: Freshness when the origin gives no expiration (default none).
    ///   - minTTL: Lower bound on lifetimes (default none).
    ///   - maxTTL: Upper bound on lifetimes (default none).
    ///   - statusTTL: Freshness per status (default empty).
    ///   - cacheableStatuses: Statuses that may be stored (default: all RFC 9111 allows).
    ///   - ignoreNoCache: Default `false`.
    ///   - ignorePrivate: Default `false`.
    ///   - ignoreSetCookie: Default `false`.
    ///   - staleWhileRevalidate: Default 0.
    ///   - staleIfError: Default 0.
    ///   - maxStale: Default no cap.
    ///   - heuristicMaxTTL: Default one day (as Apache Traffic Server).
    ///   - honorRequestDirectives: Default `true`.
    public init(
        defaultTTL: Int64? = nil,
        minTTL: Int64? = nil,
        maxTTL: Int64? = nil,
        statusTTL: [Int: Int64] = [:],
        cacheableStatuses: Set<Int>? = nil,
        ignoreNoCache: Bool = false,
        ignorePrivate: Bool = false,
        ignoreSetCookie: Bool = false,
        staleWhileRevalidate: Int64 = 0,
        staleIfError: Int64 = 0,
        maxStale: Int64? = nil,
        heuristicMaxTTL: Int64 = 86_400,
        honorRequestDirectives: Bool = true
    ) {
        self.defaultTTL = defaultTTL
        self.minTTL = minTTL
        self.maxTTL = maxTTL
        self.statusTTL = statusTTL
        self.cacheableStatuses = cacheableStatuses
        self.ignoreNoCache = ignoreNoCache
        self.ignorePrivate = ignorePrivate
        self.ignoreSetCookie = ignoreSetCookie
        self.staleWhileRevalidate = staleWhileRevalidate
        self.staleIfError = staleIfError
        self.maxStale = maxStale
        self.heuristicMaxTTL = heuristicMaxTTL
        self.honorRequestDirectives = honorRequestDirectives
    }

    /// The signed-URL defaults: `200` only, one hour when the origin says nothing.
    public static let signedURLs = CacheOverrides(defaultTTL: 3600, cacheableStatuses: [200])
}
