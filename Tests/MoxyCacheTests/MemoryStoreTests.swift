// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import NIOCore
import Testing

@Suite struct MemoryStoreTests {
    func response(size: Int) -> CachedResponse {
        CachedResponse(
            status: 200,
            fields: [("Content-Type", "image/png")],
            body: ByteBuffer(repeating: 7, count: size),
            responseTime: 1_000,
            freshness: Freshness(lifetime: 60, initialAge: 0, isExplicit: true),
            downstreamMaxAge: 60
        )
    }

    @Test func storesAndReturnsTheSameObject() {
        let store = MemoryStore(capacity: 1 << 20)
        let entry = response(size: 100)
        #expect(store.put("a", entry))
        #expect(store.get("a") === entry)
        #expect(store.get("b") == nil)
        store.remove("a")
        #expect(store.get("a") == nil)
        #expect(store.stats.bytes == 0)
    }

    @Test func lruEvictsTheLeastRecentlyUsedWhenFull() {
        let one = response(size: 1000).cost + 1
        let store = MemoryStore(capacity: one * 3, maxEntrySize: one * 3, policy: .lru)
        store.put("a", response(size: 1000))
        store.put("b", response(size: 1000))
        store.put("c", response(size: 1000))
        _ = store.get("a")  // a is now the most recent; b the least
        store.put("d", response(size: 1000))
        #expect(store.get("b") == nil)
        #expect(store.get("a") != nil && store.get("c") != nil && store.get("d") != nil)
        #expect(store.stats.evictions == 1)
        #expect(store.stats.bytes <= store.capacity)
    }

    @Test func refusesEntriesAboveTheEntryLimitAndDropsTheOldOne() {
        let store = MemoryStore(capacity: 100_000, maxEntrySize: 5_000)
        store.put("a", response(size: 100))
        #expect(!store.put("a", response(size: 10_000)))
        #expect(store.get("a") == nil)
    }

    @Test func replacingAKeyKeepsTheByteCountExact() {
        let store = MemoryStore(capacity: 1 << 20)
        store.put("a", response(size: 100))
        store.put("a", response(size: 300))
        #expect(store.stats.count == 1)
        #expect(store.stats.bytes == response(size: 300).cost + 1)
    }

    @Test(arguments: MemoryStore.Policy.allCases)
    func staysBoundedUnderManyInserts(_ policy: MemoryStore.Policy) {
        let store = MemoryStore(capacity: 50_000, maxEntrySize: 8_000, policy: policy)
        for index in 0..<2_000 { store.put("k\(index)", response(size: index % 3_000)) }
        #expect(store.stats.bytes <= 50_000)
        #expect(store.get("k1999") != nil)
    }

    @Test func freshnessAndAge() {
        let entry = response(size: 1)
        #expect(entry.age(at: 1_010) == 10)
        #expect(entry.isFresh(at: 1_059))
        #expect(!entry.isFresh(at: 1_060))
        #expect(entry.age(at: 900) == 0)
    }
}
