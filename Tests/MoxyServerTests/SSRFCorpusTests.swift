// SPDX-License-Identifier: Apache-2.0

import MoxyServer
import MoxySigning
import MoxyTestSupport
import NIOCore
import NIOPosix
import Testing

/// Bypass attempts against a canary listening on 127.0.0.1: every one must be refused without a
/// single connection reaching the canary. Every spelling here denotes a loopback (or unspecified,
/// i.e. local) address, and no name needs DNS, so even a failing run sends no packet off this host.
@Suite struct SSRFCorpusTests {
    static func literalSpellings(_ port: Int) -> [String] {
        [
            "127.0.0.1", "127.1", "127.0.1", "2130706433", "0x7f000001", "0x7f.1", "0x7F.0x0.0x0.0x1", "0177.0.0.1", "0177.1",
            "017700000001", "0x7f.0.0.1", "127.000.000.001", "0x7f.0x0.0x1", "127.0.0.1.", "127.255.255.254", "127.0.0.2",
            "0", "0.0.0.0", "0x0", "00.0.0.0", "[::1]", "[0:0:0:0:0:0:0:1]", "[::0001]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]",
            "[0:0:0:0:0:ffff:127.0.0.1]", "[::]", "localhost", "LOCALHOST", "localhost.", "LocalHost", "sub.localhost",
            "a.b.c.localhost", "localhost.localdomain", "x.localdomain",
        ].map { "http://\($0):\(port)/canary.png" }
    }

    @Test func literalNameAndUserInfoSpellingsAreRefusedWithoutAConnection() async throws {
        let canary = TestOrigin()
        try await canary.start(group: MultiThreadedEventLoopGroup.singleton)
        defer { Task { await canary.stop() } }
        canary.route("/canary.png", OriginRoute())
        // Default policy: global addresses only.
        try await MoxyHarness.run(configure: { $0.upstream.addressPolicy = AddressPolicy() }) { moxy in
            var urls = Self.literalSpellings(canary.port)
            urls += [
                "http://user:pass@127.0.0.1:\(canary.port)/canary.png",
                "http://127.0.0.1:\(canary.port)@127.0.0.1:\(canary.port)/canary.png",
                "http://[::1]:\(canary.port)#@example.com/canary.png",
            ]
            #expect(urls.count >= 38)
            for url in urls {
                let path = try moxy.signer.sign(url)
                let response = try await moxy.request(path)
                #expect([400, 403].contains(response.status), "\(url) → \(response.status)")
                #expect(response.header("cache-control") == "no-store")
            }
            #expect(canary.connections == 0)
        }
    }

    @Test func redirectsFromAnAllowedOriginToForbiddenTargetsAreRefused() async throws {
        let canary = TestOrigin()
        try await canary.start(group: MultiThreadedEventLoopGroup.singleton)
        defer { Task { await canary.stop() } }
        let allowed = TestOrigin()
        try await allowed.start(group: MultiThreadedEventLoopGroup.singleton, host: "127.0.0.2")
        defer { Task { await allowed.stop() } }
        try await MoxyHarness.run(configure: {
            // Only 127.0.0.2 is reachable, through an explicit CIDR rule.
            $0.upstream.addressPolicy = AddressPolicy(allowedNetworks: [IPNetwork("127.0.0.2/32")!])
        }) { moxy in
            let port = canary.port
            let targets = [
                "http://127.0.0.1:\(port)/canary.png", "http://2130706433:\(port)/canary.png", "http://0x7f.1:\(port)/canary.png",
                "http://[::1]:\(port)/canary.png", "http://[::ffff:127.0.0.1]:\(port)/canary.png", "http://localhost:\(port)/canary.png",
                "http://0:\(port)/canary.png", "//127.0.0.1:\(port)/canary.png",
            ]
            for (index, target) in targets.enumerated() {
                allowed.route("/hop\(index)", .redirect(target, status: [301, 302, 303, 307, 308][index % 5]))
                let response = try await moxy.request(try moxy.signer.sign("http://127.0.0.2:\(allowed.port)/hop\(index)"))
                #expect(response.status == 403, "\(target) → \(response.status)")
                #expect(allowed.count("/hop\(index)") == 1)
            }
            // A redirect loop ends at the limit.
            allowed.route("/loop", .redirect("/loop"))
            let loop = try await moxy.request(try moxy.signer.sign("http://127.0.0.2:\(allowed.port)/loop"))
            #expect(loop.status == 502)
            #expect(allowed.count("/loop") == 5)
            #expect(canary.connections == 0)
            // The allowed origin itself is served.
            allowed.route("/ok.png", OriginRoute())
            let ok = try await moxy.request(try moxy.signer.sign("http://127.0.0.2:\(allowed.port)/ok.png"))
            #expect(ok.status == 200)
        }
    }
}

