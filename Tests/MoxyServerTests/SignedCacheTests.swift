// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxyServer
import MoxyTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// The RFC 9111 behaviour of signed URLs: the same policy types as routes, with the signed-URL knobs.
@Suite struct SignedCacheTests {
    @Test func signedHitsAnswerConditionalsAndRanges() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/s.png", OriginRoute(headers: [("Content-Type", "image/png"), ("ETag", "\"s1\"")], body: Array("0123456789".utf8)))
            let path = try moxy.path("/s.png")
            _ = try await moxy.request(path)
            let notModified = try await moxy.request(path, headers: [("If-None-Match", "\"s1\"")])
            #expect(notModified.status == 304 && notModified.body.isEmpty)
            #expect(notModified.header("etag") == "\"s1\"")
            let range = try await moxy.request(path, headers: [("Range", "bytes=3-5")])
            #expect(range.status == 206 && range.text == "345")
            #expect(range.header("content-range") == "bytes 3-5/10")
            #expect(range.header("x-content-type-options") == "nosniff")
            #expect(moxy.origin.count("/s.png") == 1)
        }
    }

    @Test func signedStaleEntriesAreRevalidatedWithTheirValidators() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.respond("/v.png") { request in
                request.headers.first(name: "if-none-match") == "\"v\""
                    ? OriginRoute(status: 304, headers: [("ETag", "\"v\""), ("Cache-Control", "max-age=120")], body: [])
                    : OriginRoute(headers: [("Content-Type", "image/png"), ("ETag", "\"v\""), ("Cache-Control", "max-age=1")], body: Array("img".utf8))
            }
            let path = try moxy.path("/v.png")
            _ = try await moxy.request(path)
            try await moxy.advance(seconds: 2.1)
            let revalidated = try await moxy.request(path)
            #expect(revalidated.status == 200 && revalidated.text == "img")
            #expect(revalidated.header("cache-status") == "moxy; fwd=stale; fwd-status=304; stored")
            #expect(revalidated.header("cache-control") == "max-age=120")
            #expect(revalidated.header("content-type") == "image/png")
            let hit = try await moxy.request(path)
            #expect(hitTTL(hit).map { (119...120).contains($0) } == true)
        }
    }

    @Test func signedStaleIfErrorWindowFromTheSignedKnobs() async throws {
        try await MoxyHarness.run(configure: { $0.signedCache.staleIfError = 60 }) { moxy in
            moxy.origin.route("/e.png", OriginRoute(headers: [("Content-Type", "image/png"), ("Cache-Control", "max-age=1")], body: Array("ok".utf8)))
            let path = try moxy.path("/e.png")
            _ = try await moxy.request(path)
            try await moxy.advance(seconds: 2.1)
            moxy.origin.route("/e.png", OriginRoute(status: 500, headers: [("Content-Type", "text/plain")], body: Array("down".utf8)))
            let stale = try await moxy.request(path)
            #expect(stale.status == 200 && stale.text == "ok")
            #expect(stale.header("cache-status")?.hasPrefix("moxy; hit; fwd=stale; fwd-status=500") == true)
        }
    }
}
