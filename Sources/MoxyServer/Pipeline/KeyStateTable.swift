// SPDX-License-Identifier: Apache-2.0

import MoxyValidation
import NIOConcurrencyHelpers
import NIOCore

/// Everything the cache remembers per key besides the stored response, in one map under one lock:
/// the coalesced fetch and its waiters, a background refresh, hit-for-miss, and validation back-off.
///
/// An entry is removed as soon as nothing of it is left (the fetch ended, the windows passed), and
/// ended entries are swept whenever the map doubles, so the map stays as small as the keys that
/// are busy right now, however long the server runs. Times are passed in (no clock reads here), all in Unix milliseconds
/// (every name says so).
final class KeyStateTable: Sendable {
    /// The state of one key.
    struct KeyState {
        /// The waiters of the fetch in flight, leader first; `nil` when no fetch runs.
        var waiters: [EventLoopPromise<ProxyOutcome>]?
        /// Whether a background refresh (stale-while-revalidate) runs.
        var refreshing = false
        /// Unix milliseconds until which the key goes upstream without coalescing (0: not marked).
        var hitForMissUntilMilliseconds: Int64 = 0
        /// Invalid responses in a row.
        var backoffFailures = 0
        /// Unix milliseconds until which the last good entry answers without asking the upstream.
        var backoffUntilMilliseconds: Int64 = 0
        /// Unix milliseconds after which the failure count is forgotten (the back-off has ended).
        var backoffForgottenMilliseconds: Int64 = 0
        /// Why the key backs off, for the `Cache-Status` of what answers meanwhile.
        var backoffReason: ExchangeMachine.StandIn?

        /// Whether nothing of the state is still in force at `nowMilliseconds`.
        func hasEnded(nowMilliseconds: Int64) -> Bool {
            waiters == nil && !refreshing && hitForMissUntilMilliseconds <= nowMilliseconds && backoffForgottenMilliseconds <= nowMilliseconds
        }
    }

    private struct Table {
        var states: [String: KeyState] = [:]
        var sweepAt = KeyStateTable.initialSweep
        var fetches = 0
        var refreshes = 0
        var waiting = 0

        /// Changes a key's state and drops it when it has ended.
        mutating func update<Result>(_ key: String, nowMilliseconds: Int64, _ change: (inout KeyState) -> Result) -> Result {
            var state = states.removeValue(forKey: key) ?? KeyState()
            let result = change(&state)
            if !state.hasEnded(nowMilliseconds: nowMilliseconds) { insert(key, state, nowMilliseconds: nowMilliseconds) }
            return result
        }

        mutating func insert(_ key: String, _ state: KeyState, nowMilliseconds: Int64) {
            if states.count >= sweepAt {
                states = states.filter { !$0.value.hasEnded(nowMilliseconds: nowMilliseconds) }
                sweepAt = max(KeyStateTable.initialSweep, states.count * 2)
            }
            // Past the cap only fetches in flight are remembered (they end by themselves): a
            // forgotten hit-for-miss or back-off costs an upstream request, never a wrong answer.
            guard states.count < KeyStateTable.maxKeys || state.waiters != nil || state.refreshing else { return }
            states[key] = state
        }
    }

    static let initialSweep = 1024
    /// Most keys remembered at once.
    static let maxKeys = 100_000

    private let table = NIOLockedValueBox(Table())

    // MARK: Coalescing

    /// Joins the fetch for a key; the first caller becomes the leader and must ``complete(_:with:nowMilliseconds:)`` it.
    func join(_ key: String, on eventLoop: any EventLoop, nowMilliseconds: Int64) -> (future: EventLoopFuture<ProxyOutcome>, isLeader: Bool) {
        let promise = eventLoop.makePromise(of: ProxyOutcome.self)
        let isLeader = table.withLockedValue { table in
            let isLeader = table.update(key, nowMilliseconds: nowMilliseconds) { state -> Bool in
                guard state.waiters == nil else {
                    state.waiters!.append(promise)
                    return false
                }
                state.waiters = [promise]
                return true
            }
            if isLeader { table.fetches += 1 } else { table.waiting += 1 }
            return isLeader
        }
        return (promise.futureResult, isLeader)
    }

    /// Completes every waiter of a key's fetch, the leader included.
    func complete(_ key: String, with value: ProxyOutcome, nowMilliseconds: Int64) {
        let promises = table.withLockedValue { table in
            table.fetches -= 1
            let promises = table.update(key, nowMilliseconds: nowMilliseconds) { state -> [EventLoopPromise<ProxyOutcome>] in
                defer { state.waiters = nil }
                return state.waiters ?? []
            }
            table.waiting -= max(0, promises.count - 1)
            return promises
        }
        for promise in promises { promise.succeed(value) }
    }

