// SPDX-License-Identifier: Apache-2.0

import Foundation
import MoxyServer
import MoxyTestSupport
import NIOHTTP1
import Testing

/// The admin listener through real sockets: authentication, metrics after traffic, purges in
/// every tier, stats and entries.
@Suite struct AdminAPITests {
    static func withAdmin(token: String? = adminToken) -> (inout ServerConfiguration) -> Void {
        { $0.admin = AdminConfiguration(host: "127.0.0.1", port: 0, token: token) }
    }

    @Test func withoutTheTokenNothingChanges() async throws {
        try await MoxyHarness.run(configure: Self.withAdmin(), routes: { [try originRoute($0)] }) { moxy in
            moxy.origin.route("/a", text("a", [("Cache-Control", "max-age=600")]))
            _ = try await moxy.request("/a")
            for (method, path) in [(HTTPMethod.POST, "/purge"), (.GET, "/stats"), (.GET, "/entries"), (.POST, "/reload"), (.GET, "/")] {
                let missing = try await moxy.admin(method, path, token: nil, body: "all=1")
                #expect(missing.status == 401, "\(method) \(path)")
                #expect(missing.header("www-authenticate")?.contains("Bearer") == true)
                let wrong = try await moxy.admin(method, path, token: adminToken + "x", body: "all=1")
                #expect(wrong.status == 401, "\(method) \(path)")
            }
            let again = try await moxy.request("/a")
            #expect(again.header("cache-status")?.hasPrefix("moxy; hit") == true, "the refused purge purged nothing")
            #expect(moxy.origin.count("/a") == 1)
            for path in ["/healthz", "/readyz", "/metrics"] {
                #expect(try await moxy.admin(.GET, path, token: nil).status == 200, "\(path) needs no token")
            }
        }
    }

    @Test func withoutAConfiguredTokenOnlyHealthAndMetricsAnswer() async throws {
        try await MoxyHarness.run(configure: Self.withAdmin(token: nil)) { moxy in
            #expect(try await moxy.admin(.GET, "/healthz", token: nil).text == "ok\n")
            #expect(try await moxy.admin(.GET, "/readyz", token: nil).status == 200)
            #expect(try await moxy.admin(.GET, "/metrics", token: nil).status == 200)
            let stats = try await moxy.admin(.GET, "/stats", token: "anything-at-all-here")
            #expect(stats.status == 403)
            #expect(stats.text.contains("MOXY_ADMIN_TOKEN"))
        }
    }

    /// The public listener never answers admin paths.
    @Test func theAdminAPIIsNotOnThePublicListener() async throws {
        try await MoxyHarness.run(configure: Self.withAdmin()) { moxy in
            for path in ["/metrics", "/purge", "/stats"] {
                let answer = try await moxy.request(path, headers: [("Authorization", "Bearer \(adminToken)")])
                #expect(answer.status != 200, "\(path)")
                #expect(!answer.text.contains("moxy_requests_total"))
            }
        }
    }

