// SPDX-License-Identifier: Apache-2.0

import MoxyCache
@testable import MoxyServer
import MoxyValidation
import NIOCore
import NIOEmbedded
import Testing

/// Per-key state: coalescing, refreshes, hit-for-miss and back-off in one map that never grows
/// past what is in force. Times are given; nothing sleeps.
@Suite struct KeyStateTableTests {
    static let reason = ExchangeMachine.StandIn(reason: .invalidBody(rule: "json"), upstreamStatus: 200)

    let loop = EmbeddedEventLoop()
    let t: Int64 = 1_800_000_000_000

    @Test func oneLeaderPerKeyAndAllWaitersGetItsOutcome() throws {
        let table = KeyStateTable()
        let (leader, isLeader) = table.join("k", on: loop, nowMilliseconds: t)
        let (waiter, second) = table.join("k", on: loop, nowMilliseconds: t)
        #expect(isLeader && !second)
        #expect(table.inFlight == 1)
        let outcome = ProxyOutcome.complete(ExchangeMachineTests.entry(), .init(.hit(.memory)))
        table.complete("k", with: outcome, nowMilliseconds: t)
        #expect(try leader.wait().cacheStatus.hit && waiter.wait().cacheStatus.hit)
        #expect(table.inFlight == 0)
        #expect(table.count == 0)
    }

    @Test func oneBackgroundRefreshPerKey() {
        let table = KeyStateTable()
        #expect(table.startRefresh("k", nowMilliseconds: t))
        #expect(!table.startRefresh("k", nowMilliseconds: t))
        table.endRefresh("k", nowMilliseconds: t)
        #expect(table.startRefresh("k", nowMilliseconds: t))
        table.endRefresh("k", nowMilliseconds: t)
        #expect(table.count == 0)
    }

    @Test func hitForMissLastsItsWindow() {
        let table = KeyStateTable()
        table.markHitForMiss("k", untilMilliseconds: t + 30_000, nowMilliseconds: t)
        #expect(table.isHitForMiss("k", nowMilliseconds: t + 29_999))
        #expect(!table.isHitForMiss("k", nowMilliseconds: t + 30_000))
        table.clearHitForMiss("k", nowMilliseconds: t)
        #expect(!table.isHitForMiss("k", nowMilliseconds: t))
        #expect(table.count == 0)
    }

    @Test func backoffDoublesUpToItsCap() {
        var validation = ValidationConfiguration()
        validation.backoff = 5
        validation.maxBackoff = 300
        let delays = (1...9).map { KeyStateTable.backoffDelayMilliseconds(failures: $0, validation) }
        #expect(delays == [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000])
        #expect(KeyStateTable.backoffDelayMilliseconds(failures: 10_000, validation) == 300_000)
    }

    @Test func backoffGrowsPerFailureAndAValidAnswerEndsIt() {
        var validation = ValidationConfiguration()
        validation.backoff = 1
        validation.maxBackoff = 60
        let table = KeyStateTable()
        table.backOff("k", validation, standIn: Self.reason, nowMilliseconds: t)
        #expect(table.isBackingOff("k", nowMilliseconds: t + 999))
        #expect(!table.isBackingOff("k", nowMilliseconds: t + 1000))
        table.backOff("k", validation, standIn: Self.reason, nowMilliseconds: t + 1000)
        #expect(table.isBackingOff("k", nowMilliseconds: t + 2999))
        #expect(!table.isBackingOff("k", nowMilliseconds: t + 3000))
        #expect(table.backoff("k", nowMilliseconds: t + 2000) == Self.reason)
        table.clearBackoff("k", nowMilliseconds: t + 3000)
        table.backOff("k", validation, standIn: Self.reason, nowMilliseconds: t + 3000)
        #expect(!table.isBackingOff("k", nowMilliseconds: t + 4000), "the count starts over after a valid answer")
    }

    @Test func endedStateIsSweptSoTheMapStaysBounded() {
        let table = KeyStateTable()
        for i in 0..<2000 { table.markHitForMiss("k\(i)", untilMilliseconds: t + 1_000, nowMilliseconds: t) }
        #expect(table.count == 2000)
        // Two seconds later every mark has ended; the map is swept when it reaches twice the
        // size it had after the last sweep (2048 here), so only the new marks are left.
        let later = t + 2000
        for i in 0..<60 { table.markHitForMiss("n\(i)", untilMilliseconds: later + 1_000, nowMilliseconds: later) }
        #expect(table.count == 60)
    }

    @Test func pastTheCapOnlyFetchesAreRemembered() {
        let table = KeyStateTable()
        for i in 0..<KeyStateTable.maxKeys { table.markHitForMiss("k\(i)", untilMilliseconds: t + 60_000, nowMilliseconds: t) }
        table.markHitForMiss("extra", untilMilliseconds: t + 60_000, nowMilliseconds: t)
        #expect(!table.isHitForMiss("extra", nowMilliseconds: t))
        let (_, isLeader) = table.join("fetch", on: loop, nowMilliseconds: t)
        #expect(isLeader)
        #expect(table.inFlight == 1)
        table.complete("fetch", with: .complete(ExchangeMachineTests.entry(), .init(.notStored(nil))), nowMilliseconds: t)
    }
}
