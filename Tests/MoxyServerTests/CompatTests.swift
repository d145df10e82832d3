// SPDX-License-Identifier: Apache-2.0

import MoxyServer
import MoxySigning
import MoxyTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// camo / go-camo URLs and profiles through real sockets (CAMO-COMPAT §1, §3).
@Suite struct CompatTests {
    static func run(
        profile: CompatProfile,
        formats: CamoSigner.Formats = [.hex, .query, .base64],
        _ body: (MoxyHarness, CamoSigner) async throws -> Void
    ) async throws {
        let camo = try CamoSigner(keys: ["camo-secret"], formats: formats)
        try await MoxyHarness.run(configure: {
            $0.camoSigner = camo
            $0.compatProfile = profile
        }) { moxy in try await body(moxy, camo) }
    }

    @Test func everyFormatFetchesExactlyTheSignedURL() async throws {
        try await Self.run(profile: .goCamo) { moxy, camo in
            let path = "/echo?a=1&b=x%2By&c=a+b&d=%7E"
            moxy.origin.route(path, OriginRoute(body: Array("echo".utf8)))
            for format in [CamoSigner.Formats.hex, .query, .base64] {
                let response = try await moxy.request(camo.sign(moxy.origin.url(path), format: format))
                #expect(response.status == 200 && response.text == "echo", "\(format)")
            }
            // One fetch: the three formats share the cache key (the target URL).
            #expect(moxy.origin.count(path) == 1)
            // Native Moxy URLs keep working next to them.
            moxy.origin.route("/native.png", OriginRoute(body: Array("native".utf8)))
            let native = try await moxy.get("/native.png")
            #expect(native.status == 200 && native.text == "native")
        }
    }

    @Test func goCamoProfileStatusesAndHeaders() async throws {
        try await Self.run(profile: .goCamo) { moxy, camo in
            moxy.origin.route("/html", OriginRoute(headers: [("Content-Type", "text/html")], body: Array("<b>".utf8)))
            moxy.origin.route("/none", OriginRoute(headers: [], body: Array("x".utf8)))
            moxy.origin.route("/boom", OriginRoute(status: 503, headers: [("Content-Type", "image/png")], body: []))
            moxy.origin.route("/gone", OriginRoute(status: 403, headers: [("Content-Type", "image/png")], body: []))
            let expectations: [(String, Int, String)] = [
                (camo.sign(moxy.origin.url("/html"), format: .hex), 400, "Unsupported content-type returned\n"),
                (camo.sign(moxy.origin.url("/none"), format: .base64), 400, "Empty content-type returned\n"),
                (camo.sign(moxy.origin.url("/boom"), format: .hex), 502, "Error Fetching Resource\n"),
                (camo.sign(moxy.origin.url("/gone"), format: .hex), 404, "Not Found\n"),
                ("/0000000000000000000000000000000000000000/" + CamoSignerHex.of(moxy.origin.url("/x")), 403, "Bad Signature\n"),
            ]
            for (path, status, body) in expectations {
                let response = try await moxy.request(path)
                #expect(response.status == status, "\(path)")
                #expect(response.text == body, "\(path)")
                #expect(response.header("x-xss-protection") == "1; mode=block")
                #expect(response.header("x-content-type-options") == "nosniff")
            }
            let health = try await moxy.request("/healthcheck")
            #expect(health.status == 200 && health.text == "ok")
            do {
                let checked = try await moxy.request("/status")
                #expect(checked.status == 404)
            }
            #expect(try await moxy.request(camo.sign(moxy.origin.url("/x"), format: .hex), method: .POST).status == 405)
            #expect(moxy.origin.count("/x") == 0)
        }
    }

    @Test func camoProfileStatusesAndHeaders() async throws {
        try await Self.run(profile: .camo, formats: .camo) { moxy, camo in
            moxy.origin.route("/cat.png", OriginRoute(body: Array("cat".utf8)))
            moxy.origin.route("/html", OriginRoute(headers: [("Content-Type", "text/html")], body: Array("<b>".utf8)))
            let ok = try await moxy.request(camo.sign(moxy.origin.url("/cat.png"), format: .query))
            #expect(ok.status == 200 && ok.text == "cat")
            #expect(ok.header("strict-transport-security") == "max-age=31536000; includeSubDomains")
            #expect(ok.header("x-frame-options") == "deny")
            for path in [
                camo.sign(moxy.origin.url("/html"), format: .hex),
                "/0000000000000000000000000000000000000000?url=" + "http%3A%2F%2F127.0.0.1%2Fx",
                camo.sign(moxy.origin.url("/cat.png"), format: .base64),  // go-camo form: not enabled
            ] {
                let response = try await moxy.request(path)
                #expect(response.status == 404, "\(path)")
                #expect(response.text == "Not Found", "camo's 404 body is the 9 bytes `Not Found`")
                #expect(response.header("cache-control") == "no-cache, no-store, private, must-revalidate")
                #expect(response.header("expires") == "0")
            }
            do {
                let checked = try await moxy.request("/")
                #expect(checked.text == "hwhat")
            }
            do {
                let checked = try await moxy.request("/favicon.ico")
                #expect(checked.text == "ok")
            }
            let status = try await moxy.request("/status")
            #expect(status.status == 200 && status.text.hasPrefix("ok "))
        }
    }

