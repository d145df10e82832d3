// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxyHTTP
import MoxyServer
import MoxyTestSupport
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import AsyncHTTPClient
import Testing

/// The last RFC 9110 / 9111 details a careful operator or a CDN in front of Moxy would notice,
/// through real sockets, in both modes where both apply.
@Suite struct RFC9111FidelityTests {
    /// Runs `body` once for a route and once for a signed URL: `path` turns an origin path into the Moxy path.
    static func bothModes(_ body: (MoxyHarness, _ path: (String) throws -> String) async throws -> Void) async throws {
        try await MoxyHarness.run(routes: { [try originRoute($0)] }) { moxy in
            try await body(moxy, { $0 })
        }
        try await MoxyHarness.run { moxy in
            try await body(moxy, { try moxy.path($0) })
        }
    }

    static let png = [("Content-Type", "image/png")]

    @Test func sec4_2_3_anAgeFromTheUpstreamIsKeptAndCounted() async throws {
        try await Self.bothModes { moxy, path in
            moxy.origin.route("/old.png", OriginRoute(headers: Self.png + [("Cache-Control", "max-age=86400"), ("Age", "7200")], body: Array("o".utf8)))
            let first = try await moxy.request(try path("/old.png"))
            #expect(first.header("age") == "7200")
            #expect(first.header("cache-status")?.hasSuffix("stored") == true)
            try await moxy.advance(seconds: 10)
            let hit = try await moxy.request(try path("/old.png"))
            #expect(hit.header("age") == "7210")
            #expect(hit.header("cache-status") == "moxy; hit; ttl=79190")
            // Not stored: the upstream's Age is passed on as it came.
            moxy.origin.route("/nostore.png", OriginRoute(headers: Self.png + [("Cache-Control", "no-store"), ("Age", "50")], body: Array("n".utf8)))
            let passed = try await moxy.request(try path("/nostore.png"))
            #expect(passed.header("cache-status")?.contains("detail=no-store") == true)
            #expect(passed.header("age") == "50")
        }
    }

    @Test func sec6_6_1_aReusedResponseCarriesTheStoredDate() async throws {
        try await Self.bothModes { moxy, path in
            let originDate = HTTPDate.format(moxy.clock.now() - 5)
            moxy.origin.route("/dated.png", OriginRoute(headers: Self.png + [("Cache-Control", "max-age=600"), ("Date", originDate)], body: Array("d".utf8)))
            let first = try await moxy.request(try path("/dated.png"))
            #expect(first.header("date") == originDate)
            #expect(first.header("age") == "5")
            try await moxy.advance(seconds: 30)
            let hit = try await moxy.request(try path("/dated.png"))
            #expect(hit.header("cache-status")?.hasPrefix("moxy; hit") == true)
            #expect(hit.header("date") == originDate)
            #expect(hit.header("age") == "35")
            #expect(hit.headers["date"].count == 1)
            // No Date from the upstream: the one generated when the response was stored.
            moxy.origin.route("/undated.png", OriginRoute(headers: Self.png + [("Cache-Control", "max-age=600")], body: Array("u".utf8)))
            let stored = HTTPDate.format(moxy.clock.now())
            #expect(try await moxy.request(try path("/undated.png")).header("date") == stored)
            try await moxy.advance(seconds: 30)
            let later = try await moxy.request(try path("/undated.png"))
            #expect(later.header("date") == stored)
            #expect(later.header("age") == "30")
        }
    }

