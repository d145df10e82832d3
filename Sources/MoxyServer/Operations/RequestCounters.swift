// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import NIOConcurrencyHelpers
import Prometheus

/// `moxy_requests_total{mode,route,method,status_class,cache}` for one source (a route, signed
/// URLs, or requests answered before routing): the counters are made on first use and found by a
/// small integer afterwards, so counting a request takes one short lock and no string work.
final class RequestCounters: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let mode: RequestMode
    private let route: String
    /// The counters made so far, by slot, and per cache result the requests counted (for `/stats`).
    private let state = NIOLockedValueBox<(slots: [Counter?], totals: [Int64])>(
        (Array(repeating: nil, count: RequestCounters.slotCount), Array(repeating: 0, count: CacheResult.allCases.count)))

    static let methods = ["GET", "HEAD", "other"]
    static let statusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"]
    static let slotCount = methods.count * statusClasses.count * CacheResult.allCases.count

    init(registry: PrometheusCollectorRegistry, mode: RequestMode, route: String) {
        self.registry = registry
        self.mode = mode
        self.route = route
    }

    /// Counts one answered request.
    /// - Parameters:
    ///   - method: 0 GET, 1 HEAD, 2 anything else.
    ///   - status: The status sent.
    ///   - result: What the cache did.
    func count(method: Int, status: Int, result: CacheResult) {
        let statusClass = min(4, max(0, status / 100 - 1))
        let slot = (method * Self.statusClasses.count + statusClass) * CacheResult.allCases.count + result.index
        let counter = state.withLockedValue { state -> Counter in
            state.totals[result.index] += 1
            if let counter = state.slots[slot] { return counter }
            let counter = registry.makeCounter(
                descriptor: MoxyMetrics.descriptor(
                    "moxy_requests_total", "Requests answered, by mode, route, method, status class and cache result."),
                labels: [
                    ("mode", mode.rawValue), ("route", route), ("method", Self.methods[method]),
                    ("status_class", Self.statusClasses[statusClass]), ("cache", result.rawValue),
                ])
            state.slots[slot] = counter
            return counter
        }
        counter.increment()
    }

    /// Requests counted so far, per cache result.
    var byResult: [CacheResult: Int64] {
        let totals = state.withLockedValue { $0.totals }
        return Dictionary(uniqueKeysWithValues: CacheResult.allCases.map { ($0, totals[$0.index]) })
    }
}

/// What the cache did for a request, the `cache` label.
enum CacheResult: String, Sendable, CaseIterable {
    /// Served from a stored response without going forward.
    case hit
    /// Served from a stale stored response (stale-while-revalidate, stale-if-error, last good).
    case stale
    /// Went forward and the upstream's answer was sent (stored or not).
    case miss
    /// Went forward with the stored response, which the upstream confirmed (304).
    case revalidated
    /// Not served from the cache by design (unsafe method, hit-for-miss, uncacheable).
    case bypass
    /// Answered by Moxy itself without a cache lookup (a refusal, an error, a service path).
    case none

    var index: Int {
        switch self {
        case .hit: 0
        case .stale: 1
        case .miss: 2
        case .revalidated: 3
        case .bypass: 4
        case .none: 5
        }
    }

    /// What the cache did, as a metrics label, and whether a last good entry stood in for an
    /// invalid or failing upstream answer. Pure: a switch over the typed outcome.
    static func of(_ status: CacheStatus) -> (result: CacheResult, lastGood: Bool) {
        switch status.outcome {
        case .hit: return (.hit, false)
        case .stale: return (.stale, false)
        case .lastGood: return (.stale, true)
        case .answered: return (.none, false)
        case .stored, .notStored:
            switch status.forward {
            case .bypass?: return (.bypass, false)
            case nil: return (.none, false)
            case _ where status.forwardStatus == 304: return (.revalidated, false)
            default: return (.miss, false)
            }
        }
    }
}
