// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Paths one signer verified already: a repeat costs a hash of its bytes and one comparison
/// instead of an HMAC, two base64url decodes and a target check (about 14,000 instructions per
/// signed hit, by callgrind), with no allocation.
///
/// Only a byte-for-byte repeat of a path that passed the full check under the same keys is found
/// (a reload makes a new signer, with an empty set). Slots are chosen by `Hasher`, which Swift
/// seeds per process, so a forged path cannot be steered onto a stored one, and the comparison
/// that may exit early runs only against a stored path of the same 64-bit hash. A hit checks the
/// expiry again. Refusals are never kept: a flood of bad signatures pays the full check, as
/// before. Bounded: ``slotCount`` paths of at most ``maxPathBytes`` (a path whose slots are all
/// taken replaces the first of them), about ``budget`` bytes in all, past which the set starts
/// over.
final class VerifiedPaths: Sendable {
    /// The longest path kept.
    static let maxPathBytes = 1024
    /// About how many bytes of paths and targets are kept.
    static let budget = 1 << 20
    /// How many paths are kept at most (a power of two).
    static let slotCount = 4096
    /// How many slots a path may take from its hash on.
    static let probes = 4

    /// A class, so that an empty slot costs a word (32 KiB for the table, made on first use).
    private final class Slot: Sendable {
        let hash: Int
        let path: [UInt8]
        let target: VerifiedTarget

        init(hash: Int, path: [UInt8], target: VerifiedTarget) {
            self.hash = hash
            self.path = path
            self.target = target
        }
    }

    private struct State {
        var slots: [Slot?] = []
        var count = 0
        var bytes = 0
    }

    private let state = Mutex(State())

    /// The hash a path is kept under.
    static func hash(_ path: UnsafeBufferPointer<UInt8>) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: UnsafeRawBufferPointer(path))
        return hasher.finalize()
    }

    /// Whether two paths are the same bytes (`memcmp`: the generic `elementsEqual` cost about 25
    /// instructions a byte).
    private static func same(_ kept: [UInt8], _ path: UnsafeBufferPointer<UInt8>) -> Bool {
        guard kept.count == path.count else { return false }
        return kept.withUnsafeBufferPointer { memcmp($0.baseAddress!, path.baseAddress!, path.count) == 0 }
    }

    /// The target a path was verified to, if it was.
    func target(for path: UnsafeBufferPointer<UInt8>, hash: Int) -> VerifiedTarget? {
        state.withLock { state in
            guard !state.slots.isEmpty else { return nil }
            for probe in 0..<Self.probes {
                guard let slot = state.slots[(hash &+ probe) & (Self.slotCount - 1)] else { return nil }
                if slot.hash == hash, Self.same(slot.path, path) { return slot.target }
            }
            return nil
        }
    }

    /// Keeps a verified path.
    func remember(_ path: UnsafeBufferPointer<UInt8>, hash: Int, _ target: VerifiedTarget) {
        let cost = path.count + target.url.utf8.count + 96
        let slot = Slot(hash: hash, path: Array(path), target: target)
        state.withLock { state in
            if state.bytes + cost > Self.budget || state.slots.isEmpty {
                state = State(slots: [Slot?](repeating: nil, count: Self.slotCount))
            }
            var chosen = hash & (Self.slotCount - 1)
            for probe in 0..<Self.probes {
                let index = (hash &+ probe) & (Self.slotCount - 1)
                if state.slots[index] == nil {
                    chosen = index
                    break
                }
            }
            if let replaced = state.slots[chosen] {
                state.bytes -= replaced.path.count + replaced.target.url.utf8.count + 96
                state.count -= 1
            }
            state.slots[chosen] = slot
            state.bytes += cost
            state.count += 1
        }
    }

    /// How many paths are kept, and their cost (for tests).
    var usage: (count: Int, bytes: Int) {
        state.withLock { ($0.count, $0.bytes) }
    }
}