    @Test func sec5_2_2_4_and_5_2_2_7_qualifiedFieldsGoWithTheUpstreamAnswerNotWithReuse() async throws {
        try await MoxyHarness.run(routes: { [try originRoute($0)] }) { moxy in
            moxy.origin.route(
                "/q",
                text("q", [("Cache-Control", "max-age=60, no-cache=\"X-Secret\", private=\"X-User\""), ("X-Secret", "s1"), ("X-User", "u1"), ("X-Plain", "p")])
            )
            let first = try await moxy.request("/q")
            #expect(first.header("cache-status")?.hasSuffix("stored") == true)
            #expect(first.header("x-secret") == "s1" && first.header("x-user") == "u1" && first.header("x-plain") == "p")
            let hit = try await moxy.request("/q")
            #expect(hit.header("cache-status")?.hasPrefix("moxy; hit") == true)
            #expect(hit.header("x-secret") == nil && hit.header("x-user") == nil && hit.header("x-plain") == "p")
            #expect(moxy.origin.count("/q") == 1)
        }
        // A request coalesced with the one that fetched reuses the answer: it gets the stored form.
        try await MoxyHarness.run(routes: { [try originRoute($0)] }) { moxy in
            moxy.origin.route(
                "/slow",
                OriginRoute(
                    headers: [("Content-Type", "text/plain"), ("Cache-Control", "max-age=60, no-cache=\"X-Secret\""), ("X-Secret", "s1")],
                    body: Array("s".utf8))
            )
            moxy.origin.holdResponses(until: { moxy.server.coalescedWaiters >= 1 })
            async let first = moxy.request("/slow")
            async let second = moxy.request("/slow")
            let answers = try await [first, second]
            let collapsed = answers.filter { $0.header("cache-status")?.hasSuffix("collapsed") == true }
            #expect(collapsed.count == 1 && collapsed.first?.header("x-secret") == nil, "\(answers.map { $0.header("cache-status") ?? "" })")
            #expect(answers.filter { $0.header("x-secret") == "s1" }.count == 1)
            #expect(moxy.origin.count("/slow") == 1)
        }
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/q.png", OriginRoute(headers: Self.png + [("Cache-Control", "max-age=60, private=\"ETag\""), ("ETag", "\"e1\"")], body: Array("q".utf8)))
            let first = try await moxy.get("/q.png")
            #expect(first.header("etag") == "\"e1\"")
            let hit = try await moxy.get("/q.png")
            #expect(hit.header("cache-status")?.hasPrefix("moxy; hit") == true)
            #expect(hit.header("etag") == nil)
        }
    }

    @Test func sec5_3_anExpiresSpelledOtherwiseIsAlreadyExpiredAndABadDateIsReplaced() async throws {
        try await Self.bothModes { moxy, path in
            let later = HTTPDate.format(moxy.clock.now() + 3600)
            let spaced = later.replacingFirst(" ", with: "  ")
            moxy.origin.route("/e.png", OriginRoute(headers: Self.png + [("Expires", spaced)], body: Array("e".utf8)))
            for _ in 0..<2 { _ = try await moxy.request(try path("/e.png")) }
            #expect(moxy.origin.count("/e.png") == 2)
            moxy.origin.route("/good.png", OriginRoute(headers: Self.png + [("Expires", later)], body: Array("g".utf8)))
            for _ in 0..<2 { _ = try await moxy.request(try path("/good.png")) }
            #expect(moxy.origin.count("/good.png") == 1)
            // A Date that is not an HTTP-date is replaced by the time the response arrived; an Age
            // that is not a whole number is ignored.
            moxy.origin.route("/d.png", OriginRoute(headers: Self.png + [("Cache-Control", "max-age=60"), ("Date", spaced), ("Age", "-5")], body: Array("d".utf8)))
            let dated = try await moxy.request(try path("/d.png"))
            #expect(dated.header("date") == HTTPDate.format(moxy.clock.now()))
            #expect(dated.header("age") == "0")
        }
    }

    @Test func sec4_1_variantsThatDifferOnlyInCaseOrSpacingAreOne() async throws {
        try await MoxyHarness.run(routes: { [try originRoute($0)] }) { moxy in
            moxy.origin.respond("/v") { request in
                text(request.headers.first(name: "accept-language") ?? "none", [("Cache-Control", "max-age=60"), ("Vary", "Accept-Language, Accept-Encoding")])
            }
            let first = try await moxy.request("/v", headers: [("Accept-Language", "en-US, fr;q=0.5"), ("Accept-Encoding", "gzip, br")])
            #expect(first.header("cache-status")?.hasSuffix("stored") == true)
            let same = try await moxy.request("/v", headers: [("Accept-Language", "EN-us,fr ; q=0.5"), ("Accept-Encoding", "GZIP,BR")])
            #expect(same.header("cache-status")?.hasPrefix("moxy; hit") == true)
            #expect(same.text == "en-US, fr;q=0.5")
            let other = try await moxy.request("/v", headers: [("Accept-Language", "de"), ("Accept-Encoding", "gzip, br")])
            #expect(other.header("cache-status")?.contains("fwd=vary-miss") == true)
            #expect(moxy.origin.count("/v") == 2)
        }
    }

    @Test func rfc9213_targetedFieldsDecideForMoxyAndOnlyCDNCacheControlGoesOn() async throws {
        try await MoxyHarness.run(routes: { [try originRoute($0)] }) { moxy in
            moxy.origin.route(
                "/t",
                text("t", [("Cache-Control", "no-store"), ("CDN-Cache-Control", "max-age=600"), ("Moxy-Cache-Control", "max-age=60, stale-if-error=30")])
            )
            let first = try await moxy.request("/t")
            #expect(first.header("cache-status")?.hasSuffix("stored") == true)
            #expect(first.header("moxy-cache-control") == nil)
            #expect(first.header("cdn-cache-control") == "max-age=600" && first.header("cache-control") == "no-store")
            let hit = try await moxy.request("/t")
            #expect(hit.header("cache-status") == "moxy; hit; ttl=60")
            #expect(hit.header("moxy-cache-control") == nil)
            // An invalid targeted field is ignored.
            moxy.origin.route("/bad", text("b", [("Cache-Control", "max-age=30"), ("Moxy-Cache-Control", "max-age=60,,")]))
            _ = try await moxy.request("/bad")
            #expect(try await moxy.request("/bad").header("cache-status") == "moxy; hit; ttl=30")
        }
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/t.png", OriginRoute(headers: Self.png + [("Cache-Control", "no-store"), ("CDN-Cache-Control", "max-age=120")], body: Array("t".utf8)))
            let first = try await moxy.get("/t.png")
            #expect(first.header("cache-status")?.hasSuffix("stored") == true)
            #expect(first.header("cdn-cache-control") == "max-age=120")
            #expect(try await moxy.get("/t.png").header("cache-status") == "moxy; hit; ttl=120")
        }
    }

    @Test func sec4_3_5_aHeadAnswerFreshensOrStalesTheStoredGet() async throws {
        try await Self.bothModes { moxy, path in
            let version = NIOLockedValueBox("v1")
            moxy.origin.respond("/h.png") { request in
                let tag = "\"" + version.withLockedValue { $0 } + "\""
                return OriginRoute(
                    headers: Self.png + [("Cache-Control", "max-age=60"), ("ETag", tag), ("X-Version", version.withLockedValue { $0 })],
                    body: request.method == .HEAD ? [] : Array("body".utf8)
                )
            }
            _ = try await moxy.request(try path("/h.png"))
            try await moxy.advance(seconds: 61)
            // Stale; the HEAD goes upstream as HEAD, its 200 names the stored representation: freshened.
            let head = try await moxy.request(try path("/h.png"), method: .HEAD)
            #expect(head.status == 200 && head.body.isEmpty && head.header("content-length") == "4")
            #expect(head.header("cache-status")?.contains("fwd=stale; fwd-status=200; stored") == true, "\(head.header("cache-status") ?? "")")
            let fresh = try await moxy.request(try path("/h.png"))
            #expect(fresh.header("cache-status") == "moxy; hit; ttl=60")
            #expect(fresh.text == "body")
            // The representation changes; a HEAD that goes upstream (request no-cache) says so, and the
            // stored GET is stale from then on although its lifetime had not run out.
            version.withLockedValue { $0 = "v2" }
            let changed = try await moxy.request(try path("/h.png"), method: .HEAD, headers: [("Cache-Control", "no-cache")])
            #expect(changed.header("etag") == "\"v2\"")
            let refetched = try await moxy.request(try path("/h.png"))
            #expect(refetched.header("cache-status")?.hasPrefix("moxy; fwd=stale") == true, "\(refetched.header("cache-status") ?? "")")
            #expect(refetched.header("x-version") == "v2" || refetched.header("etag") == "\"v2\"")
            #expect(moxy.origin.requests("/h.png").map(\.method) == [.GET, .HEAD, .HEAD, .GET])
        }
    }

    /// RFC 9110 §9, RFC 9111 §4.4: registered methods beyond the common ones are forwarded as
    /// written; the unsafe ones invalidate the target as POST does, the safe ones do not.
    @Test(arguments: [("M-SEARCH", true), ("PROPFIND", false), ("REPORT", false), ("SEARCH", false), ("QUERY", false),
                      ("MKCALENDAR", true), ("PURGE", true), ("LINK", true), ("PROPPATCH", true), ("LOCK", true)])
    func sec4_4_otherMethodsAreForwardedAndUnsafeOnesInvalidate(_ method: String, _ invalidates: Bool) async throws {
        try await MoxyHarness.run(routes: { [try originRoute($0)] }) { moxy in
            moxy.origin.respond("/r") { request in
                request.method == .GET ? text("get", [("Cache-Control", "max-age=300")]) : text("other")
            }
            _ = try await moxy.request("/r")
            let answer = try await RawClient.exchange(port: moxy.port, request: "\(method) /r HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(RawClient.statusLines(answer) == ["HTTP/1.1 200 OK"], "\(method): \(answer)")
            let seen = moxy.origin.requests("/r").last?.method
            #expect(seen.map { "\($0)" } == (method == "M-SEARCH" ? "MSEARCH" : method == "QUERY" ? "RAW(value: \"QUERY\")" : method), "\(String(describing: seen))")
            let after = try await moxy.request("/r")
            #expect(after.header("cache-status")?.hasPrefix("moxy; hit") == !invalidates, "\(method): \(after.header("cache-status") ?? "")")
        }
    }
}

