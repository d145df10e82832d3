// SPDX-License-Identifier: Apache-2.0

@testable import MoxyCache
import MoxySimulation
import Testing

/// The memory tier's eviction policies, without a store: deterministic sequences of operations.
@Suite struct EvictionPolicyTests {
    /// Random sets, gets and removes against a dictionary that drops exactly what the policy says it
    /// evicted: the two always agree, the weight is the sum of what is held and never over capacity.
    func agreesWithAModel<P: EvictionPolicy>(_ policy: inout P) where P.Key == Int, P.Value == Int {
        var model: [Int: (value: Int, weight: Int)] = [:]
        var random = SplitMix(state: 42)
        for step in 0..<20_000 {
            let key = Int.random(in: 0..<300, using: &random)
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<4:
                let weight = Int.random(in: 1...40, using: &random)
                model[key] = (step, weight)
                policy.set(key, step, weight: weight) { evictedKey, evictedValue in
                    #expect(model[evictedKey]?.value == evictedValue, "evicted what it held")
                    model.removeValue(forKey: evictedKey)
                }
            case 4:
                #expect(policy.remove(key) == model.removeValue(forKey: key)?.value)
            default:
                #expect(policy.get(key) == model[key]?.value)
            }
            let weight = model.values.reduce(0) { $0 + $1.weight }
            guard policy.count == model.count, policy.weight == weight, policy.weight <= policy.capacity else {
                Issue.record("step \(step): count \(policy.count) vs \(model.count), weight \(policy.weight) vs \(weight)")
                return
            }
        }
    }

    @Test func s3fifoAgreesWithAModel() {
        var policy = S3FIFOPolicy<Int, Int>(capacity: 2_000)
        agreesWithAModel(&policy)
    }

    @Test func lruAgreesWithAModel() {
        var policy = LRUPolicy<Int, Int>(capacity: 2_000)
        agreesWithAModel(&policy)
    }

    /// Ten popular entries, each used again, then a scan of 1,000 entries used once: S3-FIFO keeps
    /// the popular ones (the scan passes through the small FIFO), LRU loses them all.
    @Test func aScanDoesNotPushPopularEntriesOutOfS3FIFO() {
        func survivors<P: EvictionPolicy>(_ policy: inout P) -> Int where P.Key == Int, P.Value == Int {
            for key in 0..<10 { policy.set(key, key, weight: 1) { _, _ in } }
            for key in 0..<10 { _ = policy.get(key) }
            for key in 1_000..<2_000 { policy.set(key, key, weight: 1) { _, _ in } }
            return (0..<10).filter { policy.peek($0) != nil }.count
        }
        var s3fifo = S3FIFOPolicy<Int, Int>(capacity: 100)
        var lru = LRUPolicy<Int, Int>(capacity: 100)
        #expect(survivors(&s3fifo) == 10)
        #expect(survivors(&lru) == 0)
    }

    /// An entry evicted from the small FIFO unused is remembered by the ghost FIFO; set again soon,
    /// it goes straight to the main FIFO.
    @Test func aGhostHitGoesStraightToMain() {
        var policy = S3FIFOPolicy<Int, Int>(capacity: 100)
        for key in 0..<101 { policy.set(key, key, weight: 1) { _, _ in } }
        #expect(policy.peek(0) == nil, "key 0 left unused")
        #expect(policy.sizes.ghost == 1 && policy.sizes.main == 0)
        var evicted: [Int] = []
        policy.set(0, 0, weight: 1) { key, _ in evicted.append(key) }
        // Key 0 is in main; making room sent key 1, unused, from small to the ghost in its place.
        #expect(policy.sizes.main == 1 && evicted == [1] && policy.sizes.ghost == 1)
    }

    /// The main FIFO gives an entry used since its last pass another one (at most three).
    @Test func mainGivesUsedEntriesMorePasses() {
        var policy = S3FIFOPolicy<Int, Int>(capacity: 10)
        // Fill main through the small FIFO: each entry is used once before it is evicted from small.
        for key in 0..<10 {
            policy.set(key, key, weight: 1) { _, _ in }
            _ = policy.get(key)
        }
        for key in 100..<120 { policy.set(key, key, weight: 1) { _, _ in } }
        #expect(policy.sizes.main > 0)
        for _ in 0..<5 { _ = policy.get(9) }
        for key in 200..<260 { policy.set(key, key, weight: 1) { _, _ in } }
        #expect(policy.peek(9) != nil, "a frequently used entry survives")
    }

    @Test func replacingKeepsThePlaceAndTheWeightExact() {
        var policy = S3FIFOPolicy<Int, Int>(capacity: 100)
        policy.set(1, 1, weight: 10) { _, _ in }
        policy.set(1, 2, weight: 30) { _, _ in }
        #expect(policy.weight == 30 && policy.count == 1 && policy.get(1) == 2)
        var evicted: [Int] = []
        policy.set(2, 2, weight: 80) { key, _ in evicted.append(key) }
        #expect(policy.weight <= 100 && !evicted.isEmpty)
    }
}
