// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import NIOConcurrencyHelpers

/// How far a streaming write has come, for the readers of the growing file: the blocks written,
/// the final length once the body ended, or the failure that abandoned it. Readers wait here for
/// the block they need.
final class DiskWriteProgress: Sendable {
    /// The length the upstream announced, if any.
    let declaredLength: Int?

    private struct State {
        var blocks = 0
        var finalLength: Int?
        var failed = false
        var waiters: [(index: Int, continuation: CheckedContinuation<Int?, any Error>)] = []
    }

    private let state = NIOLockedValueBox(State())

    init(declaredLength: Int?) {
        self.declaredLength = declaredLength
    }

    /// Whether the body ended (written whole, or abandoned).
    var isFinished: Bool { state.withLockedValue { $0.finalLength != nil || $0.failed } }

    /// The length of block `index` once it is written, or `nil` when the body ended before it.
    /// - Throws: ``StoredEntryError`` `truncated` when the write was abandoned.
    func waitForBlock(_ index: Int) async throws -> Int? {
        try await withCheckedThrowingContinuation { continuation in
            let answer = state.withLockedValue { state -> Result<Int?, any Error>? in
                if let answer = Self.answer(index, state) { return answer }
                state.waiters.append((index, continuation))
                return nil
            }
            if let answer { continuation.resume(with: answer) }
        }
    }

    /// `blocks` full blocks are written.
    func advance(to blocks: Int) {
        wake { $0.blocks = blocks }
    }

    /// The body ended with `length` bytes, all written.
    func finish(length: Int) {
        wake {
            $0.finalLength = length
            $0.blocks = StoredBlocks.blockCount(length)
        }
    }

    /// The write was abandoned: readers fail.
    func fail() {
        wake { $0.failed = true }
    }

    private func wake(_ change: (inout State) -> Void) {
        let ready = state.withLockedValue { state -> [(CheckedContinuation<Int?, any Error>, Result<Int?, any Error>)] in
            change(&state)
            var ready: [(CheckedContinuation<Int?, any Error>, Result<Int?, any Error>)] = []
            var waiting: [(index: Int, continuation: CheckedContinuation<Int?, any Error>)] = []
            for waiter in state.waiters {
                if let answer = Self.answer(waiter.index, state) { ready.append((waiter.continuation, answer)) } else { waiting.append(waiter) }
            }
            state.waiters = waiting
            return ready
        }
        for (continuation, answer) in ready { continuation.resume(with: answer) }
    }

    private static func answer(_ index: Int, _ state: State) -> Result<Int?, any Error>? {
        if state.failed { return .failure(StoredEntryError(.truncated)) }
        if let length = state.finalLength {
            guard index < StoredBlocks.blockCount(length) else { return .success(nil) }
            return .success(min(StoredBlocks.blockSize, length - index * StoredBlocks.blockSize))
        }
        return index < state.blocks ? .success(StoredBlocks.blockSize) : nil
    }
}
