// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// A block of counters split in lanes, one per event loop: a request adds to its own loop's lane
/// (one relaxed atomic add, on a cache line no other loop writes), and a scrape sums the lanes.
/// This keeps the hit path free of any lock or cache line shared between loops (issue 23's "no
/// process-wide lock on a hit"); the atomics keep a count right even if two loops ever share a
/// lane (more loops than lanes, or a channel outside the server's group, as in tests).
final class LaneCounters: @unchecked Sendable {
    /// Lanes in the block; a lane number is taken modulo this.
    let lanes: Int
    /// Counters in each lane.
    let slots: Int
    /// Counters from one lane's start to the next's: `slots` rounded up to whole 64-byte lines.
    private let stride: Int
    /// `lanes * stride` atomics, 64-byte aligned. `@unchecked Sendable`: only ever touched through
    /// the atomics' own operations, and freed in `deinit` when nothing else can reach it.
    private let storage: UnsafeMutablePointer<Atomic<UInt64>>

    /// - Parameters:
    ///   - lanes: How many lanes (at least 1): the server's event loop count.
    ///   - slots: Counters per lane.
    init(lanes: Int, slots: Int) {
        self.lanes = max(1, lanes)
        self.slots = slots
        let perLine = 64 / MemoryLayout<UInt64>.stride
        self.stride = max(perLine, (slots + perLine - 1) / perLine * perLine)
        let count = self.lanes * stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<UInt64>.stride, alignment: 64)
        let storage = raw.bindMemory(to: Atomic<UInt64>.self, capacity: count)
        for index in 0..<count { (storage + index).initialize(to: Atomic(0)) }
        self.storage = storage
    }

    deinit {
        storage.deinitialize(count: lanes * stride)
        UnsafeMutableRawPointer(storage).deallocate()
    }

    /// Adds `amount` to counter `slot` of `lane` (`lane` already below ``lanes``; `slot` below ``slots``).
    @inline(__always)
    func add(_ amount: UInt64, lane: Int, slot: Int) {
        storage[lane &* stride &+ slot].add(amount, ordering: .relaxed)
    }

    /// Counter `slot` summed over every lane.
    func total(_ slot: Int) -> UInt64 {
        var total: UInt64 = 0
        for lane in 0..<lanes { total &+= storage[lane * stride + slot].load(ordering: .relaxed) }
        return total
    }

    /// Every counter summed over the lanes.
    var totals: [UInt64] { (0..<slots).map(total) }
}
