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
}

enum CamoSignerHex {
    static func of(_ text: String) -> String {
        text.utf8.map { String($0 >> 4, radix: 16) + String($0 & 15, radix: 16) }.joined()
    }
}