/// Every forbidden class that is not loopback, checked on the pure redirect policy: no test may send
/// a packet to these addresses, so none is ever connected to, even if the policy were wrong.
@Suite struct RedirectPolicyTests {
    static let forbidden: [String] = [
        "http://10.0.0.1/", "http://172.16.5.4/", "http://192.168.0.1/", "http://100.64.0.1/", "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/", "http://224.0.0.1/", "http://[ff02::1]/", "http://255.255.255.255/", "http://240.0.0.1/",
        "http://192.0.2.1/", "http://198.51.100.1/", "http://203.0.113.1/", "http://198.18.0.1/", "http://[2001:db8::1]/",
        "http://[fec0::1]/", "http://[fd00::1]/", "http://[::ffff:10.0.0.1]/", "http://[::a00:1]/", "http://[64:ff9b::a9fe:a9fe]/",
        "http://[2002:a9fe:a9fe::]/", "http://[2001:0:a9fe:a9fe::]/", "http://0xa9fea9fe/", "http://2852039166/",
        "http://0251.0376.0251.0376/", "http://169.254.43518/", "http://0xA9.0xFE.0xA9.0xFE/", "http://10.1/", "http://metadata.localhost/",
    ]

    @Test(arguments: forbidden)
    func everyForbiddenClassIsRefusedAsARedirectHop(_ location: String) throws {
        let from = try #require(TargetURL("https://images.example.com/a.png"))
        let next = try UpstreamFetcher.redirectTarget(from: from, status: 302, location: location)
        let refusal = UpstreamFetcher.refusal(of: next, isRedirect: true, configuration: UpstreamConfiguration())
        #expect(refusal?.code == .addressRefused, "\(location)")
        // The first URL is judged the same way.
        #expect(UpstreamFetcher.refusal(of: next, isRedirect: false, configuration: UpstreamConfiguration())?.status == 403)
    }

    @Test func redirectsResolveLikeBrowsersAndKeepThePort() throws {
        let from = try #require(TargetURL("http://img.example.com:8080/dir/a.png"))
        #expect(try UpstreamFetcher.redirectTarget(from: from, status: 301, location: "/b.png").text == "http://img.example.com:8080/b.png")
        #expect(try UpstreamFetcher.redirectTarget(from: from, status: 302, location: "c.png").text == "http://img.example.com:8080/dir/c.png")
        #expect(try UpstreamFetcher.redirectTarget(from: from, status: 307, location: "//other.example/x").host == "other.example")
        #expect(throws: ProxyError.self) { try UpstreamFetcher.redirectTarget(from: from, status: 302, location: nil) }
        #expect(throws: ProxyError.self) { try UpstreamFetcher.redirectTarget(from: from, status: 302, location: "ftp://x/y") }
        #expect(throws: ProxyError.self) { try UpstreamFetcher.redirectTarget(from: from, status: 302, location: "http://u:p@x/y") }
        // Allowed by a class or a network on purpose.
        var configuration = UpstreamConfiguration()
        configuration.addressPolicy = AddressPolicy(allowed: [.linkLocal])
        #expect(UpstreamFetcher.refusal(of: TargetURL("http://169.254.169.254/")!, isRedirect: true, configuration: configuration) == nil)
        configuration.filter = TargetFilter(deny: [TargetFilter.Rule("169.254.169.254")!])
        #expect(UpstreamFetcher.refusal(of: TargetURL("http://169.254.169.254/")!, isRedirect: true, configuration: configuration)?.code == .filtered)
    }
}
