// SPDX-License-Identifier: Apache-2.0

/// Entries in one array, each linked into one of a few FIFO queues by index, with a key index:
/// the storage the eviction policies share. O(1) insert, unlink and lookup; an entry costs one
/// slot (key, value, weight, two 32-bit links, a frequency and a queue number) and one dictionary
/// entry, with no object per entry.
struct SlotTable<Key: Hashable, Value> {
    struct Slot {
        var key: Key?
        var value: Value?
        var weight: Int
        var newer: Int32
        var older: Int32
        var frequency: UInt8
        var queue: UInt8
    }

    /// One queue: its ends, entry count and total weight.
    struct Queue {
        var newest: Int32 = -1
        var oldest: Int32 = -1
        var count = 0
        var weight = 0
    }

    private(set) var slots: [Slot] = []
    private var freeSlots: [Int32] = []
    private(set) var index: [Key: Int32] = [:]
    var queues: [Queue]

    init(queues: Int) {
        self.queues = Array(repeating: Queue(), count: queues)
    }

    var count: Int { index.count }

    /// The entry's frequency counter (S3-FIFO's two bits, kept in a byte).
    subscript(frequencyOf position: Int32) -> UInt8 {
        get { slots[Int(position)].frequency }
        set { slots[Int(position)].frequency = newValue }
    }

    func value(_ position: Int32) -> Value { slots[Int(position)].value! }
    func key(_ position: Int32) -> Key { slots[Int(position)].key! }
    func weight(_ position: Int32) -> Int { slots[Int(position)].weight }
    func queue(_ position: Int32) -> UInt8 { slots[Int(position)].queue }

    /// The value for a key, without touching its place.
    func value(for key: Key) -> Value? { index[key].map { value($0) } }

    /// Replaces an entry's value and weight in place (its queue's total follows).
    mutating func replace(_ position: Int32, with value: Value, weight: Int) {
        slots[Int(position)].value = value
        reweigh(position, to: weight)
    }

    /// Puts a new entry at the newest end of `queue` (the key must not be present).
    mutating func insert(_ key: Key, _ value: Value, weight: Int, queue: UInt8) -> Int32 {
        let slot = Slot(key: key, value: value, weight: weight, newer: -1, older: -1, frequency: 0, queue: queue)
        let position: Int32
        if let free = freeSlots.popLast() {
            position = free
            slots[Int(free)] = slot
        } else {
            position = Int32(slots.count)
            slots.append(slot)
        }
        index[key] = position
        pushNewest(position, queue: queue)
        return position
    }

    /// Removes an entry entirely.
    /// - Returns: Its key and value.
    mutating func remove(_ position: Int32) -> (key: Key, value: Value) {
        unlink(position)
        let key = slots[Int(position)].key!
        let value = slots[Int(position)].value!
        slots[Int(position)].key = nil
        slots[Int(position)].value = nil
        index.removeValue(forKey: key)
        freeSlots.append(position)
        return (key, value)
    }

    /// Moves an entry to the newest end of `queue`.
    mutating func move(_ position: Int32, to queue: UInt8) {
        unlink(position)
        pushNewest(position, queue: queue)
    }

    /// Changes an entry's weight (its queue's total follows).
    private mutating func reweigh(_ position: Int32, to weight: Int) {
        let queue = Int(slots[Int(position)].queue)
        queues[queue].weight += weight - slots[Int(position)].weight
        slots[Int(position)].weight = weight
    }

    private mutating func pushNewest(_ position: Int32, queue: UInt8) {
        let q = Int(queue)
        slots[Int(position)].queue = queue
        slots[Int(position)].older = queues[q].newest
        slots[Int(position)].newer = -1
        if queues[q].newest >= 0 { slots[Int(queues[q].newest)].newer = position }
        queues[q].newest = position
        if queues[q].oldest < 0 { queues[q].oldest = position }
        queues[q].count += 1
        queues[q].weight += slots[Int(position)].weight
    }

    private mutating func unlink(_ position: Int32) {
        // Fields one by one: copying the slot would retain its key and value.
        let newer = slots[Int(position)].newer
        let older = slots[Int(position)].older
        let q = Int(slots[Int(position)].queue)
        if newer >= 0 { slots[Int(newer)].older = older } else { queues[q].newest = older }
        if older >= 0 { slots[Int(older)].newer = newer } else { queues[q].oldest = newer }
        slots[Int(position)].newer = -1
        slots[Int(position)].older = -1
        queues[q].count -= 1
        queues[q].weight -= slots[Int(position)].weight
    }
}

extension SlotTable: Sendable where Key: Sendable, Value: Sendable {}
extension SlotTable.Slot: Sendable where Key: Sendable, Value: Sendable {}