    /// A digest of the wrong length, or hex where base64 belongs, is a bad signature as each
    /// original answers it, not "not a signed URL".
    @Test(arguments: [(CompatProfile.goCamo, 403, "Bad Signature\n"), (.camo, 404, "Not Found"), (.moxy, 403, "bad signature\n")])
    func malformedDigestsAreBadSignatures(_ profile: CompatProfile, _ status: Int, _ body: String) async throws {
        try await Self.run(profile: profile) { moxy, camo in
            let target = CamoSignerHex.of(moxy.origin.url("/x.png"))
            let base64Target = String(camo.sign(moxy.origin.url("/x.png"), format: .base64).split(separator: "/").last!)
            for path in [
                "/0123456789abcdef/" + target,  // hex digest of the wrong length
                "/" + String(repeating: "ab", count: 19) + "/" + base64Target,  // 38 hex digits in the base64 slot
                "/HHRFmTsI55Mlv6fAirEaXocF/" + base64Target,  // base64 of 18 bytes
                "/abc?url=http%3A%2F%2F127.0.0.1%2Fx.png",  // query form with a short digest
            ] {
                let response = try await moxy.request(path)
                #expect(response.status == status, "\(profile) \(path)")
                #expect(response.text == body, "\(profile) \(path)")
            }
            #expect(moxy.origin.count("/x.png") == 0)
        }
    }

    struct Identity: Sendable, CustomStringConvertible {
        var profile: CompatProfile
        var server: String?
        var camoHost: String?
        var defaultCacheControl: String?
        var via: String
        var loopStatus: Int
        var loopBody: String
        var description: String { profile.rawValue }
    }

    /// Each profile looks like its original: `Server`, `Camo-Host`, the `Cache-Control` added when
    /// the upstream sent none, `User-Agent` and `Via` upstream, and loop detection on its own token.
    @Test(arguments: [
        Identity(profile: .moxy, server: "moxy", camoHost: nil, defaultCacheControl: "public, max-age=3600", via: "1.1 moxy", loopStatus: 508, loopBody: "request loop detected\n"),
        Identity(profile: .camo, server: nil, camoHost: "unknown", defaultCacheControl: "public, max-age=31536000", via: "Camo Asset Proxy 2.3.0", loopStatus: 404, loopBody: "Not Found"),
        Identity(profile: .goCamo, server: "go-camo", camoHost: nil, defaultCacheControl: nil, via: "go-camo", loopStatus: 404, loopBody: "Request loop failure\n"),
    ])
    func eachProfileHasTheOriginalsIdentity(_ identity: Identity) async throws {
        let camo = try CamoSigner(keys: ["camo-secret"], formats: [.hex, .query, .base64])
        try await MoxyHarness.run(configure: {
            $0.camoSigner = camo
            $0.compatProfile = identity.profile
            $0.serverName = identity.profile.defaultServerName
            $0.upstream.userAgent = identity.profile.defaultUserAgent
        }) { moxy in
            moxy.origin.route("/i.png", OriginRoute(body: Array("i".utf8)))
            let response = try await moxy.request(camo.sign(moxy.origin.url("/i.png"), format: .hex))
            #expect(response.status == 200)
            #expect(response.header("server") == identity.server)
            #expect(response.header("camo-host") == identity.camoHost)
            #expect(response.header("cache-control") == identity.defaultCacheControl)
            let sent = try #require(moxy.origin.headers("/i.png"))
            #expect(sent.first(name: "user-agent") == identity.profile.defaultUserAgent)
            #expect(sent.first(name: "via") == identity.via)
            // An upstream Cache-Control is passed on in every profile.
            moxy.origin.route("/cc.png", OriginRoute(headers: [("Content-Type", "image/png"), ("Cache-Control", "max-age=99")], body: Array("c".utf8)))
            #expect(try await moxy.request(camo.sign(moxy.origin.url("/cc.png"), format: .hex)).header("cache-control") == "max-age=99")
            // A request that already went through this server is a loop.
            let loop = try await moxy.request(camo.sign(moxy.origin.url("/i.png"), format: .hex), headers: [("Via", identity.via)])
            #expect(loop.status == identity.loopStatus && loop.text == identity.loopBody)
            if identity.profile == .goCamo {
                // go-camo matches the token exactly, not as a substring.
                let other = try await moxy.request(camo.sign(moxy.origin.url("/i.png"), format: .hex), headers: [("Via", "1.1 go-camo-edge")])
                #expect(other.status == 200)
            }
        }
    }
}

enum CamoSignerHex {
    static func of(_ text: String) -> String {
        text.utf8.map { String($0 >> 4, radix: 16) + String($0 & 15, radix: 16) }.joined()
    }
}
