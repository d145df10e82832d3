// SPDX-License-Identifier: Apache-2.0

import MoxyServer
import MoxySigning
import MoxyTestSupport
import NIOCore
import NIOHTTP1
import Testing

@Suite struct CacheFlowTests {
    @Test func secondRequestIsAHitAndTheOriginSeesOne() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/cat.png", OriginRoute(body: Array(repeating: 42, count: 1024)))
            let first = try await moxy.get("/cat.png")
            #expect(first.status == 200)
            #expect(first.header("cache-status") == "moxy; fwd=uri-miss; fwd-status=200; stored")
            #expect(first.body == Array(repeating: 42, count: 1024))
            let second = try await moxy.get("/cat.png")
            #expect(second.status == 200)
            #expect(hitTTL(second).map { (3599...3600).contains($0) } == true)
            #expect(second.body == first.body)
            #expect(second.header("age") != nil && second.header("date") != nil)
            #expect(second.header("content-type") == "image/png")
            #expect(second.header("cache-control") == "public, max-age=3600")
            #expect(moxy.origin.count("/cat.png") == 1)
        }
    }

    @Test func headIsServedWithoutBodyAndFromCache() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/h.png", OriginRoute(body: Array(repeating: 1, count: 500)))
            let head = try await moxy.get("/h.png", method: .HEAD)
            #expect(head.status == 200)
            #expect(head.header("content-length") == "500")
            #expect(head.body.isEmpty)
            // A HEAD with nothing stored went upstream as HEAD; the GET is the first to store.
            let get = try await moxy.get("/h.png")
            #expect(get.header("cache-status")?.hasSuffix("stored") == true)
            #expect(get.body.count == 500)
            let head2 = try await moxy.get("/h.png", method: .HEAD)
            #expect(head2.header("cache-status")?.hasPrefix("moxy; hit; ttl=") == true)
            #expect(head2.header("content-length") == "500" && head2.body.isEmpty)
            #expect(moxy.origin.requests("/h.png").map(\.method) == [.HEAD, .GET])
        }
    }

    @Test func keyRotationKeepsTheCacheWarm() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/r.png", OriginRoute())
            _ = try await moxy.get("/r.png")
            let other = try await moxy.get("/r.png", options: SignOptions(keyID: "2"))
            #expect(other.header("cache-status")?.hasPrefix("moxy; hit; ttl=") == true)
            #expect(moxy.origin.count("/r.png") == 1)
        }
    }

    @Test func noStoreAndPrivateAreNotCached() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/ns.png", OriginRoute(headers: [("Content-Type", "image/png"), ("Cache-Control", "no-store")]))
            moxy.origin.route("/p.png", OriginRoute(headers: [("Content-Type", "image/png"), ("Cache-Control", "private, max-age=60")]))
            for round in 0..<2 {
                let response = try await moxy.get("/ns.png")
                #expect(response.status == 200)
                // The second request skips coalescing: the key is remembered as hit-for-miss.
                let forward = round == 0 ? "uri-miss" : "bypass"
                #expect(response.header("cache-status") == "moxy; fwd=\(forward); fwd-status=200; detail=no-store")
                #expect(response.header("cache-control") == "no-store")
                _ = try await moxy.get("/p.png")
            }
            #expect(moxy.origin.count("/ns.png") == 2)
            #expect(moxy.origin.count("/p.png") == 2)
        }
    }

    @Test func maxAgeExpiryIsRespected() async throws {
        try await MoxyHarness.run { moxy in
            // Ages are whole seconds: max-age=2 is still fresh a second boundary later.
            moxy.origin.route("/short.png", OriginRoute(headers: [("Content-Type", "image/png"), ("Cache-Control", "max-age=2")]))
            _ = try await moxy.get("/short.png")
            let hit = try await moxy.get("/short.png")
            #expect(hit.header("cache-status")?.hasPrefix("moxy; hit; ttl=") == true)
            try await moxy.advance(seconds: 3.1)
            let refreshed = try await moxy.get("/short.png")
            #expect(refreshed.header("cache-status") == "moxy; fwd=stale; fwd-status=200; stored")
            #expect(moxy.origin.count("/short.png") == 2)
        }
    }

    @Test func originAgeCountsAndMaxAgeZeroIsNotStored() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/aged.png", OriginRoute(headers: [("Content-Type", "image/png"), ("Cache-Control", "max-age=100"), ("Age", "40")]))
            moxy.origin.route("/zero.png", OriginRoute(headers: [("Content-Type", "image/png"), ("Cache-Control", "max-age=0")]))
            _ = try await moxy.get("/aged.png")
            let hit = try await moxy.get("/aged.png")
            #expect(hit.header("cache-status")?.hasPrefix("moxy; hit; ttl=") == true)
            #expect(moxy.origin.count("/aged.png") == 1)
            // The clock has not moved: the age is exactly the origin's 40 s, and the TTL what is left.
            #expect(hit.header("age") == "40")
            #expect(hit.header("cache-status") == "moxy; hit; ttl=60")
            _ = try await moxy.get("/zero.png")
            _ = try await moxy.get("/zero.png")
            #expect(moxy.origin.count("/zero.png") == 2)
        }
    }

    @Test func expiringURLsCapTheDownstreamMaxAge() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/e.png", OriginRoute(headers: [("Content-Type", "image/png"), ("Cache-Control", "public, max-age=86400"), ("Expires", "Thu, 01 Jan 2099 00:00:00 GMT")]))
            let expires = moxy.clock.now() + 100
            for _ in 0..<2 {
                let response = try await moxy.get("/e.png", options: SignOptions(expires: expires))
                #expect(response.status == 200)
                let maxAge = Int(response.header("cache-control")?.split(separator: "=").last ?? "") ?? -1
                #expect(maxAge == 100, "the server's clock has not moved: exactly the 100 s left")
                #expect(response.header("expires") == nil)
            }
            let unlimited = try await moxy.get("/e.png")
            #expect(unlimited.header("cache-control") == "public, max-age=86400")
        }
    }

    @Test func hundredConcurrentMissesMakeOneOriginRequest() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/cold.png", OriginRoute(body: Array(repeating: 9, count: 4096)))
            moxy.origin.holdResponses(until: { moxy.server.coalescedWaiters >= 99 })
            let path = try moxy.path("/cold.png")
            let results = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for _ in 0..<100 { group.addTask { try await moxy.request(path) } }
                var all: [TestResponse] = []
                for try await response in group { all.append(response) }
                return all
            }
            #expect(results.count == 100)
            #expect(results.allSatisfy { $0.status == 200 && $0.body.count == 4096 })
            #expect(results.filter { $0.header("cache-status") == "moxy; fwd=uri-miss; fwd-status=200; stored" }.count == 1)
            #expect(moxy.origin.count("/cold.png") == 1)
        }
    }

    @Test func concurrentMissesShareAnErrorToo() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/boom.png", OriginRoute(status: 503))
            // An error is not stored: only requests that wait behind the fetch share it.
            moxy.origin.holdResponses(until: { moxy.server.coalescedWaiters >= 19 })
            let path = try moxy.path("/boom.png")
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 { group.addTask { try await moxy.request(path).status } }
                var all: [Int] = []
                for try await status in group { all.append(status) }
                return all
            }
            #expect(statuses.allSatisfy { $0 == 502 })
            #expect(moxy.origin.count("/boom.png") == 1)
        }
    }
}

