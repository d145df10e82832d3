// SPDX-License-Identifier: Apache-2.0

import NIOConcurrencyHelpers

/// A memory tier bounded in bytes, with O(1) get, put and remove, evicting by S3-FIFO (default,
/// scan-resistant) or LRU (for comparison).
///
/// The keys are spread by a hash over up to 16 shards, each with its own lock and its own policy
/// over an equal part of the capacity (pingora's `ConcurrentHashTable` shards the same way): event
/// loops hitting different keys do not wait for each other. An operation takes its shard's lock
/// briefly; no allocation happens on a hit (S3-FIFO's hit only bumps a counter).
public final class MemoryStore: CacheStore, Sendable {
    /// Counters describing the store.
    public struct Stats: Sendable, Hashable {
        /// Entries held.
        public var count: Int
        /// Bytes held (as counted by ``CachedResponse/cost``).
        public var bytes: Int
        /// Entries evicted to make room since start.
        public var evictions: Int
    }

    /// How the tier chooses what to evict.
    public enum Policy: String, Sendable, CaseIterable {
        /// ``S3FIFOPolicy``: one-hit wonders and scans do not push popular entries out.
        case s3fifo
        /// ``LRUPolicy``: least recently used.
        case lru
    }

    /// The entries under one policy, with the eviction count.
    private struct State<P: EvictionPolicy & Sendable>: Sendable where P.Key == String, P.Value == CachedResponse {
        var policy: P
        var evictions = 0
    }

    /// One lock-protected policy; an enum of boxes, so an operation switches once and mutates in place.
    private enum Backing: Sendable {
        case s3fifo(NIOLockedValueBox<State<S3FIFOPolicy<String, CachedResponse>>>)
        case lru(NIOLockedValueBox<State<LRUPolicy<String, CachedResponse>>>)
    }

    /// The most bytes the store holds.
    public let capacity: Int
    /// The largest single entry accepted.
    public let maxEntrySize: Int
    /// The eviction policy.
    public let policy: Policy
    /// The shards, a power of two of them.
    private let shards: [Backing]
    /// How many bits of the key's hash choose the shard (0: one shard).
    private let shardBits: Int
    /// Seeds the shard hash per process, so no one can aim keys at one shard from outside.
    private let seed: UInt64

    /// Creates a store.
    /// - Parameters:
    ///   - capacity: Maximum total bytes (default 64 MiB).
    ///   - maxEntrySize: Maximum bytes of one entry (default: an eighth of the capacity).
    ///   - policy: The eviction policy (default S3-FIFO).
    ///   - shards: The most shards (default 16); fewer when a shard's part of the capacity would
    ///     not hold an entry of `maxEntrySize`.
    public init(capacity: Int = 64 << 20, maxEntrySize: Int? = nil, policy: Policy = .s3fifo, shards: Int = 16) {
        self.capacity = max(0, capacity)
        self.maxEntrySize = min(self.capacity, maxEntrySize ?? self.capacity / 8)
        self.policy = policy
        let bits = Self.shardBits(capacity: self.capacity, maxEntrySize: self.maxEntrySize, most: shards)
        shardBits = bits
        seed = UInt64.random(in: .min ... .max)
        let part = self.capacity >> bits
        self.shards = (0..<(1 << bits)).map { _ in
            switch policy {
            case .s3fifo: .s3fifo(NIOLockedValueBox(State(policy: S3FIFOPolicy(capacity: part))))
            case .lru: .lru(NIOLockedValueBox(State(policy: LRUPolicy(capacity: part))))
            }
        }
    }

    /// How many shards the store has.
    public var shardCount: Int { shards.count }

    /// The bits of the shard index: the largest power of two of shards, at most `most`, whose
    /// part of the capacity still holds the largest entry.
    static func shardBits(capacity: Int, maxEntrySize: Int, most: Int) -> Int {
        var bits = 0
        while (1 << (bits + 1)) <= most, maxEntrySize > 0, capacity >> (bits + 1) >= maxEntrySize { bits += 1 }
        return bits
    }

