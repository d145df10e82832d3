// SPDX-License-Identifier: Apache-2.0

import MoxyServer
import MoxyTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// Revalidation outcomes through real sockets, on the harness's manual clock.
@Suite struct RevalidationTests {
    /// §4.3.4: a 304 whose strong validator names another representation is not applied; the
    /// whole representation is fetched instead.
    @Test func a304ForAnotherRepresentationTriggersAFullFetch() async throws {
        try await MoxyHarness.run(routes: { [try originRoute($0)] }) { moxy in
            moxy.origin.respond("/r") { request in
                if request.headers.contains(name: "if-none-match") {
                    return OriginRoute(status: 304, headers: [("ETag", "\"v2\""), ("Cache-Control", "max-age=60")], body: [])
                }
                let version = moxy.origin.count("/r") == 1 ? "v1" : "v2"
                return text(version, [("ETag", "\"\(version)\""), ("Cache-Control", "max-age=1")])
            }
            #expect(try await moxy.request("/r").text == "v1")
            try await moxy.advance(seconds: 2)
            let refreshed = try await moxy.request("/r")
            #expect(refreshed.text == "v2")
            #expect(refreshed.header("etag") == "\"v2\"")
            let requests = moxy.origin.requests("/r")
            #expect(requests.count == 3, "first fetch, the conditional one, the unconditional one")
            #expect(requests.map { $0.headers.first(name: "if-none-match") } == [nil, "\"v1\"", nil])
        }
    }

    /// A 4xx on revalidation is the resource's new state: the stored entry goes. A 5xx is the
    /// origin failing: the entry stays for the next attempt.
    @Test func a4xxOnRevalidationRemovesTheEntryA5xxKeepsIt() async throws {
        try await MoxyHarness.run(routes: { [try originRoute($0)] }) { moxy in
            moxy.origin.route("/gone", text("here", [("Cache-Control", "max-age=1")]))
            moxy.origin.route("/down", text("here", [("Cache-Control", "max-age=1")]))
            _ = try await moxy.request("/gone")
            _ = try await moxy.request("/down")
            try await moxy.advance(seconds: 2)
            moxy.origin.route("/gone", text("not found", status: 404, [("Cache-Control", "no-store")]))
            moxy.origin.route("/down", text("busy", status: 503))
            #expect(try await moxy.request("/gone").status == 404)
            let down = try await moxy.request("/down")
            #expect(down.status == 503)
            #expect(down.header("cache-status") == "moxy; fwd=stale; fwd-status=503; detail=kept-stored")
            moxy.origin.route("/gone", text("back", [("Cache-Control", "max-age=60")]))
            moxy.origin.route("/down", text("back", [("Cache-Control", "max-age=60")]))
            // /gone has nothing stored any more (and skips coalescing for a while: hit-for-miss);
            // /down still has its stale entry to validate.
            #expect(try await moxy.request("/gone").header("cache-status") == "moxy; fwd=bypass; fwd-status=200; stored; detail=hit-for-miss")
            #expect(try await moxy.request("/down").header("cache-status") == "moxy; fwd=stale; fwd-status=200; stored")
        }
    }

    /// stale-while-revalidate: however many requests find the entry stale at once, one background
    /// refresh runs for the key.
    @Test func oneBackgroundRefreshPerKey() async throws {
        try await MoxyHarness.run(routes: { [try originRoute($0)] }) { moxy in
            moxy.origin.route("/s", text("v1", [("Cache-Control", "max-age=1, stale-while-revalidate=60")]))
            _ = try await moxy.request("/s")
            try await moxy.advance(seconds: 2)
            var slow = text("v2", [("Cache-Control", "max-age=60")])
            slow.delay = .milliseconds(300)
            moxy.origin.route("/s", slow)
            try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for _ in 0..<20 { group.addTask { try await moxy.request("/s") } }
                for try await response in group {
                    #expect(response.text == "v1")
                    #expect(response.header("cache-status")?.hasSuffix("detail=stale-while-revalidate") == true)
                }
            }
            try await moxy.waitForUpstreamWork()
            #expect(moxy.origin.count("/s") == 2, "one first fetch, one refresh")
            #expect(try await moxy.request("/s").text == "v2")
        }
    }
}
