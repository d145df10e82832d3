// SPDX-License-Identifier: Apache-2.0

/// The owner of the server's background work: coalesced leader fetches, stale-while-revalidate
/// refreshes, pass-through requests and response bodies streamed to clients all run as child
/// tasks of one task group, the one ``run()`` holds. Nothing outlives it: when the server stops,
/// the group's remaining tasks are cancelled and awaited.
final class BackgroundWork: Sendable {
    /// One piece of work: what to run, and what to do instead when the server has stopped.
    struct Job: Sendable {
        let work: @Sendable () async -> Void
        let refused: @Sendable () -> Void
    }

    private let stream: AsyncStream<Job>
    private let continuation: AsyncStream<Job>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: Job.self)
    }

    /// Runs `work` as a child task of the group.
    /// - Parameters:
    ///   - work: The work.
    ///   - refused: Called instead, at once, when the server no longer runs work (so that no
    ///     waiter is left hanging).
    func submit(_ work: @escaping @Sendable () async -> Void, refused: @escaping @Sendable () -> Void) {
        if case .terminated = continuation.yield(Job(work: work, refused: refused)) { refused() }
    }

    /// Runs submitted work until ``finish()``, then waits for what still runs; cancelling the
    /// calling task cancels every piece of work.
    func run() async {
        await withDiscardingTaskGroup { group in
            for await job in stream {
                group.addTask { await job.work() }
            }
        }
    }

    /// Accepts no more work; ``run()`` returns when what runs has ended.
    func finish() {
        continuation.finish()
    }
}
