// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxySharedTier

extension MoxyMetrics {
    /// The slower tiers' write-behind queues and the shared tier's calls, purge feed and breaker
    /// (refreshed at each scrape, like ``updateTiers(memory:disk:validation:)``).
    func updateSlowerTiers(_ tiers: TieredCache) {
        for queue in tiers.queues {
            let counters = queue.counters
            let tier = [("tier", queue.tier.kind.rawValue)]
            counter("moxy_tier_writes_total", tier, reaching: counters.done, help: "Writes and removals run by a slower tier's write-behind queue.")
            counter("moxy_tier_writes_dropped_total", tier, reaching: counters.dropped, help: "Writes dropped because a slower tier's queue was full.")
        }
        guard let shared = tiers.shared?.stats else { return }
        for (name, count) in shared.operations {
            guard let split = name.firstIndex(of: "_") else { continue }
            counter(
                "moxy_shared_operations_total", [("operation", String(name[..<split])), ("result", String(name[name.index(after: split)...]))],
                reaching: count, help: "Shared-tier calls by operation and result (hit, miss, stored, timeout, unavailable, refused, ...).")
        }
        for operation in SharedTier.Operation.allCases {
            let calls = shared.latencyCount[operation] ?? 0
            guard calls > 0 else { continue }
            // Milliseconds summed: with the count, the mean latency of calls that answered.
            counter(
                "moxy_shared_latency_milliseconds_total", [("operation", operation.rawValue)],
                reaching: Int((shared.latencySeconds[operation] ?? 0) * 1000), help: "Milliseconds spent in shared-tier calls that answered.")
            counter("moxy_shared_answered_total", [("operation", operation.rawValue)], reaching: calls, help: "Shared-tier calls that answered.")
        }
        gauge("moxy_shared_breaker_state", [], shared.breaker, help: "The shared tier's circuit breaker: 0 closed, 1 open, 2 half-open.")
        counter("moxy_shared_purges_applied_total", [], reaching: shared.purgesApplied, help: "Purges of other nodes applied from the purge feed.")
        gauge("moxy_shared_purge_lag_milliseconds", [], Int(shared.purgeLagMilliseconds), help: "How long the last purge from another node took to arrive.")
        counter("moxy_shared_feed_gaps_total", [], reaching: shared.feedGaps, help: "Times this node fell behind the purge feed and marked all it holds stale.")
    }
}
