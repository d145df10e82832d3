// SPDX-License-Identifier: Apache-2.0

import MoxyCache

/// Hit ratios of one eviction policy on one request stream.
public struct HitRatio: Sendable, CustomStringConvertible {
    /// Requests answered from the cache.
    public var hits = 0
    /// Requests.
    public var requests = 0
    /// Bytes answered from the cache.
    public var hitBytes = 0
    /// Bytes requested.
    public var bytes = 0

    /// Share of requests that hit.
    public var byRequests: Double { requests == 0 ? 0 : Double(hits) / Double(requests) }
    /// Share of bytes that hit.
    public var byBytes: Double { bytes == 0 ? 0 : Double(hitBytes) / Double(bytes) }
    /// Share of requests that missed.
    public var missRatio: Double { 1 - byRequests }

    public var description: String { "\(percent(byRequests)) req, \(percent(byBytes)) bytes" }

    private func percent(_ value: Double) -> String {
        let tenths = Int((value * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10) %"
    }
}

/// Runs request streams through eviction policies as a cache would: a miss stores the object.
public enum Simulation {
    /// The hit ratio of `policy` on `requests`.
    public static func run<P: EvictionPolicy>(_ policy: inout P, _ requests: [Workload.Request]) -> HitRatio
    where P.Key == Int, P.Value == Int {
        var ratio = HitRatio()
        for request in requests {
            ratio.requests += 1
            ratio.bytes += request.size
            if policy.get(request.key) != nil {
                ratio.hits += 1
                ratio.hitBytes += request.size
            } else if request.size <= policy.capacity / 8 {
                policy.set(request.key, request.size, weight: request.size) { _, _ in }
            }
        }
        return ratio
    }

    /// S3-FIFO and LRU side by side on one workload and cache size.
    public static func compare(_ workload: Workload, requests: [Workload.Request], capacity: Int) -> (s3fifo: HitRatio, lru: HitRatio) {
        var s3fifo = S3FIFOPolicy<Int, Int>(capacity: capacity)
        var lru = LRUPolicy<Int, Int>(capacity: capacity)
        return (run(&s3fifo, requests), run(&lru, requests))
    }
}
