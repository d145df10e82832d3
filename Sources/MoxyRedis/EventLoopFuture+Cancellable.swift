// SPDX-License-Identifier: Apache-2.0

import NIOConcurrencyHelpers
import NIOCore

extension EventLoopFuture where Value: Sendable {
    /// The future's value, or ``RedisError/Code/cancelled`` as soon as the waiting task is
    /// cancelled (`get()` waits for the future whatever happens to its task).
    ///
    /// Why: a shared-tier call races its budget in a task group, and the group only returns once
    /// every child has; a call whose answer is late must therefore stop waiting when cancelled.
    /// The command itself stays in its connection's pipeline (it cannot be taken back): its
    /// answer completes the future later and is dropped, and the command timeout still bounds it.
    /// - Parameter abandoned: Called with the value when it arrives after the wait was cancelled
    ///   (a connection nobody will use is closed there).
    func valueUnlessCancelled(abandoned: (@Sendable (Value) -> Void)? = nil) async throws -> Value {
        let waiter = NIOLockedValueBox(CancellableWait<Value>())
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
                let cancelledAlready = waiter.withLockedValue { wait -> Bool in
                    if wait.cancelled { return true }
                    wait.continuation = continuation
                    return false
                }
                if cancelledAlready {
                    continuation.resume(throwing: RedisError(.cancelled, "the waiting task was cancelled"))
                    whenSuccess { abandoned?($0) }
                    return
                }
                whenComplete { result in
                    let waiting = waiter.withLockedValue { wait -> CheckedContinuation<Value, any Error>? in
                        defer { wait.continuation = nil }
                        return wait.continuation
                    }
                    if let waiting {
                        waiting.resume(with: result)
                    } else if case .success(let value) = result {
                        abandoned?(value)
                    }
                }
            }
        } onCancel: {
            let waiting = waiter.withLockedValue { wait -> CheckedContinuation<Value, any Error>? in
                wait.cancelled = true
                defer { wait.continuation = nil }
                return wait.continuation
            }
            waiting?.resume(throwing: RedisError(.cancelled, "the waiting task was cancelled"))
        }
    }
}

/// Who resumes a cancellable wait: the future's completion or the cancellation, whichever comes first.
private struct CancellableWait<Value: Sendable>: Sendable {
    var continuation: CheckedContinuation<Value, any Error>?
    var cancelled = false
}
