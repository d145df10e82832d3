// SPDX-License-Identifier: Apache-2.0

/// How long a stored response is fresh, how old it already was when it arrived (RFC 9111 §4.2),
/// and what its directives allow once it is stale.
public struct Freshness: Sendable, Hashable {
    /// The freshness lifetime in seconds.
    public var lifetime: Int64
    /// The corrected initial age in seconds (RFC 9111 §4.2.3).
    public var initialAge: Int64
    /// Whether the lifetime came from the origin (`s-maxage`, `max-age`, `Expires`) rather than a
    /// default or a heuristic.
    public var isExplicit: Bool
    /// `must-revalidate`, `proxy-revalidate` or `s-maxage`: never served stale without validation
    /// (RFC 9111 §5.2.2.2, §5.2.2.8, §5.2.2.10).
    public var mustRevalidate: Bool
    /// `no-cache` without field names: validated before every reuse (RFC 9111 §5.2.2.4).
    public var alwaysRevalidate: Bool
    /// Seconds past expiry in which the entry is served while a refresh runs (RFC 5861 §3).
    public var staleWhileRevalidate: Int64
    /// Seconds past expiry in which the entry is served when the origin fails (RFC 5861 §4).
    public var staleIfError: Int64
    /// Whether `stale-if-error` came from the response itself (it then also applies with `must-revalidate`).
    public var staleIfErrorFromOrigin: Bool
    /// `immutable` (RFC 8246): a fresh entry is not revalidated on client reloads (`max-age=0`).
    public var immutable: Bool
    /// The operator's cap on staleness served in any case; `nil` for none.
    public var maxStale: Int64?
    /// Lowercase field names that must not be stored (qualified `private` / `no-cache`, `Set-Cookie`).
    public var withheldFields: [String] = []

    /// Creates a freshness record.
    /// - Parameters:
    ///   - lifetime: Freshness lifetime in seconds.
    ///   - initialAge: Corrected initial age in seconds.
    ///   - isExplicit: Whether the origin gave the lifetime.
    ///   - mustRevalidate: Never serve stale without validation.
    ///   - alwaysRevalidate: Validate before every reuse.
    ///   - staleWhileRevalidate: Stale-while-revalidate window.
    ///   - staleIfError: Stale-if-error window.
    ///   - staleIfErrorFromOrigin: Whether the origin sent `stale-if-error`.
    ///   - immutable: The `immutable` directive.
    ///   - maxStale: Operator cap on staleness.
    public init(
        lifetime: Int64,
        initialAge: Int64,
        isExplicit: Bool,
        mustRevalidate: Bool = false,
        alwaysRevalidate: Bool = false,
        staleWhileRevalidate: Int64 = 0,
        staleIfError: Int64 = 0,
        staleIfErrorFromOrigin: Bool = false,
        immutable: Bool = false,
        maxStale: Int64? = nil
    ) {
        self.lifetime = lifetime
        self.initialAge = initialAge
        self.isExplicit = isExplicit
        self.mustRevalidate = mustRevalidate
        self.alwaysRevalidate = alwaysRevalidate
        self.staleWhileRevalidate = staleWhileRevalidate
        self.staleIfError = staleIfError
        self.staleIfErrorFromOrigin = staleIfErrorFromOrigin
        self.immutable = immutable
        self.maxStale = maxStale
    }

    /// A record for responses that are never stored.
    public static let uncached = Freshness(lifetime: 0, initialAge: 0, isExplicit: true)

    /// The corrected initial age of a response (RFC 9111 §4.2.3).
    /// - Parameters:
    ///   - ageHeader: The `Age` value, if any.
    ///   - dateHeader: The `Date` value as Unix seconds, if any.
    ///   - requestTime: When the request was sent.
    ///   - responseTime: When the response arrived.
    /// - Returns: Seconds, never negative.
    public static func initialAge(ageHeader: Int64?, dateHeader: Int64?, requestTime: Int64, responseTime: Int64) -> Int64 {
        let apparentAge = max(0, responseTime - (dateHeader ?? responseTime))
        let responseDelay = max(0, responseTime - requestTime)
        let correctedAgeValue = (ageHeader ?? 0) + responseDelay
        return max(apparentAge, correctedAgeValue)
    }
}
