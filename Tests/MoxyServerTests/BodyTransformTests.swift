// SPDX-License-Identifier: Apache-2.0

import Foundation
import MoxyCache
import MoxyRewrite
import MoxyServer
import MoxySigning
import MoxyTestSupport
import MoxyValidation
import NIOHTTP1
import Testing

/// A route's tags from the body and image rewriting, through real sockets: what is stored, what
/// is served, and what is left alone.
@Suite struct BodyTransformTests {
    static func route(_ origin: TestOrigin) throws -> RouteConfiguration {
        try originRoute(origin) { route in
            route.tags = BodyTagRules(
                fixed: ["api"], rules: [.init(pattern: try! JSONPattern("/*/id"), template: "item-{}")], maxCount: 3)
            route.jsonImages = JSONImageRewrite(
                htmlFields: [try! JSONPattern("/*/html")], urlFields: [try! JSONPattern("/*/image")],
                options: RewriteOptions(base: "https://m.example", allowHosts: ["img.example"]))
        }
    }

    static func json(_ body: String, _ headers: [(String, String)] = []) -> OriginRoute {
        OriginRoute(status: 200, headers: [("Content-Type", "application/json"), ("Cache-Control", "max-age=600")] + headers, body: Array(body.utf8))
    }

    static let body = #"[{"id":1,"html":"<img src=\"http:\/\/img.example\/a.png\"> <img src=\"http:\/\/other.example\/b.png\">","image":"http:\/\/img.example\/c.png"},{"id":2,"html":"no image"},{"id":3},{"id":4}]"#

    @Test func storedAnswersAreTaggedAndRewrittenOnce() async throws {
        try await MoxyHarness.run(configure: { $0.admin = AdminConfiguration(host: "127.0.0.1", port: 0, token: adminToken) }, routes: { [try Self.route($0)] }) { moxy in
            moxy.origin.route("/list", Self.json(Self.body, [("ETag", "\"v1\""), ("Surrogate-Key", "upstream")]))
            let first = try await moxy.request("/list")
            let second = try await moxy.request("/list")
            #expect(second.header("cache-status")?.hasPrefix("moxy; hit") == true)
            #expect(first.body == second.body && moxy.origin.count("/list") == 1)
            #expect(second.header("etag") == "W/\"v1\"", "the rewritten bytes are not the upstream's: a weak validator")
            let text = second.text
            let signed = try moxy.signer.sign("http://img.example/a.png")
            #expect(text.contains(#"<img src=\"https:\/\/m.example"# + signed.replacingOccurrences(of: "/", with: "\\/") + #"\">"#), "\(text)")
            #expect(text.contains(#"http:\/\/other.example\/b.png"#), "a host not allowed stays")
            #expect(text.contains(#""image":"https:\/\/m.example\/"#))
            #expect(text.hasSuffix(#"{"id":2,"html":"no image"},{"id":3},{"id":4}]"#))
            // Tags: the upstream's, the fixed one, then the body's up to the bound of 3.
            #expect(try await moxy.purge("tag=item-1") == 1)
            #expect(try await moxy.purge("tag=item-2") == 0, "over the bound")
            let metrics = try await moxy.admin(.GET, "/metrics", token: nil).text
            #expect(metrics.contains(#"moxy_surrogate_keys_dropped_total{route="origin"} 3"#), "\(metrics)")
            #expect(metrics.contains(#"moxy_json_rewritten_strings_total{route="origin"} 2"#))
        }
    }

    @Test(arguments: [
        ("not JSON", OriginRoute(status: 200, headers: [("Content-Type", "text/html"), ("Cache-Control", "max-age=600")], body: Array(BodyTransformTests.body.utf8))),
        ("no-transform", BodyTransformTests.json(BodyTransformTests.body, [("Cache-Control", "no-transform")])),
        ("invalid JSON", BodyTransformTests.json(String(BodyTransformTests.body.dropLast()))),
    ])
    func answersItCannotRewriteAreStoredAsTheyCame(_ name: String, _ answer: OriginRoute) async throws {
        try await MoxyHarness.run(routes: { [try Self.route($0)] }) { moxy in
            moxy.origin.route("/x", answer)
            _ = try await moxy.request("/x")
            let hit = try await moxy.request("/x")
            #expect(hit.header("cache-status")?.hasPrefix("moxy; hit") == true, "\(name)")
            #expect(hit.body == answer.body, "\(name)")
        }
    }
}
