// SPDX-License-Identifier: Apache-2.0

import Logging
import MoxyRedis
import NIOConcurrencyHelpers
import NIOCore

extension SharedTier {
    /// The kinds of call, as the metrics label them.
    public enum Operation: String, Sendable, Hashable, CaseIterable {
        case read, write, remove, purge, fill, feed
    }

    /// What the shared tier did so far, for the metrics.
    public struct Statistics: Sendable, Hashable {
        /// Calls by operation and result (`hit`, `miss`, `stored`, `timeout`, `error`, `refused` …).
        public var operations: [String: Int] = [:]
        /// Seconds spent in calls that returned, and how many, by operation.
        public var latencySeconds: [Operation: Double] = [:]
        public var latencyCount: [Operation: Int] = [:]
        /// The breaker: 0 closed, 1 open, 2 half-open.
        public var breaker = 0
        /// Purges of other nodes applied from the feed.
        public var purgesApplied = 0
        /// How long the last purge applied from the feed took to arrive (milliseconds from its
        /// append on the other node).
        public var purgeLagMilliseconds: Int64 = 0
        /// Times this node fell behind the feed's length and marked all it holds stale.
        public var feedGaps = 0
    }

    /// A copy of the counters.
    public var stats: Statistics {
        var copy = statistics.withLockedValue { $0 }
        copy.breaker = breaker.withLockedValue { $0.state.gauge }
        return copy
    }

    func count(_ operation: Operation, _ result: String) {
        statistics.withLockedValue { $0.operations[operation.rawValue + "_" + result, default: 0] += 1 }
    }

    func admit() -> CircuitBreaker.Admission {
        let now = nowMilliseconds()
        return breaker.withLockedValue { $0.admit(nowMilliseconds: now) }
    }

    /// Runs a call within a budget, through the breaker.
    /// - Returns: The call's value, or nil when it failed, ran out of time or was refused (counted).
    func call<T: Sendable>(_ operation: Operation, budget: Double, _ work: @escaping @Sendable () async throws(RedisError) -> T) async -> T? {
        guard admit() != .refused else {
            count(operation, "refused")
            return nil
        }
        let started = ContinuousClock.now
        let result = await Self.race(budget: budget, work)
        let elapsed = ContinuousClock.now - started
        let success: Bool
        switch result {
        case .value:
            success = true
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            statistics.withLockedValue {
                $0.latencySeconds[operation, default: 0] += seconds
                $0.latencyCount[operation, default: 0] += 1
            }
        case .failed(let error):
            success = false
            count(operation, error.code == .server ? "error" : "unavailable")
        case .timedOut:
            success = false
            count(operation, "timeout")
        }
        let now = nowMilliseconds()
        switch breaker.withLockedValue({ $0.record(success: success, nowMilliseconds: now) }) {
        case .opened?:
            logger.warning(
                "shared tier unavailable: lookups are misses and writes are dropped until it answers again",
                metadata: ["failures": "\(configuration.breakerFailures)"])
        case .closed?:
            logger.info("shared tier available again")
        case nil: break
        }
        if case .value(let value) = result { return value }
        return nil
    }

    enum Outcome<T: Sendable>: Sendable {
        case value(T)
        case failed(RedisError)
        case timedOut
    }

    /// The call's outcome, or `timedOut` once `budget` seconds passed: the call and a timer race
    /// as the two children of a task group, and whichever ends first cancels the other. A
    /// cancelled call stops waiting at once (its Redis waits end on cancellation); its command
    /// stays in the connection's pipeline (it cannot be taken back), bounded by the command
    /// timeout, and its late answer is dropped. Nothing outlives the call.
    static func race<T: Sendable>(budget: Double, _ work: @escaping @Sendable () async throws(RedisError) -> T) async -> Outcome<T> {
        await withTaskGroup(of: Outcome<T>?.self) { group in
            group.addTask {
                do throws(RedisError) {
                    return .value(try await work())
                } catch {
                    return .failed(error)
                }
            }
            group.addTask {
                do {
                    try await Task.sleep(for: .milliseconds(Int64(budget * 1000)))
                    return .timedOut
                } catch {
                    return nil  // cancelled: the call ended first
                }
            }
            var outcome: Outcome<T>?
            while outcome == nil, let next = await group.next() { outcome = next }
            group.cancelAll()
            return outcome ?? .timedOut
        }
    }
}
