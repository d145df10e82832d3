// SPDX-License-Identifier: Apache-2.0

import MoxySharedTier
import Testing

/// The shared tier's breaker, over an injected time: no sockets, no sleeps.
@Suite struct CircuitBreakerTests {
    @Test func opensAfterFailuresInARowAndProbesAfterItsPeriod() {
        var breaker = CircuitBreaker(failureThreshold: 3, openMilliseconds: 1_000)
        #expect(breaker.admit(nowMilliseconds: 0) == .allowed)
        #expect(breaker.record(success: false, nowMilliseconds: 0) == nil)
        #expect(breaker.record(success: true, nowMilliseconds: 1) == nil, "a success resets the count")
        #expect(breaker.record(success: false, nowMilliseconds: 2) == nil)
        #expect(breaker.record(success: false, nowMilliseconds: 3) == nil)
        #expect(breaker.record(success: false, nowMilliseconds: 4) == .opened)
        #expect(breaker.state.gauge == 1)
        #expect(breaker.admit(nowMilliseconds: 500) == .refused)
        // One probe after the period; the others are refused while it is out.
        #expect(breaker.admit(nowMilliseconds: 1_004) == .probe)
        #expect(breaker.admit(nowMilliseconds: 1_005) == .refused)
        #expect(breaker.state.gauge == 2)
        // The probe fails: open twice as long.
        #expect(breaker.record(success: false, nowMilliseconds: 1_010) == nil)
        #expect(breaker.admit(nowMilliseconds: 2_500) == .refused)
        #expect(breaker.admit(nowMilliseconds: 3_010) == .probe)
        #expect(breaker.record(success: true, nowMilliseconds: 3_020) == .closed)
        #expect(breaker.admit(nowMilliseconds: 3_021) == .allowed)
    }

    @Test func theOpenPeriodStopsDoublingAtItsMaximum() {
        var breaker = CircuitBreaker(failureThreshold: 1, openMilliseconds: 1_000, maxOpenMilliseconds: 3_000)
        var now: Int64 = 0
        _ = breaker.record(success: false, nowMilliseconds: now)
        for _ in 0..<5 {
            now += 100_000
            #expect(breaker.admit(nowMilliseconds: now) == .probe)
            _ = breaker.record(success: false, nowMilliseconds: now)
        }
        #expect(breaker.state == .open(untilMilliseconds: now + 3_000, periodMilliseconds: 3_000))
    }

    @Test func aLateAnswerWhileOpenChangesNothing() {
        var breaker = CircuitBreaker(failureThreshold: 1, openMilliseconds: 1_000)
        #expect(breaker.record(success: false, nowMilliseconds: 0) == .opened)
        #expect(breaker.record(success: true, nowMilliseconds: 10) == nil)
        #expect(breaker.admit(nowMilliseconds: 10) == .refused)
    }
}
