// SPDX-License-Identifier: Apache-2.0

import MoxyServer
import MoxyTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// An origin that closes an idle keep-alive connection just as Moxy reuses it: the request failed
/// before any response byte, so an idempotent request without a body is sent once more on a new
/// connection (about one route request in a thousand got a 502 before).
@Suite struct UpstreamRetryTests {
    @Test func aGetOnAConnectionTheOriginClosedIsRetriedOnANewOne() async throws {
        try await MoxyHarness.run(routes: { [try originRoute($0)] }) { moxy in
            moxy.origin.route("/r", text("ok", [("Cache-Control", "no-store")]))
            #expect(try await moxy.request("/r").status == 200)
            #expect(moxy.origin.connections == 1)
            moxy.origin.dropReusedRequests(1)
            let second = try await moxy.request("/r")
            #expect(second.status == 200 && second.text == "ok")
            #expect(second.header("cache-status") == "moxy; fwd=bypass; fwd-status=200; detail=no-store")
            #expect(moxy.origin.connections == 2, "the retry went out on a new connection")
            #expect(moxy.origin.count("/r") == 2, "the dropped request never reached the route")
        }
    }

    @Test func anIdempotentPassThroughIsRetriedButAPostIsNot() async throws {
        try await MoxyHarness.run(routes: { [try originRoute($0)] }) { moxy in
            moxy.origin.route("/w", text("done"))
            #expect(try await moxy.request("/w", method: .DELETE).status == 200)
            moxy.origin.dropReusedRequests(1)
            #expect(try await moxy.request("/w", method: .DELETE).status == 200)
            #expect(moxy.origin.count("/w") == 2)
            // A POST may have been acted upon: it is never sent twice (one first, so that the
            // next goes out on a pooled connection).
            #expect(try await moxy.request("/w", method: .POST, body: Array("x".utf8)).status == 200)
            moxy.origin.dropReusedRequests(1)
            let post = try await moxy.request("/w", method: .POST, body: Array("x".utf8))
            #expect(post.status == 502)
            #expect(post.header("cache-status") == "moxy; fwd=bypass; detail=upstream-error")
            #expect(moxy.origin.count("/w") == 3)
            // Nor is a POST without a body (it takes the interim-forwarding connection).
            #expect(try await moxy.request("/w", method: .POST).status == 200)
            moxy.origin.dropReusedRequests(1)
            #expect(try await moxy.request("/w", method: .POST).status == 502)
            #expect(moxy.origin.count("/w") == 4)
        }
    }

    @Test func onlyOneRetry() async throws {
        try await MoxyHarness.run(routes: { [try originRoute($0)] }) { moxy in
            moxy.origin.route("/r", text("ok", [("Cache-Control", "no-store")]))
            // Four connections in the pool (four requests held until all are in flight), every
            // one closed by the origin as it is reused: a forwarder that retried more than once
            // would go through three or four of them.
            for index in 1...4 { moxy.origin.route("/w\(index)", text("ok", [("Cache-Control", "no-store")])) }
            moxy.origin.holdResponses(untilInFlight: 4)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 1...4 { group.addTask { _ = try await moxy.request("/w\(index)") } }
                try await group.waitForAll()
            }
            #expect(moxy.origin.connections == 4)
            let answered = moxy.origin.count("/r")
            moxy.origin.dropReusedRequests(10)
            let response = try await moxy.request("/r")
            let attempts = moxy.origin.droppedRequests + moxy.origin.count("/r") - answered
            #expect(moxy.origin.droppedRequests >= 1, "the first attempt went to a reused connection and was dropped")
            #expect(attempts <= 2, "at most the failed attempt and one retry: \(attempts)")
            // Both attempts on reused connections: the retry failed too, and that is the answer.
            if moxy.origin.droppedRequests == 2 { #expect(response.status == 502) } else { #expect(response.status == 200) }
        }
    }
}

@Suite struct SignedRetryTests {
    @Test func aSignedFetchOnAConnectionTheOriginClosedIsRetried() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/a.png", OriginRoute(headers: [("Content-Type", "image/png"), ("Cache-Control", "no-store")]))
            #expect(try await moxy.get("/a.png").status == 200)
            moxy.origin.dropReusedRequests(1)
            let second = try await moxy.get("/a.png")
            #expect(second.status == 200)
            #expect(moxy.origin.connections == 2)
        }
    }
}
