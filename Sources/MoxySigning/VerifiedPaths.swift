// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// Paths one signer verified already: a repeat costs a hash lookup instead of an HMAC, two
/// base64url decodes and a target check (about 14,000 instructions per signed hit, by callgrind).
///
/// Only a byte-for-byte repeat of a path that passed the full check under the same keys is
/// found (a reload makes a new signer, with an empty set). The lookup is a `Dictionary`'s: Swift
/// seeds its hashing per process, so a forged path cannot be steered onto a stored one, and the
/// comparison that may exit early runs only against a stored path of the same hash. A hit checks
/// the expiry again. Refusals are never kept: a flood of bad signatures pays the full check, as
/// before. Bounded: paths up to 1 KiB, about 1 MiB in all, after which the set starts over.
final class VerifiedPaths: Sendable {
    /// The longest path kept.
    static let maxPathBytes = 1024
    /// About how many bytes of paths and targets are kept.
    static let budget = 1 << 20

    private struct State {
        var targets: [String: VerifiedTarget] = [:]
        var bytes = 0
    }

    private let state = Mutex(State())

    /// The target a path was verified to, if it was.
    func target(for path: String) -> VerifiedTarget? {
        state.withLock { $0.targets[path] }
    }

    /// Keeps a verified path.
    func remember(_ path: String, _ target: VerifiedTarget) {
        let cost = path.utf8.count + target.url.utf8.count + 64
        state.withLock { state in
            if state.bytes + cost > Self.budget {
                state.targets.removeAll()
                state.bytes = 0
            }
            if state.targets.updateValue(target, forKey: path) == nil { state.bytes += cost }
        }
    }

    /// How many paths are kept, and their cost (for tests).
    var usage: (count: Int, bytes: Int) {
        state.withLock { ($0.targets.count, $0.bytes) }
    }
}
