// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import NIOCore

/// The large entries (bodies on disk only) looked up most recently, with their files open, so
/// that a popular large object is not opened and its header decoded again for every request
/// (nginx's `open_file_cache`). Bounded by count, since each holds a file descriptor; the oldest
/// goes first. A file evicted or replaced on disk meanwhile is still read whole through its open
/// descriptor, so a client never gets a mix of two versions; whatever stores or invalidates a key
/// removes it here first.
struct OpenLargeEntries: Sendable {
    /// Entries kept at most (one descriptor each).
    static let limit = 64

    private var entries: [String: CachedResponse] = [:]
    private var order = CircularBuffer<String>()
    /// Counts removals: an entry read from disk before one (the key may have been stored anew or
    /// invalidated while its file was read) is not kept.
    private(set) var epoch: UInt64 = 0

    /// The store keys of the open entries.
    var keys: [String] { Array(entries.keys) }

    /// The open entry under a store key.
    func get(_ key: String) -> CachedResponse? { entries[key] }

    /// Keeps an entry open, forgetting the oldest past ``limit``, unless something was removed
    /// since `epoch` was read (before the file was).
    mutating func insert(_ key: String, _ response: CachedResponse, readAt epoch: UInt64) {
        guard epoch == self.epoch else { return }
        if entries.updateValue(response, forKey: key) == nil { order.append(key) }
        while entries.count > Self.limit, let oldest = order.popFirst() { entries[oldest] = nil }
        // Keys removed since linger in the order; keep it near the live count.
        if order.count > 4 * Self.limit { order = CircularBuffer(order.filter { entries[$0] != nil }) }
    }

    /// Forgets the entry under a store key (its descriptor closes when no response uses it).
    mutating func remove(_ key: String) {
        epoch &+= 1
        entries[key] = nil
    }
}
