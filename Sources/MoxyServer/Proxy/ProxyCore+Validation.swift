// SPDX-License-Identifier: Apache-2.0

import Logging
import Metrics
import MoxyCache
import MoxyValidation
import NIOConcurrencyHelpers
import NIOCore

/// How long the upstream is left alone for one key after invalid responses.
struct ValidationBackoff: Sendable {
    /// Invalid responses in a row.
    var failures: Int
    /// Until when (Unix milliseconds) the last good entry is served without asking the upstream.
    var until: Int64
}

extension ProxyCore {
    /// Most keys remembered in back-off; past it the memory is cleared (the next failure starts over).
    static let backoffLimit = 10_000

    /// The validation settings of a request's source, if any.
    func validation(for request: CacheRequest) -> ValidationConfiguration? {
        switch request.source {
        case .signed: configuration.signedValidation
        case .route(let route, _): route.validation
        }
    }

    /// The name failures are counted under: the route's, or `signed`.
    static func sourceName(_ request: CacheRequest) -> String {
        switch request.source {
        case .signed: "signed"
        case .route(let route, _): route.name
        }
    }

    /// The stored entry when it may still answer as the last known good one.
    static func lastGood(_ entry: CachedResponse?, _ validation: ValidationConfiguration, now: Int64) -> CachedResponse? {
        guard let entry, entry.variantGeneration == nil,
            ReusePolicy.canServeLastGood(entry.freshness, age: entry.age(at: now), keepLastGood: validation.keepLastGood)
        else { return nil }
        return entry
    }

    /// Whether the upstream is being left alone for a key after invalid responses.
    func isBackingOff(_ key: String) -> Bool {
        let now = UnixTime.nowMilliseconds()
        return backoff.withLockedValue { map in
            guard let state = map[key] else { return false }
            return state.until > now
        }
    }

    /// Records an invalid response for a key: the next attempt waits `backoff × 2^(failures-1)`, capped.
    func backOff(_ key: String, _ validation: ValidationConfiguration) {
        let now = UnixTime.nowMilliseconds()
        backoff.withLockedValue { map in
            if map.count >= Self.backoffLimit, map[key] == nil { map.removeAll(keepingCapacity: true) }
            let failures = (map[key]?.failures ?? 0) + 1
            let delay = min(validation.backoff * Double(1 << min(failures - 1, 20)), validation.maxBackoff)
            map[key] = ValidationBackoff(failures: failures, until: now + Int64(delay * 1000))
        }
    }

    /// Forgets a key's back-off after a valid response.
    func clearBackoff(_ key: String) {
        backoff.withLockedValue { map in
            if !map.isEmpty { _ = map.removeValue(forKey: key) }
        }
    }

    /// Counts and logs one invalid response.
    func recordInvalid(
        _ failure: ValidationFailure,
        request: CacheRequest,
        url: String,
        status: Int,
        body: ByteBuffer?
    ) {
        let source = Self.sourceName(request)
        validationFailures.withLockedValue { $0[ValidationCount(source: source, rule: failure.rule), default: 0] += 1 }
        Counter(label: "moxy_validation_failures_total", dimensions: [("route", source), ("rule", failure.rule)]).increment()
        logger.warning(
            "invalid upstream response",
            metadata: [
                "route": "\(source)",
                "url": "\(url)",
                "rule": "\(failure.rule)",
                "reason": "\(failure.reason)",
                "status": "\(status)",
                "body": "\(BodyExcerpt.make(body))",
            ]
        )
    }

    /// What the client gets when the upstream's response failed validation: the last good entry when
    /// there is one, else the source's `on_invalid` choice.
    /// - Parameters:
    ///   - failure: The failed rule.
    ///   - validation: The source's settings.
    ///   - request: The request.
    ///   - lookup: Its lookup (the entry is the last good candidate).
    ///   - forward: Why it went forward.
    ///   - status: The upstream's status.
    ///   - passThrough: The invalid response as it would be forwarded uncached (`on_invalid: pass`).
    func invalidOutcome(
        _ failure: ValidationFailure,
        validation: ValidationConfiguration,
        request: CacheRequest,
        lookup: CacheLookup,
        forward: CacheStatus.Forward,
        status: Int,
        passThrough: () -> ProxyOutcome
    ) -> ProxyOutcome {
        if let good = Self.lastGood(lookup.entry, validation, now: UnixTime.now()) {
            backOff(lookup.storeKey, validation)
            return .complete(good, CacheStatus(hit: true, forward: forward, forwardStatus: status, detail: Self.invalidDetail))
        }
        markHitForMiss(request.key, now: UnixTime.now(), seconds: request.overrides.hitForMiss)
        switch validation.onInvalid {
        case .pass:
            var outcome = passThrough()
            outcome.cacheStatus.detail = Self.invalidDetail
            return outcome
        case .error:
            let error = ProxyError(.invalidResponse, "upstream response failed validation (\(failure.rule))")
            return .complete(
                errorResponse(error, profile: request.isSigned ? nil : .moxy),
                CacheStatus(forward: forward, forwardStatus: status, detail: Self.invalidDetail),
                isError: true
            )
        }
    }

    /// The `Cache-Status` detail of responses that stand in for an invalid one.
    static let invalidDetail = "INVALID-BODY"
}

/// The failures counted for one source (route name or `signed`) and rule.
public struct ValidationCount: Sendable, Hashable {
    /// The route's name, or `signed`.
    public var source: String
    /// The failed rule's name.
    public var rule: String

    /// Creates a count key.
    public init(source: String, rule: String) {
        self.source = source
        self.rule = rule
    }
}