/// The one test that lets real time pass: the system clock is wired through to ages and expiry
/// (every other cache test moves a manual clock instead of sleeping).
@Suite struct WallClockTests {
    @Test func anEntryExpiresOnTheWallClock() async throws {
        try await MoxyHarness.run(realTime: true) { moxy in
            // The fetch itself counts towards the age (RFC 9111 §4.2.3, response_delay): one
            // that took a second or more on a loaded machine arrives stale and is not stored. So
            // the first step is repeated (on a fresh path) until an entry is stored, and then the
            // wall clock must make that entry stale: every branch asserts the same thing.
            var path: String?
            for attempt in 0..<5 where path == nil {
                let candidate = "/w\(attempt).png"
                moxy.origin.route(candidate, OriginRoute(headers: [("Content-Type", "image/png"), ("Cache-Control", "max-age=1")]))
                let first = try await moxy.get(candidate)
                let status = first.header("cache-status") ?? ""
                #expect(status == "moxy; fwd=uri-miss; fwd-status=200; stored" || status == "moxy; fwd=uri-miss; fwd-status=200; detail=stale", "\(status)")
                if status.hasSuffix("; stored") { path = candidate }
            }
            let stored = try #require(path, "five fetches in a row took over a second each")
            try await Task.sleep(for: .milliseconds(2100))
            let second = try await moxy.get(stored)
            // `fwd=stale` is what proves the wall clock expired the entry; the refetch itself may
            // again take over a second on a loaded machine and arrive stale (not stored), as above.
            let refetched = second.header("cache-status") ?? ""
            #expect(
                refetched == "moxy; fwd=stale; fwd-status=200; stored" || refetched == "moxy; fwd=stale; fwd-status=200; detail=stale",
                "\(second.status) \(refetched)")
            #expect(moxy.origin.count(stored) == 2)
        }
    }
}
