// SPDX-License-Identifier: Apache-2.0

/// How long a stored response is fresh, and how old it already was when it arrived (RFC 9111 §4.2).
public struct Freshness: Sendable, Hashable {
    /// The freshness lifetime in seconds.
    public let lifetime: Int64
    /// The corrected initial age in seconds (RFC 9111 §4.2.3).
    public let initialAge: Int64
    /// Whether the lifetime came from the origin (`s-maxage`, `max-age`, `Expires`) rather than a default.
    public let isExplicit: Bool

    /// Creates a freshness record.
    /// - Parameters:
    ///   - lifetime: Freshness lifetime in seconds.
    ///   - initialAge: Corrected initial age in seconds.
    ///   - isExplicit: Whether the origin gave the lifetime.
    public init(lifetime: Int64, initialAge: Int64, isExplicit: Bool) {
        self.lifetime = lifetime
        self.initialAge = initialAge
        self.isExplicit = isExplicit
    }

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
