// SPDX-License-Identifier: Apache-2.0

import NIOConcurrencyHelpers

/// A memory tier bounded in bytes, with O(1) get, put and remove and least-recently-used eviction.
///
/// All operations take one lock briefly; no allocation happens on a hit.
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

    private final class Node: @unchecked Sendable {  // only touched under the lock
        let key: String
        var value: CachedResponse
        var cost: Int
        var newer: Node?
        var older: Node?

        init(key: String, value: CachedResponse) {
            self.key = key
            self.value = value
            self.cost = value.cost + key.utf8.count
        }
    }

    private struct State {
        var nodes: [String: Node] = [:]
        var newest: Node?
        var oldest: Node?
        var bytes = 0
        var evictions = 0

        mutating func unlink(_ node: Node) {
            if let newer = node.newer { newer.older = node.older } else { newest = node.older }
            if let older = node.older { older.newer = node.newer } else { oldest = node.newer }
            node.newer = nil
            node.older = nil
        }

        mutating func pushNewest(_ node: Node) {
            node.older = newest
            node.newer = nil
            newest?.newer = node
            newest = node
            if oldest == nil { oldest = node }
        }
    }

    /// The most bytes the store holds.
    public let capacity: Int
    /// The largest single entry accepted.
    public let maxEntrySize: Int
    private let state = NIOLockedValueBox(State())

    /// Creates a store.
    /// - Parameters:
    ///   - capacity: Maximum total bytes (default 64 MiB).
    ///   - maxEntrySize: Maximum bytes of one entry (default: an eighth of the capacity).
    public init(capacity: Int = 64 << 20, maxEntrySize: Int? = nil) {
        self.capacity = max(0, capacity)
        self.maxEntrySize = min(self.capacity, maxEntrySize ?? self.capacity / 8)
    }

    /// See ``CacheStore/get(_:)``.
    public func get(_ key: String) -> CachedResponse? {
        state.withLockedValue { state in
            guard let node = state.nodes[key] else { return nil }
            if state.newest !== node {
                state.unlink(node)
                state.pushNewest(node)
            }
            return node.value
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
        let node = Node(key: key, value: response)
        state.withLockedValue { state in
            if let previous = state.nodes.removeValue(forKey: key) {
                state.unlink(previous)
                state.bytes -= previous.cost
            }
            while state.bytes + cost > capacity, let victim = state.oldest {
                state.unlink(victim)
                state.nodes.removeValue(forKey: victim.key)
                state.bytes -= victim.cost
                state.evictions += 1
            }
            state.nodes[key] = node
            state.pushNewest(node)
            state.bytes += cost
        }
        return true
    }

    /// See ``CacheStore/remove(_:)``.
    public func remove(_ key: String) {
        state.withLockedValue { state in
            guard let node = state.nodes.removeValue(forKey: key) else { return }
            state.unlink(node)
            state.bytes -= node.cost
        }
    }

    /// A snapshot of the counters.
    public var stats: Stats {
        state.withLockedValue { Stats(count: $0.nodes.count, bytes: $0.bytes, evictions: $0.evictions) }
    }
}
