// SPDX-License-Identifier: Apache-2.0

import MoxyServer
import MoxySigning
import MoxyTestSupport
import NIOCore
import NIOHTTP1
import NIOConcurrencyHelpers
import Testing

@Suite struct TargetFilterTests {
    func url(_ text: String) -> TargetURL { TargetURL(text)! }

    @Test func rulesParseAndMatch() {
        let host = TargetFilter.Rule("images.example.com")!
        #expect(host.matches(url("https://images.example.com/a.png")))
        #expect(!host.matches(url("https://evil-images.example.com/a.png")))
        let subdomains = TargetFilter.Rule("*.example.com")!
        #expect(subdomains.matches(url("http://a.b.example.com/x")))
        #expect(!subdomains.matches(url("http://example.com/x")) && !subdomains.matches(url("http://badexample.com/x")))
        let path = TargetFilter.Rule("cdn.example.com/images/*.png")!
        #expect(path.matches(url("http://cdn.example.com/images/a/b.png")))
        #expect(!path.matches(url("http://cdn.example.com/private/a.png")))
        let exact = TargetFilter.Rule("https://bad.example/one.png")!
        #expect(exact.matches(url("https://bad.example/one.png")) && !exact.matches(url("https://bad.example/two.png")))
        for bad in ["", "a b", "ex*ample.com", "**.example.com", "ftp://x/y", "exa$mple.com"] {
            #expect(TargetFilter.Rule(bad) == nil, "\(bad)")
        }
    }

    @Test func allowRulesFirstThenDeny() {
        let filter = TargetFilter(allow: [TargetFilter.Rule("*.example.com")!], deny: [TargetFilter.Rule("https://img.example.com/bad.png")!])
        #expect(!filter.refuses(url("https://img.example.com/good.png")))
        #expect(filter.refuses(url("https://img.example.com/bad.png")))
        #expect(filter.refuses(url("https://other.org/good.png")))
        #expect(!TargetFilter().refuses(url("https://anything.org/")))
    }

    @Test func deniedNetworksWinOverEveryAllowance() {
        var policy = AddressPolicy(allowed: [.loopback, .private])
        policy.deniedNetworks = [IPNetwork("127.0.0.0/8")!, IPNetwork("8.8.8.0/24")!]
        #expect(policy.refusal(forHost: "127.0.0.1") == .denied)
        #expect(policy.refusal(forHost: "8.8.8.8") == .denied)
        #expect(policy.refusal(forHost: "10.0.0.1") == nil)
        #expect(policy.refusal(forHost: "9.9.9.9") == nil)
    }
}

