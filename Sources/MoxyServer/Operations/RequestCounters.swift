// SPDX-License-Identifier: Apache-2.0

import MoxyCache

/// `moxy_requests_total{mode,route,method,status_class,cache}` for one source (a route, signed
/// URLs, or requests answered before routing): one counter per method, status class and cache
/// result, in per-event-loop lanes (``LaneCounters``), so counting a request is one relaxed atomic
/// add on the loop's own cache line: no lock, no string work. The scrape sums the lanes and
/// writes the series ever counted.
final class RequestCounters: Sendable {
    let mode: RequestMode
    let route: String
    private let counts: LaneCounters

    static let methods = ["GET", "HEAD", "other"]
    static let statusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"]
    static let slotCount = methods.count * statusClassCount * CacheResult.count
    /// `statusClasses.count` as a constant, for the hot path (no static array read).
    static var statusClassCount: Int { 5 }

    /// - Parameters:
    ///   - lanes: Lanes (the server's event loop count).
    init(mode: RequestMode, route: String, lanes: Int) {
        self.mode = mode
        self.route = route
        self.counts = LaneCounters(lanes: lanes, slots: Self.slotCount)
    }

    /// Counts one answered request.
    /// - Parameters:
    ///   - method: 0 GET, 1 HEAD, 2 anything else.
    ///   - status: The status sent.
    ///   - result: What the cache did.
    ///   - lane: The counting event loop's lane (see ``MoxyMetrics/lane(for:)``).
    @inline(__always)
    func count(method: Int, status: Int, result: CacheResult, lane: Int) {
        let statusClass = min(4, max(0, status / 100 - 1))
        let slot = (method &* Self.statusClassCount &+ statusClass) &* CacheResult.count &+ result.index
        counts.add(1, lane: lane, slot: slot)
    }

    /// Requests counted so far, per cache result.
    var byResult: [CacheResult: Int64] {
        let results = CacheResult.allCases
        var byResult: [CacheResult: Int64] = [:]
        for result in results { byResult[result] = 0 }
        for (slot, total) in counts.totals.enumerated() { byResult[results[slot % CacheResult.count], default: 0] += Int64(total) }
        return byResult
    }

    /// Appends the Prometheus samples of every series counted at least once (a series appears
    /// with its first request, as a counter made on first use would).
    func appendSamples(to text: inout String) {
        let results = CacheResult.allCases
        for (slot, total) in counts.totals.enumerated() where total > 0 {
            let method = Self.methods[slot / (CacheResult.count * Self.statusClassCount)]
            let statusClass = Self.statusClasses[slot / CacheResult.count % Self.statusClassCount]
            let result = results[slot % CacheResult.count]
            text += "moxy_requests_total{mode=\"\(mode.rawValue)\",route=\"\(PrometheusText.escape(route))\","
            text += "method=\"\(method)\",status_class=\"\(statusClass)\",cache=\"\(result.rawValue)\"} \(total)\n"
        }
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

    /// `allCases.count` as a constant, for the hot path (`allCases` builds an array).
    static var count: Int { 6 }

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
