// SPDX-License-Identifier: Apache-2.0

/// Decides whether a stored response can answer a request (RFC 9111 §4, §4.2.4; RFC 5861; RFC 8246).
///
/// Pure and clock-injected: callers pass the entry's freshness, its current age and the request's
/// directives; the server only carries out the decision.
public enum ReusePolicy {
    /// What to do with a stored response.
    public enum Decision: Sendable, Hashable {
        /// Serve it: fresh, or stale within what the request's `max-stale` accepts (`stale` tells which).
        case serve(stale: Bool)
        /// Serve it stale and refresh it in the background (`stale-while-revalidate`).
        case serveAndRefresh
        /// Contact the origin first (conditionally when the entry has validators).
        case validate

        /// Whether the decision contacts the origin (now or in the background).
        public var goesForward: Bool { self != .serve(stale: false) && self != .serve(stale: true) }
    }

    /// Decides for one stored response.
    /// - Parameters:
    ///   - freshness: The entry's freshness.
    ///   - age: Its current age (RFC 9111 §4.2.3).
    ///   - request: The request's directives (``RequestDirectives/none`` when the operator ignores them).
    /// - Returns: The decision.
    public static func decide(_ freshness: Freshness, age: Int64, request: RequestDirectives) -> Decision {
        let remaining = freshness.lifetime - age
        let fresh = remaining > 0
        if request.noCache || freshness.alwaysRevalidate { return .validate }
        // RFC 8246: an immutable response is not revalidated on a reload (max-age=0) while fresh.
        // `max-age=0` (a reload) always validates: ages are whole seconds, so "older than 0" would
        // otherwise miss a response stored less than a second ago.
        if let maxAge = request.maxAge, age > maxAge || maxAge == 0, !(freshness.immutable && fresh) { return .validate }
        if let minFresh = request.minFresh, remaining < minFresh { return .validate }
        if fresh { return .serve(stale: false) }
        let staleness = age - freshness.lifetime
        if let cap = freshness.maxStale, staleness > cap { return .validate }
        if freshness.mustRevalidate { return .validate }
        if let accepted = request.maxStale, accepted.map({ staleness <= $0 }) ?? true { return .serve(stale: true) }
        if staleness < freshness.staleWhileRevalidate { return .serveAndRefresh }
        return .validate
    }

    /// Whether a stored response may answer when the origin failed (connection error, timeout, 5xx):
    /// RFC 5861 §4 `stale-if-error` or the operator's window, never past the operator's cap, and
    /// with `must-revalidate` only when the origin itself sent `stale-if-error`.
    /// - Parameters:
    ///   - freshness: The entry's freshness.
    ///   - age: Its current age.
    /// - Returns: `true` to serve it.
    public static func canServeOnError(_ freshness: Freshness, age: Int64) -> Bool {
        let staleness = age - freshness.lifetime
        if staleness < 0 { return true }
        if let cap = freshness.maxStale, staleness > cap { return false }
        if freshness.mustRevalidate && !freshness.staleIfErrorFromOrigin { return false }
        return staleness < freshness.staleIfError
    }

    /// Whether a stored response may answer as the last known good entry when the upstream's new
    /// response failed the route's validation rules: fresh, or stale by at most `keepLastGood`
    /// seconds and never past the operator's cap. The operator asked for validation, so this holds
    /// even past `stale-if-error` and for `must-revalidate` entries: a known-good answer beats a
    /// known-bad one.
    /// - Parameters:
    ///   - freshness: The entry's freshness.
    ///   - age: Its current age.
    ///   - keepLastGood: The window past freshness, in seconds.
    /// - Returns: `true` to serve it.
    public static func canServeLastGood(_ freshness: Freshness, age: Int64, keepLastGood: Int64) -> Bool {
        let staleness = age - freshness.lifetime
        if staleness < 0 { return true }
        if let cap = freshness.maxStale, staleness > cap { return false }
        return staleness <= keepLastGood
    }
}
