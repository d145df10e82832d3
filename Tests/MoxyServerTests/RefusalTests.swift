// SPDX-License-Identifier: Apache-2.0

import MoxyServer
import MoxySigning
import MoxyTestSupport
import NIOCore
import NIOHTTP1
import Testing

@Suite struct RefusalTests {
    @Test func badSignatureIs403AndNeverReachesTheOrigin() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/a.png", OriginRoute())
            let good = try moxy.path("/a.png")
            let bad = "/" + String(repeating: "A", count: 43) + good.dropFirst(44)
            let response = try await moxy.request(bad)
            #expect(response.status == 403)
            #expect(response.text == "bad signature\n")
            #expect(response.header("cache-control") == "no-store")
            #expect(response.header("content-type") == "text/plain; charset=utf-8")
            #expect(moxy.origin.count("/a.png") == 0)
        }
    }

    @Test func expiredURLIs403() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/a.png", OriginRoute())
            let response = try await moxy.get("/a.png", options: SignOptions(expires: moxy.clock.now() - 1))
            #expect(response.status == 403)
            #expect(response.text == "expired\n")
            #expect(response.header("cache-control") == "no-store")
            #expect(moxy.origin.count("/a.png") == 0)
        }
    }

    @Test func unknownKeyIDIs403() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/a.png", OriginRoute())
            let stranger = try URLSigner(keys: [try SigningKey(id: "default", secret: "x"), try SigningKey(id: "9", secret: "nine")])
            let path = try stranger.sign(moxy.origin.url("/a.png"), options: SignOptions(keyID: "9"))
            let response = try await moxy.request(path)
            #expect(response.status == 403)
            #expect(response.text == "unknown key id\n")
            #expect(moxy.origin.count("/a.png") == 0)
        }
    }

    @Test func nonMoxyPathsAre404AndOtherMethods405() async throws {
        try await MoxyHarness.run { moxy in
            #expect(try await moxy.request("/").status == 404)
            #expect(try await moxy.request("/favicon.ico").status == 404)
            let post = try await moxy.request(try moxy.path("/a.png"), method: .POST)
            #expect(post.status == 405)
            #expect(post.header("allow") == "GET, HEAD")
        }
    }

    @Test func requestLoopsAreRefused() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/a.png", OriginRoute())
            let response = try await moxy.request(try moxy.path("/a.png"), headers: [("Via", "1.1 moxy")])
            #expect(response.status == 508)
            #expect(moxy.origin.count("/a.png") == 0)
        }
    }

    @Test func upstreamHeadersAreFilteredAndSecurityHeadersAdded() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/h.png", OriginRoute(headers: [
                ("Content-Type", "IMAGE/PNG;  charset=\"x\""), ("Set-Cookie", "a=b"), ("Server", "origin/1.0"),
                ("Access-Control-Allow-Origin", "*"), ("ETag", "\"v1\""), ("X-Secret", "1"),
            ]))
            let response = try await moxy.request(
                try moxy.path("/h.png"), headers: [("Cookie", "s=1"), ("Authorization", "Bearer t"), ("Referer", "https://site.example/")])
            #expect(response.status == 200)
            #expect(response.header("content-type") == "image/png; charset=x")
            #expect(response.header("set-cookie") == nil)
            #expect(response.header("x-secret") == nil)
            #expect(response.header("access-control-allow-origin") == nil)
            #expect(response.headers["server"] == ["moxy"])
            #expect(response.header("etag") == "\"v1\"")
            #expect(response.header("x-content-type-options") == "nosniff")
            #expect(response.header("content-security-policy") == "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox")
            let sent = try #require(moxy.origin.headers("/h.png"))
            #expect(sent["user-agent"] == ["Moxy/0.1"])
            #expect(sent["via"] == ["1.1 moxy"])
            #expect(sent["cookie"].isEmpty && sent["authorization"].isEmpty && sent["referer"].isEmpty)
        }
    }

    @Test func clientCredentialsAreNotForwarded() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/c.png", OriginRoute())
            _ = try await moxy.request(try moxy.path("/c.png"), headers: [("Cookie", "s=1"), ("Authorization", "Bearer x"), ("Referer", "http://a/")])
            let sent = try #require(moxy.origin.headers("/c.png"))
            #expect(sent["cookie"].isEmpty && sent["authorization"].isEmpty && sent["referer"].isEmpty)
        }
    }

    @Test func tooLargeByContentLengthIs413() async throws {
        try await MoxyHarness.run(configure: { $0.upstream.maxObjectSize = 1000 }) { moxy in
            moxy.origin.route("/big.png", OriginRoute(body: Array(repeating: 1, count: 2000)))
            let response = try await moxy.get("/big.png")
            #expect(response.status == 413)
            #expect(response.text.contains("2000"))
            #expect(response.header("cache-control") == "no-store")
        }
    }

    @Test func tooLargeStreamedChunkedBodyIs413AndNotCached() async throws {
        try await MoxyHarness.run(configure: { $0.upstream.maxObjectSize = 1000 }) { moxy in
            moxy.origin.route("/chunked.png", OriginRoute(body: Array(repeating: 1, count: 1800), chunks: 3))
            moxy.origin.route("/small-chunked.png", OriginRoute(body: Array(repeating: 2, count: 900), chunks: 3))
            #expect(try await moxy.get("/chunked.png").status == 413)
            #expect(try await moxy.get("/chunked.png").status == 413)
            #expect(moxy.origin.count("/chunked.png") == 2)
            let small = try await moxy.get("/small-chunked.png")
            #expect(small.status == 200 && small.body == Array(repeating: 2, count: 900))
            #expect(small.header("content-length") == "900")
        }
    }

    @Test(arguments: [
        [("Content-Type", "text/html")], [], [("Content-Type", "image/png, text/html")], [("Content-Type", "image")],
        [("Content-Type", "image/png"), ("Content-Type", "text/html")],
    ])
    func disallowedOrMalformedContentTypesAre415(_ headers: [(String, String)]) async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/t", OriginRoute(headers: headers, body: Array("<script>".utf8)))
            let response = try await moxy.get("/t")
            #expect(response.status == 415)
            #expect(response.header("content-type") == "text/plain; charset=utf-8")
        }
    }

    @Test func configuredContentTypesAreAllowed() async throws {
        try await MoxyHarness.run(configure: { $0.upstream.contentTypes = ["image/*", "application/json"] }) { moxy in
            moxy.origin.route("/j", OriginRoute(headers: [("Content-Type", "application/json")], body: Array("{}".utf8)))
            let response = try await moxy.get("/j")
            #expect(response.status == 200)
        }
    }

    @Test func upstream5xxIs502AndNotCached() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/e.png", OriginRoute(status: 500, headers: [("Content-Type", "image/png"), ("Cache-Control", "max-age=600")]))
            let first = try await moxy.get("/e.png")
            #expect(first.status == 502)
            #expect(first.header("cache-control") == "no-store")
            #expect(first.header("cache-status") == "moxy; fwd=uri-miss; fwd-status=500; detail=upstream-status")
            #expect(try await moxy.get("/e.png").status == 502)
            #expect(moxy.origin.count("/e.png") == 2)
        }
    }

    @Test func upstream404Is404() async throws {
        try await MoxyHarness.run { moxy in
            let response = try await moxy.get("/missing.png")
            #expect(response.status == 404)
        }
    }

    @Test func slowUpstreamIs504() async throws {
        try await MoxyHarness.run(configure: {
            $0.upstream.readTimeout = 0.3
            $0.upstream.totalTimeout = 0.5
        }) { moxy in
            // The origin would answer long after the test: only the timeouts can end the request.
            moxy.origin.route("/slow.png", OriginRoute(delay: .seconds(60)))
            let response = try await moxy.get("/slow.png")
            #expect(response.status == 504)
        }
    }

    @Test func slowBodyHitsTheTotalTimeout() async throws {
        try await MoxyHarness.run(configure: {
            $0.upstream.readTimeout = 5
            $0.upstream.totalTimeout = 0.6
        }) { moxy in
            moxy.origin.route("/drip.png", OriginRoute(body: Array(repeating: 1, count: 40), chunks: 40, chunkDelay: .milliseconds(100)))
            let response = try await moxy.get("/drip.png")
            #expect(response.status == 504)
        }
    }

    @Test func connectionRefusedIs502() async throws {
        try await MoxyHarness.run { moxy in
            // A port that was just free: bind and close a listener to find one.
            let path = try moxy.signer.sign("http://127.0.0.1:1/a.png")
            let response = try await moxy.request(path)
            #expect(response.status == 502)
        }
    }
}
