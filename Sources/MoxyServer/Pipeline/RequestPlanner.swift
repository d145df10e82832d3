// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxyValidation

/// Decides, without I/O, how a cache request is answered once its stored entry is known: from the
/// store (fresh, allowed stale, stale while a refresh runs, or the last good entry while the key
/// backs off), by a fetch, or with an error (`only-if-cached`).
enum RequestPlanner {
    /// How to answer.
    enum Plan {
        /// Serve the stored entry.
        case serve(CachedResponse, CacheStatus)
        /// Serve the stored entry and refresh it in the background.
        case serveAndRefresh(CachedResponse, CacheStatus)
        /// Go forward (coalesced, unless the key is hit-for-miss).
        case fetch
        /// Answer with an error.
        case fail(ProxyError)
    }

    /// Plans a cache request.
    /// - Parameters:
    ///   - entry: The stored response for the request, if any.
    ///   - directives: The request's caching directives.
    ///   - validation: The source's rules.
    ///   - backoff: Why the key's upstream is being left alone after invalid (or failed) answers, if it is.
    ///   - now: Unix seconds.
    static func plan(
        entry: CachedResponse?,
        directives: RequestDirectives,
        validation: ValidationConfiguration?,
        backoff: () -> ExchangeMachine.StandIn?,
        now: Int64
    ) -> Plan {
        if let entry {
            let age = entry.age(at: now)
            var status = CacheStatus(.hit(.memory), ttl: entry.freshness.lifetime - age)
            let decision = ReusePolicy.decide(entry.freshness, age: age, request: directives)
            if decision.goesForward, let validation, let backoff = backoff(), ExchangeMachine.lastGood(entry, validation, now: now) != nil {
                // The upstream answered invalid responses lately: keep serving the last good
                // entry, saying why and what the upstream last answered.
                status.outcome = .lastGood(backoff.reason)
                status.forwardStatus = backoff.upstreamStatus
                return .serve(entry, status)
            }
            switch decision {
            case .serve(let stale):
                if stale { status.outcome = .stale(.maxStale) }
                return .serve(entry, status)
            case .serveAndRefresh:
                status.outcome = .stale(.whileRevalidate)
                return .serveAndRefresh(entry, status)
            case .validate:
                break
            }
        }
        if directives.onlyIfCached { return .fail(ProxyError(.notCached, "not in cache (only-if-cached)")) }
        return .fetch
    }

    /// The client limits, copied out of the configuration once (plain numbers: reading them per
    /// request copies nothing).
    struct ClientLimits: Sendable, Equatable {
        var maxURIBytes: Int
        var maxHeaderCount: Int
        var maxHeaderBytes: Int

        init(_ configuration: ServerConfiguration) {
            maxURIBytes = configuration.maxURIBytes
            maxHeaderCount = configuration.maxHeaderCount
            maxHeaderBytes = configuration.maxHeaderBytes
        }
    }

    /// The client limit a request head breaks, if any: 414 for the target, 431 for the fields
    /// (nginx answers 414 and 400/431 likewise). Such a request is answered and the connection closed.
    static func limitRefusal(uriBytes: Int, headerCount: Int, headerBytes: Int, limits: ClientLimits) -> ProxyError? {
        if uriBytes > limits.maxURIBytes {
            return ProxyError(.uriTooLong, "request target longer than \(limits.maxURIBytes) bytes")
        }
        if headerCount > limits.maxHeaderCount {
            return ProxyError(.headersTooLarge, "more than \(limits.maxHeaderCount) header fields")
        }
        if headerBytes > limits.maxHeaderBytes {
            return ProxyError(.headersTooLarge, "header fields larger than \(limits.maxHeaderBytes) bytes")
        }
        return nil
    }
}
