// SPDX-License-Identifier: Apache-2.0

@testable import MoxyCache
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

    @Test func shardsAsManyAsTheLargestEntryAllows() {
        #expect(MemoryStore(capacity: 64 << 20).shardCount == 8)  // entries up to an eighth
        #expect(MemoryStore(capacity: 64 << 20, maxEntrySize: 1 << 20).shardCount == 16)
        #expect(MemoryStore(capacity: 64 << 20, maxEntrySize: 64 << 20).shardCount == 1)
        #expect(MemoryStore(capacity: 64 << 20, maxEntrySize: 1 << 20, shards: 4).shardCount == 4)
        #expect(MemoryStore(capacity: 0).shardCount == 1)
        #expect(MemoryStore.shardBits(capacity: 100, maxEntrySize: 30, most: 16) == 1)
    }

    @Test func keysSpreadOverTheShardsAndEveryOperationFindsTheirs() {
        let store = MemoryStore(capacity: 16 << 20, maxEntrySize: 1 << 20)
        let keys = (0..<1_000).map { "route|example.com/assets/\($0).png" }
        for key in keys { #expect(store.put(key, response(size: 10))) }
        #expect(store.stats.count == 1_000)
        #expect(keys.allSatisfy { store.get($0) != nil && store.peek($0) != nil })
        #expect(Set(store.keys { $0.hasSuffix("7.png") }) == Set(keys.filter { $0.hasSuffix("7.png") }))
        // Spread: hashing 1,000 keys into 16 shards leaves none empty or holding a third.
        var perShard = [Int](repeating: 0, count: 16)
        for key in keys { perShard[Int(MemoryStore.hash(key, seed: 42) >> 60)] += 1 }
        #expect(perShard.allSatisfy { $0 > 20 && $0 < 333 })
        for key in keys { store.remove(key) }
        #expect(store.stats.count == 0 && store.stats.bytes == 0)
    }

    @Test func theHashReadsEveryByte() {
        let base = "route|example.com/a/b/c/d/e/f/g/h"
        var seen = Set<UInt64>()
        for index in base.utf8.indices {
            var bytes = Array(base.utf8)
            bytes[base.utf8.distance(from: base.utf8.startIndex, to: index)] ^= 1
            seen.insert(MemoryStore.hash(String(decoding: bytes, as: UTF8.self), seed: 1))
        }
        #expect(seen.count == base.utf8.count)
        #expect(MemoryStore.hash(base, seed: 1) != MemoryStore.hash(base, seed: 2))
    }

    @Test func concurrentUseStaysWithinTheCapacity() async {
        let store = MemoryStore(capacity: 400_000, maxEntrySize: 20_000)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for index in 0..<2_000 {
                        let key = "k\((worker * 7 + index) % 3_000)"
                        if index % 3 == 0 { store.put(key, self.response(size: index % 5_000)) } else { _ = store.get(key) }
                    }
                }
            }
        }
        #expect(store.stats.bytes <= 400_000)
        #expect(store.stats.count > 0)
    }

    @Test func freshnessAndAge() {
        let entry = response(size: 1)
        #expect(entry.age(at: 1_010) == 10)
        #expect(entry.isFresh(at: 1_059))
        #expect(!entry.isFresh(at: 1_060))
        #expect(entry.age(at: 900) == 0)
    }
}
