// SPDX-License-Identifier: Apache-2.0

import NIOConcurrencyHelpers
import NIOCore

/// Joins concurrent misses for one key so that exactly one upstream fetch runs.
///
/// The first caller for a key becomes the leader and must call ``complete(_:with:)``; later
/// callers get a future that completes with the leader's result, on their own event loop.
final class RequestCoalescer<Value: Sendable>: Sendable {
    private let waiters = NIOLockedValueBox<[String: [EventLoopPromise<Value>]]>([:])

    /// Joins the fetch for a key.
    /// - Parameters:
    ///   - key: The cache key.
    ///   - eventLoop: Where the caller wants its result.
    /// - Returns: The future result and whether the caller is the leader.
    func join(_ key: String, on eventLoop: any EventLoop) -> (future: EventLoopFuture<Value>, isLeader: Bool) {
        let promise = eventLoop.makePromise(of: Value.self)
        let isLeader = waiters.withLockedValue { waiters -> Bool in
            if waiters[key] != nil {
                waiters[key]!.append(promise)
                return false
            }
            waiters[key] = [promise]
            return true
        }
        return (promise.futureResult, isLeader)
    }

    /// Completes every waiter of a key, the leader included, and forgets the key.
    /// - Parameters:
    ///   - key: The cache key.
    ///   - value: The leader's result.
    func complete(_ key: String, with value: Value) {
        let promises = waiters.withLockedValue { $0.removeValue(forKey: key) ?? [] }
        for promise in promises { promise.succeed(value) }
    }

    /// The number of keys with a fetch in flight.
    var inFlight: Int { waiters.withLockedValue { $0.count } }
}