@Suite struct SecurityKnobTests {
    @Test func filterRulesRefuseTargetsAndRedirectHopsWithoutFetching() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/ok.png", OriginRoute())
            moxy.origin.route("/bad.png", OriginRoute())
            moxy.origin.route("/hop", .redirect("/bad.png"))
            let bad = moxy.origin.url("/bad.png")
            try await MoxyHarness.run(configure: {
                $0.upstream.addressPolicy = AddressPolicy(allowed: [.loopback])
                $0.upstream.filter = TargetFilter(deny: [TargetFilter.Rule(bad)!])
            }) { filtered in
                let refused = try await filtered.request(try filtered.signer.sign(bad))
                #expect(refused.status == 403 && refused.text == "target refused by the filter rules\n")
                let hop = try await filtered.request(try filtered.signer.sign(moxy.origin.url("/hop")))
                #expect(hop.status == 403)
                let ok = try await filtered.request(try filtered.signer.sign(moxy.origin.url("/ok.png")))
                #expect(ok.status == 200)
            }
            #expect(moxy.origin.count("/bad.png") == 0)
            try await MoxyHarness.run(configure: {
                $0.upstream.addressPolicy = AddressPolicy(allowed: [.loopback])
                $0.upstream.filter = TargetFilter(allow: [TargetFilter.Rule("images.example.com")!])
            }) { allowListed in
                let refused = try await allowListed.request(try allowListed.signer.sign(moxy.origin.url("/ok.png")))
                #expect(refused.status == 403)
            }
            #expect(moxy.origin.count("/ok.png") == 1)
        }
    }

    @Test func deniedNetworksAreRefusedEvenWhenTheClassIsAllowed() async throws {
        try await MoxyHarness.run(configure: { $0.upstream.addressPolicy.deniedNetworks = [IPNetwork("127.0.0.0/8")!] }) { moxy in
            moxy.origin.route("/x.png", OriginRoute())
            let response = try await moxy.get("/x.png")
            #expect(response.status == 403)
            #expect(moxy.origin.connections == 0)
        }
    }

    @Test func upstreamFetchesBeyondTheCapAre503() async throws {
        try await MoxyHarness.run(configure: { $0.upstream.maxConcurrentFetches = 1 }) { moxy in
            moxy.origin.route("/slow.png", OriginRoute())
            moxy.origin.route("/other.png", OriginRoute())
            // The first fetch is held at the origin until the second request was answered, so the
            // cap is reached whatever the machine's speed.
            let answered = NIOLockedValueBox(false)
            moxy.origin.holdResponses(until: { answered.withLockedValue { $0 } })
            async let slow = moxy.get("/slow.png")
            try await waitUntil { moxy.origin.count("/slow.png") == 1 }
            let other = try await moxy.get("/other.png")
            answered.withLockedValue { $0 = true }
            #expect(other.status == 503 && other.text == "too many upstream fetches in flight\n")
            let slowResponse = try await slow
            #expect(slowResponse.status == 200)
            let after = try await moxy.get("/other.png")
            #expect(after.status == 200)
        }
    }

    @Test func clientRequestLimitsAre414And431() async throws {
        try await MoxyHarness.run(configure: {
            $0.maxURIBytes = 1024
            $0.maxHeaderCount = 20
            $0.maxHeaderBytes = 4096
        }) { moxy in
            let long = try await RawClient.exchange(
                port: moxy.port, request: "GET /\(String(repeating: "a", count: 2000)) HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(long.hasPrefix("HTTP/1.1 414 URI Too Long\r\n") && long.contains("Connection: close"))
            let many = (0..<30).map { "X-\($0): y\r\n" }.joined()
            let counted = try await RawClient.exchange(port: moxy.port, request: "GET / HTTP/1.1\r\nHost: x\r\n\(many)\r\n")
            #expect(counted.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"))
            let big = try await RawClient.exchange(
                port: moxy.port, request: "GET / HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "b", count: 5000))\r\n\r\n")
            #expect(big.hasPrefix("HTTP/1.1 431 "))
        }
    }

    @Test func htmlIsNeverServedThroughAWildcard() async throws {
        try await MoxyHarness.run(configure: { $0.upstream.contentTypes = ["*/*"] }) { moxy in
            moxy.origin.route("/page", OriginRoute(headers: [("Content-Type", "text/html; charset=utf-8")], body: Array("<script>".utf8)))
            moxy.origin.route("/doc.json", OriginRoute(headers: [("Content-Type", "application/json")], body: Array("{}".utf8)))
            do {
                let checked = try await moxy.get("/page")
                #expect(checked.status == 415)
            }
            do {
                let checked = try await moxy.get("/doc.json")
                #expect(checked.status == 200)
            }
        }
        try await MoxyHarness.run(configure: { $0.upstream.contentTypes = ["text/html"] }) { moxy in
            moxy.origin.route("/page", OriginRoute(headers: [("Content-Type", "text/html")], body: Array("<p>".utf8)))
            let page = try await moxy.get("/page")
            #expect(page.status == 200)
            #expect(page.header("content-security-policy") == "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox")
        }
    }

    @Test func credentialURLsAreRefusedUnlessAllowedAndThenTheCredentialsAreDropped() async throws {
        try await MoxyHarness.run(configure: { $0.upstream.allowCredentials = true }) { moxy in
            moxy.origin.route("/c.png", OriginRoute())
            let url = "http://user:secret@127.0.0.1:\(moxy.origin.port)/c.png"
            let response = try await moxy.request(try moxy.signer.sign(url))
            #expect(response.status == 200)
            #expect(moxy.origin.headers("/c.png")?.contains(name: "authorization") == false)
        }
        try await MoxyHarness.run { moxy in
            let response = try await moxy.request(try moxy.signer.sign("http://user:secret@127.0.0.1:\(moxy.origin.port)/c.png"))
            #expect(response.status == 400)
        }
    }

    @Test func clientAddressIsForwardedOnlyWhenEnabled() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/a.png", OriginRoute())
            let response = try await moxy.request(
                try moxy.path("/a.png"), headers: [("Cookie", "s=1"), ("Referer", "https://x"), ("X-Forwarded-For", "203.0.113.7")])
            #expect(response.status == 200)
            let seen = try #require(moxy.origin.headers("/a.png"))
            #expect(!seen.contains(name: "x-forwarded-for") && !seen.contains(name: "cookie") && !seen.contains(name: "referer"))
            #expect(seen.first(name: "via") == "1.1 moxy" && seen.first(name: "user-agent") == "Moxy/0.1")
        }
        try await MoxyHarness.run(configure: { $0.upstream.forwardClientAddress = true }) { moxy in
            moxy.origin.route("/a.png", OriginRoute())
            let response = try await moxy.request(try moxy.path("/a.png"), headers: [("Cookie", "s=1"), ("Referer", "https://x"), ("Authorization", "t")])
            #expect(response.status == 200)
            let seen = try #require(moxy.origin.headers("/a.png"))
            #expect(seen.first(name: "x-forwarded-for") == "127.0.0.1")
            #expect(!seen.contains(name: "cookie") && !seen.contains(name: "referer") && !seen.contains(name: "authorization"))
        }
    }

    @Test func errorsCarryTheSecurityFieldsAndNeverSetCookie() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/s.png", OriginRoute(headers: [("Content-Type", "image/png"), ("Set-Cookie", "a=1"), ("Server", "origin")]))
            let ok = try await moxy.get("/s.png")
            #expect(ok.status == 200)
            #expect(ok.header("set-cookie") == nil && ok.header("server") == "moxy")
            let error = try await moxy.request("/not-a-moxy-url")
            #expect(error.status == 404)
            #expect(error.header("x-content-type-options") == "nosniff")
            #expect(error.header("content-security-policy") != nil && error.header("x-frame-options") == "deny")
        }
    }
}
