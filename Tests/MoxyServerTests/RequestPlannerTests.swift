// SPDX-License-Identifier: Apache-2.0

import MoxyCache
@testable import MoxyServer
import MoxyValidation
import NIOCore
import Testing

/// How a request is answered once its stored entry is known, without sockets or sleeps.
@Suite struct RequestPlannerTests {
    static let now = ExchangeMachineTests.now

    func plan(_ entry: CachedResponse?, _ directives: RequestDirectives = .none, validation: ValidationConfiguration? = nil, backoff: ExchangeMachine.StandIn? = nil)
        -> RequestPlanner.Plan
    {
        RequestPlanner.plan(entry: entry, directives: directives, validation: validation, backoff: { backoff }, now: Self.now)
    }

    @Test func aFreshEntryIsServedWithItsTTL() {
        guard case .serve(_, let status) = plan(ExchangeMachineTests.entry(maxAge: 60, age: 10)) else { Issue.record("expected serve"); return }
        #expect(status.value() == "moxy; hit; ttl=50")
    }

    @Test func aStaleEntryIsFetched() {
        guard case .fetch = plan(ExchangeMachineTests.entry(maxAge: 60, age: 61)) else { Issue.record("expected fetch"); return }
    }

    @Test func nothingStoredIsFetchedUnlessOnlyIfCached() {
        guard case .fetch = plan(nil) else { Issue.record("expected fetch"); return }
        guard case .fail(let error) = plan(nil, RequestDirectives(headers: [("Cache-Control", "only-if-cached")])) else {
            Issue.record("expected fail")
            return
        }
        #expect(error.status == 504)
    }

    @Test func withinStaleWhileRevalidateTheEntryIsServedAndRefreshed() {
        let entry = CachedResponse(
            status: 200, fields: [], body: ByteBuffer(), responseTime: Self.now - 70,
            freshness: Freshness(lifetime: 60, initialAge: 0, isExplicit: true, staleWhileRevalidate: 30), downstreamMaxAge: 60)
        guard case .serveAndRefresh(_, let status) = plan(entry) else { Issue.record("expected serveAndRefresh"); return }
        #expect(status.value() == "moxy; hit; ttl=-10; detail=stale-while-revalidate")
    }

    @Test func whileBackingOffTheLastGoodEntryAnswersWithoutAFetch() {
        let stale = ExchangeMachineTests.entry(maxAge: 60, age: 90)
        let reason = ExchangeMachine.StandIn(reason: .upstreamStatus, upstreamStatus: 503)
        guard case .serve(_, let status) = plan(stale, validation: ExchangeMachineTests.json, backoff: reason) else {
            Issue.record("expected serve")
            return
        }
        // The reason and the upstream's last status, so "site down" reads differently from "bad body".
        #expect(status.value() == "moxy; hit; fwd-status=503; ttl=-30; detail=UPSTREAM-STATUS")
        // Not backing off (or no rules): the stale entry goes forward.
        guard case .fetch = plan(stale, validation: ExchangeMachineTests.json, backoff: nil) else { Issue.record("expected fetch"); return }
    }

    @Test func aRequestMaxStaleServesStale() {
        let stale = ExchangeMachineTests.entry(maxAge: 60, age: 90)
        guard case .serve(_, let status) = plan(stale, RequestDirectives(headers: [("Cache-Control", "max-stale=60")])) else {
            Issue.record("expected serve")
            return
        }
        #expect(status.detail == "max-stale")
    }
}

extension RequestPlannerTests {
    @Test func clientLimitsAreAnsweredWith414And431() {
        var configuration = ServerConfiguration()
        configuration.maxURIBytes = 100
        configuration.maxHeaderCount = 10
        configuration.maxHeaderBytes = 1000
        let limits = RequestPlanner.ClientLimits(configuration)
        #expect(RequestPlanner.limitRefusal(uriBytes: 100, headerCount: 10, headerBytes: 1000, limits: limits) == nil)
        #expect(RequestPlanner.limitRefusal(uriBytes: 101, headerCount: 0, headerBytes: 0, limits: limits)?.status == 414)
        #expect(RequestPlanner.limitRefusal(uriBytes: 1, headerCount: 11, headerBytes: 0, limits: limits)?.status == 431)
        #expect(RequestPlanner.limitRefusal(uriBytes: 1, headerCount: 1, headerBytes: 1001, limits: limits)?.message == "header fields larger than 1000 bytes")
    }
}
