// SPDX-License-Identifier: Apache-2.0

/// A byte-bounded map that chooses what to evict: the memory tier's policy, also run on its own by
/// the hit-ratio benchmark. Every operation is O(1) (amortised); implementations are not
/// thread-safe (the memory tier holds one under its lock).
public protocol EvictionPolicy<Key, Value> {
    /// The key type.
    associatedtype Key: Hashable
    /// The value type.
    associatedtype Value

    /// Creates an empty policy holding at most `capacity` weight.
    init(capacity: Int)
    /// The most weight held.
    var capacity: Int { get }
    /// Entries held.
    var count: Int { get }
    /// Weight held.
    var weight: Int { get }
    /// The value for a key, counted as a use.
    mutating func get(_ key: Key) -> Value?
    /// The value for a key, not counted as a use.
    func peek(_ key: Key) -> Value?
    /// Stores a value, replacing any previous one for the key, and evicts until the weight fits.
    /// - Parameters:
    ///   - key: The key.
    ///   - value: The value.
    ///   - weight: Its weight (bytes); must not exceed ``capacity``.
    ///   - evicted: Called for each entry evicted to make room (possibly the new one).
    mutating func set(_ key: Key, _ value: Value, weight: Int, evicted: (Key, Value) -> Void)
    /// Removes a key.
    /// - Returns: The value it had.
    @discardableResult
    mutating func remove(_ key: Key) -> Value?
    /// Every key held, in no particular order (O(n): for purges and listings, not requests).
    var keys: [Key] { get }
}

/// Least recently used: a hit moves the entry to the newest end; the oldest is evicted. Kept for
/// comparison (`cache.memory.policy: lru`).
public struct LRUPolicy<Key: Hashable, Value>: EvictionPolicy {
    private var table = SlotTable<Key, Value>(queues: 1)

    /// See ``EvictionPolicy/keys``.
    public var keys: [Key] { Array(table.index.keys) }
    /// See ``EvictionPolicy/capacity``.
    public let capacity: Int

    /// See ``EvictionPolicy/init(capacity:)``.
    public init(capacity: Int) { self.capacity = max(0, capacity) }

    /// See ``EvictionPolicy/count``.
    public var count: Int { table.count }
    /// See ``EvictionPolicy/weight``.
    public var weight: Int { table.queues[0].weight }

    /// See ``EvictionPolicy/get(_:)``.
    public mutating func get(_ key: Key) -> Value? {
        guard let position = table.index[key] else { return nil }
        if table.queues[0].newest != position { table.move(position, to: 0) }
        return table.value(position)
    }

    /// See ``EvictionPolicy/peek(_:)``.
    public func peek(_ key: Key) -> Value? { table.value(for: key) }

    /// See ``EvictionPolicy/set(_:_:weight:evicted:)``.
    public mutating func set(_ key: Key, _ value: Value, weight: Int, evicted: (Key, Value) -> Void) {
        if let position = table.index[key] {
            table.replace(position, with: value, weight: weight)
            table.move(position, to: 0)
        } else {
            _ = table.insert(key, value, weight: weight, queue: 0)
        }
        while table.queues[0].weight > capacity, table.queues[0].oldest >= 0 {
            let victim = table.remove(table.queues[0].oldest)
            evicted(victim.key, victim.value)
        }
    }

    /// See ``EvictionPolicy/remove(_:)``.
    @discardableResult
    public mutating func remove(_ key: Key) -> Value? {
        guard let position = table.index[key] else { return nil }
        return table.remove(position).value
    }
}

extension LRUPolicy: Sendable where Key: Sendable, Value: Sendable {}
