// SPDX-License-Identifier: Apache-2.0

import MoxyCache
@testable import MoxyServer
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// A slower tier's writes never wait and never grow without bound: a full queue drops and counts.
@Suite struct WriteBehindQueueTests {
    /// A tier whose writes wait until released, counting what reached it.
    final class GatedTier: SlowerTier {
        let released = NIOLockedValueBox(false)
        let written = NIOLockedValueBox<[String]>([])
        var kind: CacheTierKind { .shared }
        var maxEntrySize: Int { 1 << 20 }
        func read(_ key: String, inMemoryLimit: Int) async -> TierRead? { nil }
        func beginWrite(_ header: StoredEntry, declaredLength: Int?) async -> (any TierWriter)? { nil }
        func remove(_ key: String) async {
            while !released.withLockedValue({ $0 }) { try? await Task.sleep(for: .milliseconds(1)) }
            written.withLockedValue { $0.append(key) }
        }
        func apply(_ purge: PurgeRecord) async -> PurgeSweep? { nil }
    }

    @Test func aFullQueueDropsAndCountsAndTheRestRunsToTheEnd() async throws {
        let tier = GatedTier()
        let queue = WriteBehindQueue(tier: tier, capacity: 4, workers: 2)
        // Nothing runs yet: four wait, the rest are dropped at once (the caller never waits).
        let accepted = (0..<10).map { index in queue.submit { await $0.remove("k\(index)") } }
        #expect(accepted == Array(repeating: true, count: 4) + Array(repeating: false, count: 6))
        #expect(queue.counters.dropped == 6)
        let running = Task { await queue.run() }
        tier.released.withLockedValue { $0 = true }
        queue.finish()
        await running.value
        #expect(Set(tier.written.withLockedValue { $0 }) == ["k0", "k1", "k2", "k3"])
        #expect(queue.counters.done == 4)
        #expect(!queue.submit { await $0.remove("late") }, "closed")
    }
}
