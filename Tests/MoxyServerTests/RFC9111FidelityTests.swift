// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxyHTTP
import MoxyServer
import MoxyTestSupport
import NIOCore
import NIOHTTP1
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
}