    /// Keys with a fetch in flight.
    var inFlight: Int { table.withLockedValue { $0.fetches } }

    /// Requests waiting for another request's fetch (the leaders not counted).
    var waiting: Int { table.withLockedValue { $0.waiting } }

    // MARK: Background refresh

    /// Marks a key as refreshing. Returns `false` when a refresh already runs (one per key).
    func startRefresh(_ key: String, nowMilliseconds: Int64) -> Bool {
        table.withLockedValue { table in
            let started = table.update(key, nowMilliseconds: nowMilliseconds) { state in
                guard !state.refreshing else { return false }
                state.refreshing = true
                return true
            }
            if started { table.refreshes += 1 }
            return started
        }
    }

    /// Ends a key's refresh.
    func endRefresh(_ key: String, nowMilliseconds: Int64) {
        table.withLockedValue { table in
            table.refreshes -= 1
            table.update(key, nowMilliseconds: nowMilliseconds) { $0.refreshing = false }
        }
    }

    /// Background refreshes running.
    var refreshes: Int { table.withLockedValue { $0.refreshes } }

    // MARK: Hit-for-miss

    /// Lets a key go upstream without coalescing until `untilMilliseconds`.
    func markHitForMiss(_ key: String, untilMilliseconds: Int64, nowMilliseconds: Int64) {
        table.withLockedValue { table in table.update(key, nowMilliseconds: nowMilliseconds) { $0.hitForMissUntilMilliseconds = untilMilliseconds } }
    }

    /// Whether a key is hit-for-miss at `nowMilliseconds`.
    func isHitForMiss(_ key: String, nowMilliseconds: Int64) -> Bool {
        table.withLockedValue { table in
            guard let state = table.states[key] else { return false }
            return state.hitForMissUntilMilliseconds > nowMilliseconds
        }
    }

    /// Forgets a key's hit-for-miss (its stored responses were invalidated).
    func clearHitForMiss(_ key: String, nowMilliseconds: Int64) {
        table.withLockedValue { table in
            guard table.states[key] != nil else { return }
            table.update(key, nowMilliseconds: nowMilliseconds) { $0.hitForMissUntilMilliseconds = 0 }
        }
    }

    // MARK: Validation back-off

    /// Whether the upstream is left alone for a key at `nowMilliseconds`.
    func isBackingOff(_ key: String, nowMilliseconds: Int64) -> Bool {
        backoff(key, nowMilliseconds: nowMilliseconds) != nil
    }

    /// Why the upstream is left alone for a key at `nowMilliseconds`, or `nil` when it is not.
    func backoff(_ key: String, nowMilliseconds: Int64) -> ExchangeMachine.StandIn? {
        table.withLockedValue { table in
            guard let state = table.states[key], state.backoffUntilMilliseconds > nowMilliseconds else { return nil }
            return state.backoffReason
        }
    }

    /// Records an invalid response (or a failed upstream): the next attempt waits ``backoffDelayMilliseconds(failures:_:)``.
    func backOff(_ key: String, _ validation: ValidationConfiguration, standIn: ExchangeMachine.StandIn, nowMilliseconds: Int64) {
        table.withLockedValue { table in
            table.update(key, nowMilliseconds: nowMilliseconds) { state in
                state.backoffReason = standIn
                state.backoffFailures += 1
                state.backoffUntilMilliseconds = nowMilliseconds + Self.backoffDelayMilliseconds(failures: state.backoffFailures, validation)
                state.backoffForgottenMilliseconds = state.backoffUntilMilliseconds + Int64(validation.maxBackoff * 1000)
            }
        }
    }

    /// Ends a key's back-off after a valid response.
    func clearBackoff(_ key: String, nowMilliseconds: Int64) {
        table.withLockedValue { table in
            guard table.states[key] != nil else { return }
            table.update(key, nowMilliseconds: nowMilliseconds) { state in
                state.backoffFailures = 0
                state.backoffUntilMilliseconds = 0
                state.backoffForgottenMilliseconds = 0
                state.backoffReason = nil
            }
        }
    }

    /// The wait after `failures` invalid responses in a row: `backoff × 2^(failures-1)`, at most
    /// `max_backoff`, in milliseconds.
    static func backoffDelayMilliseconds(failures: Int, _ validation: ValidationConfiguration) -> Int64 {
        let delay = min(validation.backoff * Double(1 << min(max(failures, 1) - 1, 20)), validation.maxBackoff)
        return Int64(delay * 1000)
    }

    /// Keys remembered (for tests and metrics).
    var count: Int { table.withLockedValue { $0.states.count } }
}