extension RFC9111FidelityTests {
    /// RFC 9110 §9.1, RFC 9111 §4.4: a method token no parser table knows is still a method: it
    /// goes upstream as written and, being unsafe, invalidates the target. The origin reads raw
    /// bytes, since an llhttp-based one would refuse the method itself.
    @Test(arguments: ["BREW", "FOO_BAR", "Get"])
    func sec4_4_unregisteredMethodsAreForwardedAsWrittenAndInvalidate(_ method: String) async throws {
        let raw = RawOrigin(fields: [("Content-Type", "text/plain"), ("Cache-Control", "max-age=300")], body: "pot")
        try await raw.start(group: MultiThreadedEventLoopGroup.singleton)
        let upstream = try #require(TargetURL(raw.url("")))
        try await MoxyHarness.run(routes: { _ in [RouteConfiguration(name: "raw", pathPrefix: "/", upstream: upstream)] }) { moxy in
            _ = try await moxy.request("/pot")
            #expect(try await moxy.request("/pot").header("cache-status")?.hasPrefix("moxy; hit") == true)
            let answer = try await RawClient.exchange(port: moxy.port, request: "\(method) /pot HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(RawClient.statusLines(answer) == ["HTTP/1.1 200 OK"], "\(answer)")
            #expect(answer.hasSuffix("\r\n\r\npot"))
            #expect(raw.requestLines == ["GET /pot HTTP/1.1", "\(method) /pot HTTP/1.1"])
            let after = try await moxy.request("/pot")
            #expect(after.header("cache-status")?.hasPrefix("moxy; fwd=") == true, "invalidated: \(after.header("cache-status") ?? "")")
            #expect(raw.requestLines.count == 3)
        }
        await raw.stop()
    }

    @Test func aMethodThatIsNotATokenIs400() async throws {
        try await MoxyHarness.run { moxy in
            let answer = try await RawClient.exchange(port: moxy.port, request: "BR@W /pot HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(answer)")
            #expect(answer.contains("Cache-Status: moxy; detail=bad-request"))
            #expect(answer.contains("\r\n\r\nthe method is not a token followed by one space"))
        }
    }
}

extension String {
    func replacingFirst(_ target: Character, with replacement: String) -> String {
        guard let found = firstIndex(of: target) else { return self }
        return String(self[..<found]) + replacement + String(self[index(after: found)...])
    }
}
