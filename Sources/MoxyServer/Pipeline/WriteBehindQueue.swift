// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import NIOConcurrencyHelpers

/// One slower tier's writes: a store never waits for the tier. Bounded (a write that finds the
/// queue full is dropped and counted, as Souin and Varnish drop rather than queue without end),
/// and run by a few workers in ``run()``, owned by the server's task group.
final class WriteBehindQueue: Sendable {
    /// The tier written.
    let tier: any SlowerTier
    /// Writes waiting at most.
    let capacity: Int
    /// Writes running at once.
    let workers: Int

    /// What the queue did so far.
    struct Counters: Sendable, Hashable {
        /// Writes (and removals) run.
        var done = 0
        /// Writes dropped because the queue was full.
        var dropped = 0
    }

    private let stream: AsyncStream<@Sendable () async -> Void>
    private let continuation: AsyncStream<@Sendable () async -> Void>.Continuation
    private let state = NIOLockedValueBox(Counters())

    init(tier: any SlowerTier, capacity: Int = 1_024, workers: Int = 4) {
        self.tier = tier
        self.capacity = capacity
        self.workers = workers
        (stream, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingOldest(capacity))
    }

    /// The counters.
    var counters: Counters { state.withLockedValue { $0 } }

    /// Queues work on the tier.
    /// - Returns: Whether it was queued (false: the queue is full, counted, or closed).
    @discardableResult
    func submit(_ work: @escaping @Sendable (any SlowerTier) async -> Void) -> Bool {
        let tier = self.tier
        switch continuation.yield({ await work(tier) }) {
        case .enqueued: return true
        case .dropped:
            state.withLockedValue { $0.dropped += 1 }
            return false
        case .terminated: return false
        @unknown default: return false
        }
    }

    /// Runs queued work until ``finish()``, then what is left; at most ``workers`` at once.
    func run() async {
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for await work in stream {
                if running >= workers {
                    await group.next()
                    running -= 1
                }
                group.addTask {
                    await work()
                    self.state.withLockedValue { $0.done += 1 }
                }
                running += 1
            }
        }
    }

    /// Accepts no more work; ``run()`` returns once what was queued has run.
    func finish() {
        continuation.finish()
    }
}
