// SPDX-License-Identifier: Apache-2.0

import NIOConcurrencyHelpers

/// A memory tier bounded in bytes, with O(1) get, put and remove, evicting by S3-FIFO (default,
/// scan-resistant) or LRU (for comparison).
///
/// All operations take one lock briefly; no allocation happens on a hit (S3-FIFO's hit only bumps
/// a counter).
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
    private let backing: Backing

    /// Creates a store.
    /// - Parameters:
    ///   - capacity: Maximum total bytes (default 64 MiB).
    ///   - maxEntrySize: Maximum bytes of one entry (default: an eighth of the capacity).
    ///   - policy: The eviction policy (default S3-FIFO).
    public init(capacity: Int = 64 << 20, maxEntrySize: Int? = nil, policy: Policy = .s3fifo) {
        self.capacity = max(0, capacity)
        self.maxEntrySize = min(self.capacity, maxEntrySize ?? self.capacity / 8)
        self.policy = policy
        switch policy {
        case .s3fifo: backing = .s3fifo(NIOLockedValueBox(State(policy: S3FIFOPolicy(capacity: self.capacity))))
        case .lru: backing = .lru(NIOLockedValueBox(State(policy: LRUPolicy(capacity: self.capacity))))
        }
    }

    /// See ``CacheStore/get(_:)``.
    public func get(_ key: String) -> CachedResponse? {
        switch backing {
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
        switch backing {
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
        switch backing {
        case .s3fifo(let box): box.withLockedValue { _ = $0.policy.remove(key) }
        case .lru(let box): box.withLockedValue { _ = $0.policy.remove(key) }
        }
    }

    /// The keys held that satisfy `predicate` (O(n) under the lock: for purges and listings).
    public func keys(where predicate: (String) -> Bool) -> [String] {
        switch backing {
        case .s3fifo(let box): box.withLockedValue { $0.policy.keys.filter(predicate) }
        case .lru(let box): box.withLockedValue { $0.policy.keys.filter(predicate) }
        }
    }

    /// The response for a key without counting a use (for purges and listings).
    public func peek(_ key: String) -> CachedResponse? {
        switch backing {
        case .s3fifo(let box): box.withLockedValue { $0.policy.peek(key) }
        case .lru(let box): box.withLockedValue { $0.policy.peek(key) }
        }
    }

    /// A snapshot of the counters.
    public var stats: Stats {
        switch backing {
        case .s3fifo(let box): box.withLockedValue { Stats(count: $0.policy.count, bytes: $0.policy.weight, evictions: $0.evictions) }
        case .lru(let box): box.withLockedValue { Stats(count: $0.policy.count, bytes: $0.policy.weight, evictions: $0.evictions) }
        }
    }
}
