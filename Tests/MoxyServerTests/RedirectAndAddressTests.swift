// SPDX-License-Identifier: Apache-2.0

@testable import MoxyServer
import MoxySigning
import MoxyTestSupport
import NIOCore
import NIOHTTP1
import Testing

@Suite struct RedirectAndAddressTests {
    @Test func redirectsWithinTheLimitAreFollowedAndCachedUnderTheSignedURL() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/r1", .redirect(moxy.origin.url("/r2"), status: 301))
            moxy.origin.route("/r2", .redirect("/r3", status: 307))  // path-only: keeps host and port
            moxy.origin.route("/r3", .redirect("final.png?v=1", status: 308))  // relative
            moxy.origin.route("/final.png?v=1", OriginRoute(body: Array("done".utf8)))
            let response = try await moxy.get("/r1")
            #expect(response.status == 200)
            #expect(response.text == "done")
            let again = try await moxy.get("/r1")
            #expect(again.header("cache-status")?.hasPrefix("moxy; hit; ttl=") == true)
            #expect(moxy.origin.count("/r1") == 1 && moxy.origin.count("/final.png?v=1") == 1)
        }
    }

    @Test func redirectsBeyondTheLimitAre502() async throws {
        try await MoxyHarness.run(configure: { $0.upstream.maxRedirects = 2 }) { moxy in
            moxy.origin.route("/a", .redirect("/b"))
            moxy.origin.route("/b", .redirect("/c"))
            moxy.origin.route("/c", .redirect("/d"))
            moxy.origin.route("/d", OriginRoute())
            let response = try await moxy.get("/a")
            #expect(response.status == 502)
            #expect(response.text.contains("redirects"))
            #expect(moxy.origin.count("/d") == 0)
            #expect(try await moxy.get("/b").status == 200)  // exactly two hops is fine
        }
    }

    @Test func redirectWithoutLocationOrToAnotherSchemeIs502() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/nl", OriginRoute(status: 302, headers: [], body: []))
            moxy.origin.route("/ftp", .redirect("ftp://example.com/a.png"))
            let noLocation = try await moxy.get("/nl")
            let ftp = try await moxy.get("/ftp")
            #expect(noLocation.status == 502)
            #expect(ftp.status == 502)
        }
    }

    @Test func loopbackTargetIsRefusedWhenNotAllowed() async throws {
        try await MoxyHarness.run(configure: { $0.upstream.addressPolicy = AddressPolicy() }) { moxy in
            moxy.origin.route("/a.png", OriginRoute())
            let response = try await moxy.get("/a.png")
            #expect(response.status == 403)
            #expect(response.text.contains("loopback"))
            #expect(moxy.origin.count("/a.png") == 0)
        }
    }

    @Test func redirectToALoopbackAddressIsRefusedWhenLoopbackIsNotAllowed() async throws {
        // Only the origin's own address is allowed; the loopback class as a whole is not.
        let originOnly = AddressPolicy(allowedNetworks: [IPNetwork("127.0.0.1/32")!])
        try await MoxyHarness.run(configure: { $0.upstream.addressPolicy = originOnly }) { moxy in
            moxy.origin.route("/to-lo2", .redirect("http://127.0.0.2:\(moxy.origin.port)/a.png"))
            moxy.origin.route("/to-localhost", .redirect("http://localhost:\(moxy.origin.port)/a.png"))
            moxy.origin.route("/to-hex", .redirect("http://0x7f.0.0.3:\(moxy.origin.port)/a.png"))
            moxy.origin.route("/a.png", OriginRoute())
            for start in ["/to-lo2", "/to-localhost", "/to-hex"] {
                let response = try await moxy.get(start)
                #expect(response.status == 403, "\(start)")
                #expect(response.text.contains("loopback"))
                #expect(moxy.origin.count(start) == 1)
            }
            #expect(moxy.origin.count("/a.png") == 0)
        }
    }

    @Test func theConnectedAddressIsCheckedEvenWhenTheHostCheckIsSkipped() async throws {
        // With the pre-connect host check off, only the connect-time check on the actual socket
        // address stands between the fetch and the loopback origin: no request may reach it.
        try await MoxyHarness.run(configure: {
            $0.upstream.addressPolicy = AddressPolicy()
            $0.upstream.checksHostBeforeConnect = false
        }) { moxy in
            moxy.origin.route("/a.png", OriginRoute())
            let response = try await moxy.get("/a.png")
            #expect(response.status == 403)
            #expect(moxy.origin.count("/a.png") == 0)
            // Connected, then refused before the request was sent. The origin may accept the
            // (already closed) connection a moment after Moxy answered, so wait for it.
            for _ in 0..<100 where moxy.origin.connections == 0 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(moxy.origin.connections == 1)
            #expect(moxy.origin.count("/a.png") == 0)
        }
    }

    @Test(.enabled(if: machineHostnameResolvesToLoopback(), "needs a host name that /etc/hosts maps to 127.0.0.1"))
    func aNameThatResolvesToLoopbackIsRefusedBeforeConnecting() async throws {
        try await MoxyHarness.run(configure: { $0.upstream.addressPolicy = AddressPolicy() }) { moxy in
            let path = try moxy.signer.sign("http://\(machineHostname()):\(moxy.origin.port)/a.png")
            let response = try await moxy.request(path)
            #expect(response.status == 403)
            #expect(response.text.contains("loopback"))
            try await Task.sleep(for: .milliseconds(100))  // give a wrong connection time to be counted
            #expect(moxy.origin.connections == 0)
        }
    }

    @Test func userInfoURLsAreRefused() async throws {
        try await MoxyHarness.run { moxy in
            let path = try moxy.signer.sign("http://user:pass@127.0.0.1:\(moxy.origin.port)/a.png")
            #expect(try await moxy.request(path).status == 400)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

func machineHostname() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    gethostname(&buffer, buffer.count)
    return String(cString: buffer)
}

func machineHostnameResolvesToLoopback() -> Bool {
    let name = machineHostname()
    let addresses = HostResolver.resolveBlocking(name)
    return AddressClass.classify(host: name) == nil && !addresses.isEmpty
        && addresses.allSatisfy { AddressClass.classify($0) == .loopback }
}

@Suite struct AddressPolicyTests {
    @Test(arguments: [
        ("127.0.0.1", AddressClass.loopback), ("2130706433", .loopback), ("0x7f.1", .loopback), ("0177.0.0.1", .loopback),
        ("127.1", .loopback), ("[::1]", .loopback), ("0.0.0.0", .unspecified), ("::", .unspecified),
        ("10.1.2.3", .private), ("172.16.0.1", .private), ("172.31.255.255", .private), ("192.168.1.1", .private),
        ("fd12::1", .private), ("100.64.0.1", .sharedAddressSpace), ("169.254.169.254", .linkLocal), ("fe80::1", .linkLocal),
        ("224.0.0.1", .multicast), ("ff02::1", .multicast), ("240.0.0.1", .reserved), ("255.255.255.255", .reserved),
        ("192.0.2.1", .reserved), ("2001:db8::1", .reserved), ("fec0::1", .reserved), ("::ffff:127.0.0.1", .embeddedIPv4),
        ("::ffff:8.8.8.8", .embeddedIPv4), ("64:ff9b::a00:1", .embeddedIPv4), ("2002:a00:1::", .embeddedIPv4),
        ("2001:0:a00:1::", .embeddedIPv4), ("8.8.8.8", .global), ("172.32.0.1", .global), ("2606:4700::1111", .global),
        ("localhost", .loopback), ("LOCALHOST.", .loopback), ("a.b.localhost", .loopback), ("x.localdomain", .loopback),
        ("::10.0.0.1", .embeddedIPv4), ("198.51.100.7", .reserved), ("203.0.113.9", .reserved), ("198.18.0.1", .reserved),
        ("100::1", .reserved), ("192.88.99.1", .reserved), ("0.1.2.3", .unspecified), ("233.252.0.1", .multicast),
    ])
    func classifiesWithoutConnecting(_ host: String, _ expected: AddressClass) {
        #expect(AddressClass.classify(host: host) == expected, "\(host)")
    }

    @Test func namesAreLeftForResolution() {
        #expect(AddressClass.classify(host: "images.example.com") == nil)
        #expect(AddressClass.classify(host: "localhost.example.com") == nil)
    }

    @Test(arguments: ["1.2.3.4.5", "256.0.0.1", "0x1.0x2.0x3.0x100", "::1::2", "fe80::1%eth0", "1:2:3:4:5:6:7:8:9", "", "[::1"])
    func malformedLiteralsAreNotAddresses(_ text: String) {
        #expect(IPAddress(parsing: text) == nil, "\(text)")
    }

    @Test func policyAllowsClassesAndNetworks() {
        let policy = AddressPolicy(allowed: [.private], allowedNetworks: [IPNetwork("169.254.10.0/24")!, IPNetwork("fd00::/8")!])
        #expect(policy.refusal(for: IPAddress(parsing: "10.0.0.1")!) == nil)
        #expect(policy.refusal(for: IPAddress(parsing: "169.254.10.9")!) == nil)
        #expect(policy.refusal(for: IPAddress(parsing: "169.254.169.254")!) == .linkLocal)
        #expect(policy.refusal(for: IPAddress(parsing: "127.0.0.1")!) == .loopback)
        #expect(policy.refusal(forHost: "localhost") == .loopback)
        #expect(policy.refusal(forHost: "example.com") == nil)
        #expect(IPNetwork("10.0.0.0/33") == nil && IPNetwork("10.0.0/8") == nil && IPNetwork("::/129") == nil)
    }

    @Test func theResolverReturnsLoopbackForLocalhost() async throws {
        // Resolution only: nothing connects. localhost resolves from /etc/hosts.
        let addresses = try await HostResolver.resolve("localhost")
        #expect(!addresses.isEmpty)
        #expect(addresses.allSatisfy { AddressClass.classify($0) == .loopback })
    }
}

/// A DNS answer that mixes allowed and refused addresses: decided by the pure classifier, with no
/// lookup and no connection to any of them.
@Suite struct MixedDNSAnswerTests {
    func addresses(_ texts: [String]) throws -> [IPAddress] {
        try texts.map { try #require(IPAddress(parsing: $0)) }
    }

    @Test func anyRefusedAddressRefusesTheName() throws {
        let policy = AddressPolicy()
        #expect(UpstreamFetcher.refusal(forResolved: try addresses(["93.184.215.14", "10.1.2.3"]), policy: policy) == .private)
        #expect(UpstreamFetcher.refusal(forResolved: try addresses(["2606:2800:21f:cb07:6820:80da:af6b:8b2c", "::1"]), policy: policy) == .loopback)
        #expect(UpstreamFetcher.refusal(forResolved: try addresses(["169.254.169.254", "93.184.215.14"]), policy: policy) == .linkLocal)
        #expect(UpstreamFetcher.refusal(forResolved: try addresses(["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]), policy: policy) == nil)
    }

    @Test func allowingOneClassDoesNotAllowTheOthersInTheSameAnswer() throws {
        let policy = AddressPolicy(allowed: [.loopback])
        #expect(UpstreamFetcher.refusal(forResolved: try addresses(["127.0.0.1", "192.168.1.1"]), policy: policy) == .private)
        #expect(UpstreamFetcher.refusal(forResolved: try addresses(["127.0.0.1", "::1"]), policy: policy) == nil)
        let networks = AddressPolicy(allowedNetworks: [try #require(IPNetwork("10.1.2.0/24"))])
        #expect(UpstreamFetcher.refusal(forResolved: try addresses(["10.1.2.3", "10.1.3.3"]), policy: networks) == .private)
    }
}
