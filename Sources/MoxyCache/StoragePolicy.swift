// SPDX-License-Identifier: Apache-2.0

/// Decides whether a response may be stored by a shared cache, and for how long (RFC 9111 §3, §4.2).
///
/// This is a pure function of the response; it does no I/O. Revalidation (`no-cache`) is not
/// supported yet, so responses that would always need it are not stored.
public struct StoragePolicy: Sendable, Hashable {
    /// Freshness lifetime, in seconds, used when the origin gives none.
    public var defaultTTL: Int64

    /// Creates a policy.
    /// - Parameter defaultTTL: Seconds of freshness when the origin gives no explicit lifetime; `0` stores nothing without one.
    public init(defaultTTL: Int64 = 3600) {
        self.defaultTTL = defaultTTL
    }

    /// The outcome of ``evaluate(status:headers:requestTime:responseTime:)``.
    public enum Decision: Sendable, Hashable {
        /// Store with this freshness.
        case store(Freshness)
        /// Do not store, for the given short reason (e.g. `no-store`).
        case doNotStore(String)
    }

    /// Evaluates a response.
    /// - Parameters:
    ///   - status: The final status code.
    ///   - headers: The response header fields (names in any case).
    ///   - requestTime: Unix seconds when the request was sent.
    ///   - responseTime: Unix seconds when the response arrived.
    /// - Returns: Whether and how long to store it.
    public func evaluate(status: Int, headers: [(name: String, value: String)], requestTime: Int64, responseTime: Int64)
        -> Decision
    {
        guard status == 200 else { return .doNotStore("status \(status)") }
        let cacheControl = CacheControl(headers.values(named: "cache-control"))
        for directive in ["no-store", "private", "no-cache"] where cacheControl.has(directive) {
            return .doNotStore(directive)
        }
        if headers.values(named: "vary").contains(where: { $0.split(separator: ",").contains { $0.trimmingSpaces == "*" } })
        {
            return .doNotStore("vary-star")
        }
        let date = headers.values(named: "date").first.flatMap { HTTPDate.parse($0) }
        let ageValue = headers.values(named: "age").first.flatMap { Int64($0.trimmingSpaces) }.map { max(0, $0) }
        let initialAge = Freshness.initialAge(
            ageHeader: ageValue,
            dateHeader: date,
            requestTime: requestTime,
            responseTime: responseTime
        )
        let lifetime: Int64
        let isExplicit: Bool
        if let sharedMaxAge = cacheControl.seconds("s-maxage") {
            (lifetime, isExplicit) = (sharedMaxAge, true)
        } else if let maxAge = cacheControl.seconds("max-age") {
            (lifetime, isExplicit) = (maxAge, true)
        } else if let expiresText = headers.values(named: "expires").first {
            // An invalid Expires (e.g. "0") means already expired (RFC 9111 §5.3).
            let expires = HTTPDate.parse(expiresText) ?? Int64.min / 2
            lifetime = max(0, expires - (date ?? responseTime))
            isExplicit = true
        } else {
            (lifetime, isExplicit) = (defaultTTL, false)
        }
        guard lifetime > initialAge else { return .doNotStore("stale") }
        return .store(Freshness(lifetime: lifetime, initialAge: initialAge, isExplicit: isExplicit))
    }
}

extension Array where Element == (name: String, value: String) {
    /// The values of every field with the given lowercase name.
    func values(named name: String) -> [String] {
        compactMap { $0.name.lowercased() == name ? $0.value : nil }
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    public var trimmingSpaces: Substring {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
