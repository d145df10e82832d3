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
            #expect(again.header("cache-status") == "moxy; hit")
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
        }
    }

    @Test func userInfoURLsAreRefused() async throws {
        try await MoxyHarness.run { moxy in
            let path = try moxy.signer.sign("http://user:pass@127.0.0.1:\(moxy.origin.port)/a.png")
            #expect(try await moxy.request(path).status == 400)
        }
    }
}