    /// The shard of a key.
    @inline(__always)
    private func shard(_ key: String) -> Backing {
        guard shardBits > 0 else { return shards[0] }
        return shards[Int(truncatingIfNeeded: Self.hash(key, seed: seed) >> UInt64(64 - shardBits))]
    }

    /// A cheap, seeded hash of the key's bytes, eight at a time (the shard choice only needs
    /// spread; the policy's own table hashes with SipHash).
    static func hash(_ key: String, seed: UInt64) -> UInt64 {
        var key = key
        return key.withUTF8 { bytes in
            var hash = seed ^ UInt64(truncatingIfNeeded: bytes.count)
            var offset = 0
            while offset + 8 <= bytes.count {
                hash = (hash ^ UInt64(littleEndian: UnsafeRawBufferPointer(bytes).loadUnaligned(fromByteOffset: offset, as: UInt64.self))) &* 0x9E37_79B9_7F4A_7C15
                hash ^= hash >> 29
                offset += 8
            }
            while offset < bytes.count {
                hash = (hash ^ UInt64(bytes[offset])) &* 0x9E37_79B9_7F4A_7C15
                offset += 1
            }
            return (hash ^ (hash >> 32)) &* 0xD6E8_FEB8_6659_FD93
        }
    }

    /// See ``CacheStore/get(_:)``.
    public func get(_ key: String) -> CachedResponse? {
        switch shard(key) {
        case .s3fifo(let box): box.withLockedValue { $0.policy.get(key) }
        case .lru(let box): box.withLockedValue { $0.policy.get(key) }
        }
    }

    /// See ``CacheStore/put(_:_:)``.
    @discardableResult
    public func put(_ key: String, _ response: CachedResponse) -> Bool {
        let cost = response.cost + key.utf8.count
        guard cost <= maxEntrySize else {
            remove(key)
            return false
        }
        switch shard(key) {
        case .s3fifo(let box): box.withLockedValue { Self.put(key, response, cost: cost, into: &$0) }
        case .lru(let box): box.withLockedValue { Self.put(key, response, cost: cost, into: &$0) }
        }
        return true
    }

    private static func put<P>(_ key: String, _ response: CachedResponse, cost: Int, into state: inout State<P>) {
        var evicted = 0
        state.policy.set(key, response, weight: cost) { _, _ in evicted += 1 }
        state.evictions += evicted
    }

    /// See ``CacheStore/remove(_:)``.
    public func remove(_ key: String) {
        switch shard(key) {
        case .s3fifo(let box): box.withLockedValue { _ = $0.policy.remove(key) }
        case .lru(let box): box.withLockedValue { _ = $0.policy.remove(key) }
        }
    }

    /// The keys held that satisfy `predicate` (O(n) under the lock: for purges and listings).
    public func keys(where predicate: (String) -> Bool) -> [String] {
        shards.flatMap { shard in
            switch shard {
            case .s3fifo(let box): box.withLockedValue { $0.policy.keys.filter(predicate) }
            case .lru(let box): box.withLockedValue { $0.policy.keys.filter(predicate) }
            }
        }
    }

    /// The response for a key without counting a use (for purges and listings).
    public func peek(_ key: String) -> CachedResponse? {
        switch shard(key) {
        case .s3fifo(let box): box.withLockedValue { $0.policy.peek(key) }
        case .lru(let box): box.withLockedValue { $0.policy.peek(key) }
        }
    }

    /// A snapshot of the counters, summed over the shards (each shard's at its own instant).
    public var stats: Stats {
        var total = Stats(count: 0, bytes: 0, evictions: 0)
        for shard in shards {
            let part: Stats =
                switch shard {
                case .s3fifo(let box): box.withLockedValue { Stats(count: $0.policy.count, bytes: $0.policy.weight, evictions: $0.evictions) }
                case .lru(let box): box.withLockedValue { Stats(count: $0.policy.count, bytes: $0.policy.weight, evictions: $0.evictions) }
                }
            total.count += part.count
            total.bytes += part.bytes
            total.evictions += part.evictions
        }
        return total
    }
}
