// SPDX-License-Identifier: Apache-2.0

import NIOCore

/// What the disk tier holds, kept in memory to bound it: per entry the first 64 bits of its key's
/// SHA-256 (the file's name), its size and a reference bit, with eviction by CLOCK (second chance:
/// an entry read since the hand last passed is passed over once). About 61 bytes per entry at a million entries
/// (measured in `docs/storage.md`); no key strings are kept. Not thread-safe: ``DiskStore``
/// holds it under its lock.
public struct DiskIndex: Sendable {
    struct Entry: Sendable {
        var size: UInt32
        /// Unix seconds after which the entry is of no use (0: unknown, or never).
        var usableUntil: UInt32
        var referenced: Bool
    }

    private(set) var entries: [UInt64: Entry] = [:]
    /// Hashes in insertion order (the clock's ring); hashes removed since are skipped when reached.
    private var ring = CircularBuffer<UInt64>()
    /// Bytes the indexed files take on disk: each file's size rounded up to whole blocks.
    public private(set) var bytes = 0
    /// The file system's allocation unit: a file of 200 bytes takes a whole 4 KiB block, so the
    /// bound counts what the disk counts (nginx's cache manager rounds the same way).
    public let blockSize: Int

    /// Creates an empty index.
    /// - Parameter blockSize: The allocation unit sizes are rounded up to (1: exact bytes).
    public init(blockSize: Int = 1) {
        self.blockSize = max(1, blockSize)
    }

    /// What a file of `size` bytes is charged: its size in whole blocks.
    public func charge(_ size: Int) -> Int { (max(0, size) + blockSize - 1) / blockSize * blockSize }

    /// Files indexed.
    public var count: Int { entries.count }

    /// Records a file (replacing what was recorded for the hash), charged in whole blocks.
    /// - Parameters:
    ///   - hash: The first 64 bits of the key's SHA-256.
    ///   - size: The file's bytes.
    ///   - usableUntil: Unix seconds after which the entry is of no use (`nil`: never, or unknown).
    public mutating func insert(_ hash: UInt64, size: Int, usableUntil: Int64? = nil) {
        let size = UInt32(clamping: charge(size))
        let entry = Entry(size: size, usableUntil: usableUntil.map { UInt32(clamping: max(1, $0)) } ?? 0, referenced: false)
        if let previous = entries.updateValue(entry, forKey: hash) {
            bytes -= Int(previous.size)
        } else {
            ring.append(hash)
        }
        bytes += Int(size)
        // Removed hashes linger in the ring until the hand reaches them; keep it near the live count.
        if ring.count > 2 * entries.count + 1024 { ring = CircularBuffer(ring.filter { entries[$0] != nil }) }
    }

    /// Records a file found at start-up, unless a write since already recorded it.
    public mutating func insertIfAbsent(_ hash: UInt64, size: Int, usableUntil: Int64? = nil) {
        if entries[hash] == nil { insert(hash, size: size, usableUntil: usableUntil) }
    }

    /// Marks a file as read.
    public mutating func touch(_ hash: UInt64) {
        entries[hash]?.referenced = true
    }

    /// Whether a file is recorded.
    public func contains(_ hash: UInt64) -> Bool { entries[hash] != nil }

    /// Forgets a file.
    public mutating func remove(_ hash: UInt64) {
        if let previous = entries.removeValue(forKey: hash) { bytes -= Int(previous.size) }
    }

    /// Chooses files to delete until at most `target` bytes remain, at most `limit` of them (the
    /// janitor works in bounded batches); they are forgotten at once.
    public mutating func victims(downTo target: Int, limit: Int) -> [UInt64] {
        var chosen: [UInt64] = []
        var passes = 0
        while bytes > target, chosen.count < limit, let hash = ring.popFirst() {
            guard let entry = entries[hash] else { continue }
            if entry.referenced, passes < 2 * entries.count {
                entries[hash]?.referenced = false
                ring.append(hash)
                passes += 1
                continue
            }
            entries.removeValue(forKey: hash)
            bytes -= Int(entry.size)
            chosen.append(hash)
        }
        return chosen
    }

    /// Chooses up to `limit` entries whose last usable moment is before `now` (Unix seconds);
    /// they are forgotten at once.
    public mutating func expired(now: Int64, limit: Int) -> [UInt64] {
        var chosen: [UInt64] = []
        for (hash, entry) in entries where entry.usableUntil != 0 && Int64(entry.usableUntil) < now {
            chosen.append(hash)
            if chosen.count == limit { break }
        }
        for hash in chosen { remove(hash) }
        return chosen
    }

    /// The hash a file name (16 hex digits) stands for, or nil for other names.
    static func hash(fileName name: String) -> UInt64? {
        guard name.utf8.count == 16 else { return nil }
        var value: UInt64 = 0
        for (offset, byte) in name.utf8.enumerated() {
            let digit: UInt64
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt64(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt64(byte - UInt8(ascii: "a") + 10)
            default: return nil
            }
            _ = offset
            value = value << 4 | digit
        }
        return value
    }
}