    @Test func metricsCountWhatWasSent() async throws {
        try await MoxyHarness.run(configure: Self.withAdmin(), routes: { [try originRoute($0, prefix: "/r/")] }) { moxy in
            moxy.origin.route("/r/a", text("a", [("Cache-Control", "max-age=600")]))
            moxy.origin.route("/img.png", OriginRoute(headers: [("Content-Type", "image/png"), ("Cache-Control", "max-age=600")], body: [1, 2, 3]))
            moxy.origin.route("/r/broken", text("no", status: 503))
            for _ in 0..<5 { _ = try await moxy.request("/r/a") }
            for _ in 0..<3 { _ = try await moxy.get("/img.png") }
            _ = try await moxy.request("/r/broken")
            _ = try await moxy.request("/r/a", method: .HEAD)
            _ = try await moxy.request("/not-signed-and-no-route")
            let tampered = "/AAAA" + (try moxy.path("/img.png")).dropFirst(5)
            _ = try await moxy.request(tampered)
            let metrics = try await moxy.admin(.GET, "/metrics", token: nil)
            #expect(metrics.header("content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = metrics.text
            let route = "mode=\"route\",route=\"origin\""
            #expect(sample(text, "moxy_requests_total{\(route),method=\"GET\",status_class=\"2xx\",cache=\"miss\"}") == 1)
            #expect(sample(text, "moxy_requests_total{\(route),method=\"GET\",status_class=\"2xx\",cache=\"hit\"}") == 4)
            #expect(sample(text, "moxy_requests_total{\(route),method=\"HEAD\",status_class=\"2xx\",cache=\"hit\"}") == 1)
            #expect(sample(text, "moxy_requests_total{\(route),method=\"GET\",status_class=\"5xx\",cache=\"miss\"}") == 1)
            let signed = "mode=\"signed\",route=\"signed\""
            #expect(sample(text, "moxy_requests_total{\(signed),method=\"GET\",status_class=\"2xx\",cache=\"miss\"}") == 1)
            #expect(sample(text, "moxy_requests_total{\(signed),method=\"GET\",status_class=\"2xx\",cache=\"hit\"}") == 2)
            #expect(sample(text, "moxy_requests_total{\(signed),method=\"GET\",status_class=\"4xx\",cache=\"none\"}") == 2)
            #expect(sample(text, "moxy_upstream_requests_total{mode=\"route\"}") == Double(moxy.origin.count("/r/a") + moxy.origin.count("/r/broken")))
            #expect(sample(text, "moxy_upstream_requests_total{mode=\"signed\"}") == Double(moxy.origin.count("/img.png")))
            #expect(sample(text, "moxy_upstream_errors_total{mode=\"route\",kind=\"5xx\"}") == 1)
            #expect(sample(text, "moxy_request_duration_seconds_count{mode=\"route\"}") == 7)
            #expect(sample(text, "moxy_request_duration_seconds_count{mode=\"signed\"}") == 5)
            #expect(sample(text, "moxy_sent_bytes_total{mode=\"route\"}") > 0)
            #expect(sample(text, "moxy_cache_entries{tier=\"memory\"}") == 2)
            #expect(text.contains("moxy_build_info{version=\""))
            #expect(!text.contains("127.0.0.1:\(moxy.origin.port)"), "no per-URL label")
            let signatures = text.split(separator: "\n").filter { $0.hasPrefix("moxy_signature_failures_total{") }
            // One tampered signature, one path that is no signed URL at all: one series per reason.
            #expect(signatures.count == 2, "\(signatures)")
            #expect(signatures.allSatisfy { $0.hasSuffix(" 1") }, "\(signatures)")
        }
    }

    /// Validation failures by route and rule, last good answers by route, SSRF refusals by class.
    @Test func validationLastGoodAndRefusalsAreCounted() async throws {
        try await MoxyHarness.run(
            configure: {
                Self.withAdmin()(&$0)
                // Signed URLs may not reach loopback here: the origin's address is refused before any connection.
                $0.upstream.addressPolicy = AddressPolicy()
            },
            routes: { [try originRoute($0, prefix: "/wp") { $0.validation = try? wordPressValidation() }] }
        ) { moxy in
            moxy.origin.route("/wp", json(goodJSON))
            _ = try await moxy.request("/wp")
            try await moxy.advance(seconds: 2.1)
            moxy.origin.route("/wp", json(wpError))
            #expect(try await moxy.request("/wp").text == goodJSON)
            #expect(try await moxy.request("/wp").text == goodJSON, "backing off: the last good entry again")
            let refused = try await moxy.get("/img.png")
            #expect(refused.status == 403)
            let text = try await moxy.admin(.GET, "/metrics", token: nil).text
            #expect(sample(text, "moxy_validation_failures_total{route=\"origin\",rule=\"not-wp-error\"}") == 1)
            #expect(sample(text, "moxy_last_good_served_total{route=\"origin\"}") == 2)
            #expect(sample(text, "moxy_requests_total{mode=\"route\",route=\"origin\",method=\"GET\",status_class=\"2xx\",cache=\"stale\"}") == 2)
            #expect(sample(text, "moxy_ssrf_refusals_total{class=\"loopback\"}") == 1)
            #expect(sample(text, "moxy_upstream_errors_total{mode=\"signed\",kind=\"address-refused\"}") == 1)
            #expect(moxy.origin.count("/img.png") == 0)
        }
    }
}
