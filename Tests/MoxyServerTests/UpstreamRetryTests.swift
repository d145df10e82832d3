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
            // A POST may have been acted upon: it is never sent twice.
            moxy.origin.dropReusedRequests(1)
            let post = try await moxy.request("/w", method: .POST, body: Array("x".utf8))
            #expect(post.status == 502)
            #expect(post.header("cache-status") == "moxy; fwd=bypass; detail=upstream-error")
            #expect(moxy.origin.count("/w") == 2)
        }
    }

    @Test func onlyOneRetry() async throws {
        try await MoxyHarness.run(routes: { [try originRoute($0)] }) { moxy in
            moxy.origin.route("/r", text("ok", [("Cache-Control", "no-store")]))
            // Two connections in the pool, both closed by the origin as they are reused.
            async let a = moxy.request("/r")
            async let b = moxy.request("/r")
            _ = try await (a, b)
            let pooled = moxy.origin.connections
            moxy.origin.dropReusedRequests(5)
            let response = try await moxy.request("/r")
            #expect(moxy.origin.connections - pooled <= 2, "at most the failed attempt and one retry")
            _ = response
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
