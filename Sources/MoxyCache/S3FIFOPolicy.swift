// SPDX-License-Identifier: Apache-2.0

import NIOCore

/// S3-FIFO (Yang et al., "FIFO queues are all you need for cache eviction", SOSP 2023), weighted
/// by bytes: new entries go to a small FIFO (10 % of the capacity); one that is used again before
/// it leaves the small FIFO moves to the main FIFO, the others leave and are remembered in a ghost
/// FIFO of key hashes, so that one coming back soon goes straight to main. The main FIFO gives an
/// entry used since its last pass another pass (up to three). One-hit wonders and scans therefore
/// pass through the small FIFO without pushing the popular entries out, and a hit only bumps a
/// counter: no list is touched.
public struct S3FIFOPolicy<Key: Hashable, Value>: EvictionPolicy {
    private static var small: UInt8 { 0 }
    private static var main: UInt8 { 1 }
    /// The most passes the main FIFO gives an entry (S3-FIFO's two-bit counter).
    static var maxFrequency: UInt8 { 3 }

    private var table = SlotTable<Key, Value>(queues: 2)
    private var ghost = Ghost()

    /// See ``EvictionPolicy/keys``.
    public var keys: [Key] { Array(table.index.keys) }
    /// See ``EvictionPolicy/capacity``.
    public let capacity: Int
    /// The weight the small FIFO keeps before it evicts.
    public let smallCapacity: Int

    /// See ``EvictionPolicy/init(capacity:)``.
    public init(capacity: Int) {
        self.capacity = max(0, capacity)
        self.smallCapacity = self.capacity / 10
        ghost.capacity = self.capacity - smallCapacity
    }

    /// See ``EvictionPolicy/count``.
    public var count: Int { table.count }
    /// See ``EvictionPolicy/weight``.
    public var weight: Int { table.queues[0].weight + table.queues[1].weight }
    /// Entries in the small and main FIFOs and hashes remembered by the ghost FIFO (for tests).
    var sizes: (small: Int, main: Int, ghost: Int) { (table.queues[0].count, table.queues[1].count, ghost.counts.count) }

    /// See ``EvictionPolicy/get(_:)``.
    public mutating func get(_ key: Key) -> Value? {
        guard let position = table.index[key] else { return nil }
        let frequency = table[frequencyOf: position]
        if frequency < Self.maxFrequency { table[frequencyOf: position] = frequency + 1 }
        return table.value(position)
    }

    /// See ``EvictionPolicy/peek(_:)``.
    public func peek(_ key: Key) -> Value? { table.value(for: key) }

    /// See ``EvictionPolicy/set(_:_:weight:evicted:)``.
    public mutating func set(_ key: Key, _ value: Value, weight: Int, evicted: (Key, Value) -> Void) {
        if let position = table.index[key] {
            // A replaced entry (a refresh) keeps its place and its uses.
            table.replace(position, with: value, weight: weight)
        } else {
            let queue = ghost.remove(key.hashValue) ? Self.main : Self.small
            _ = table.insert(key, value, weight: weight, queue: queue)
        }
        while self.weight > capacity {
            if table.queues[0].weight > smallCapacity || table.queues[1].count == 0 {
                evictSmall(evicted)
            } else {
                evictMain(evicted)
            }
        }
    }

    /// See ``EvictionPolicy/remove(_:)``.
    @discardableResult
    public mutating func remove(_ key: Key) -> Value? {
        guard let position = table.index[key] else { return nil }
        return table.remove(position).value
    }

    /// The small FIFO's oldest entry moves to main if it was used again, else leaves (remembered by
    /// the ghost).
    private mutating func evictSmall(_ evicted: (Key, Value) -> Void) {
        let position = table.queues[0].oldest
        if table[frequencyOf: position] > 0 {
            table[frequencyOf: position] = 0
            table.move(position, to: Self.main)
        } else {
            let weight = table.weight(position)
            let victim = table.remove(position)
            ghost.add(victim.key.hashValue, weight: weight)
            evicted(victim.key, victim.value)
        }
    }

    /// The main FIFO's oldest entry gets another pass if used since its last one, else leaves.
    private mutating func evictMain(_ evicted: (Key, Value) -> Void) {
        let position = table.queues[1].oldest
        let frequency = table[frequencyOf: position]
        if frequency > 0 {
            table[frequencyOf: position] = frequency - 1
            table.move(position, to: Self.main)
        } else {
            let victim = table.remove(position)
            evicted(victim.key, victim.value)
        }
    }

    /// Hashes of keys evicted from the small FIFO, oldest first, bounded in weight by the main
    /// FIFO's share of the capacity.
    struct Ghost {
        var capacity = 0
        var entries = CircularBuffer<(hash: Int, weight: Int)>()
        var counts: [Int: UInt16] = [:]
        var weight = 0

        mutating func add(_ hash: Int, weight: Int) {
            entries.append((hash, weight))
            counts[hash, default: 0] += 1
            self.weight += weight
            while self.weight > capacity, let oldest = entries.popFirst() {
                self.weight -= oldest.weight
                forget(oldest.hash)
            }
        }

        /// Whether the hash was remembered; it is then forgotten (its queue entry expires later).
        mutating func remove(_ hash: Int) -> Bool {
            guard counts[hash] != nil else { return false }
            forget(hash)
            return true
        }

        private mutating func forget(_ hash: Int) {
            guard let count = counts[hash] else { return }
            if count <= 1 { counts.removeValue(forKey: hash) } else { counts[hash] = count - 1 }
        }
    }
}

extension S3FIFOPolicy: Sendable where Key: Sendable, Value: Sendable {}
