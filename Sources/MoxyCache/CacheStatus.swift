// SPDX-License-Identifier: Apache-2.0

/// Builds an RFC 9211 `Cache-Status` value for this cache.
public struct CacheStatus: Sendable, Hashable {
    /// Why the request went forward (RFC 9211 §2.2).
    public enum Forward: String, Sendable, Hashable {
        /// No stored response for the URI.
        case uriMiss = "uri-miss"
        /// Stored responses exist but none matches the request's `Vary` fields.
        case varyMiss = "vary-miss"
        /// The stored response was stale and needed validation.
        case stale
        /// The request's directives forced the origin to be contacted.
        case request
        /// The cache was configured not to serve this request from cache (unsafe method, hit-for-miss).
        case bypass
        /// A miss in general.
        case miss
    }

    /// What the cache did; says `hit`, `stored` and `detail`.
    public var outcome: CacheOutcome
    /// Why the request went forward, if it did.
    public var forward: Forward?
    /// The status the origin answered with, if forwarded.
    public var forwardStatus: Int?
    /// Remaining freshness in seconds (negative when stale).
    public var ttl: Int64?
    /// Whether the request was collapsed into another one's fetch.
    public var collapsed = false
    /// The cache key, when the operator asked for it.
    public var key: String?

    /// Creates a value.
    public init(
        _ outcome: CacheOutcome,
        forward: Forward? = nil,
        forwardStatus: Int? = nil,
        ttl: Int64? = nil,
        collapsed: Bool = false,
        key: String? = nil
    ) {
        self.outcome = outcome
        self.forward = forward
        self.forwardStatus = forwardStatus
        self.ttl = ttl
        self.collapsed = collapsed
        self.key = key
    }

    /// Whether the response came from the cache without going forward.
    public var hit: Bool { outcome.isHit }
    /// Whether the response was stored.
    public var stored: Bool { outcome.isStored }
    /// The `detail` parameter (`no-store`, `stale-if-error`, `too-large`, …).
    public var detail: String? { outcome.detail }

    /// The field value, e.g. `moxy; fwd=uri-miss; fwd-status=200; stored; ttl=60`.
    /// - Parameter cacheName: The cache's name in the field.
    /// - Returns: The value.
    public func value(cacheName: String = "moxy") -> String {
        var text = cacheName
        if hit { text += "; hit" }
        if let forward { text += "; fwd=" + forward.rawValue }
        if let forwardStatus { text += "; fwd-status=\(forwardStatus)" }
        if stored { text += "; stored" }
        if collapsed { text += "; collapsed" }
        if let ttl { text += "; ttl=\(ttl)" }
        if let key { text += "; key=\"" + key.replacingQuotes() + "\"" }
        if let detail { text += "; detail=" + detail }
        return text
    }
}

extension String {
    fileprivate func replacingQuotes() -> String {
        var result = ""
        for char in self {
            if char == "\"" || char == "\\" { result.append("\\") }
            result.append(char)
        }
        return result
    }
}
