// SPDX-License-Identifier: Apache-2.0

import Foundation
import MoxyCLI
import MoxyServer
import MoxyTestSupport
import MoxyValidation
import NIOPosix
import Testing

/// The repository's `examples/` folder.
let examplesFolder: String = {
    let testFile = "\(#filePath)"
    let tests = testFile.split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/")
    return tests + "/examples"
}()

/// `examples/wordpress.yaml` with its upstream pointed at `upstream`: the recipe as written otherwise.
func wordPressRecipe(upstream: String) throws -> String {
    let text = String(decoding: try SmallFile.read(examplesFolder + "/wordpress.yaml", limit: 1 << 20), as: UTF8.self)
    #expect(text.contains("upstream: http://127.0.0.1:8000"))
    return temporaryFile(text.replacingOccurrences(of: "http://127.0.0.1:8000", with: upstream))
}

func wpJSON(_ body: String, status: Int = 200, cacheControl: String? = "max-age=1") -> OriginRoute {
    OriginRoute(
        status: status,
        headers: [("Content-Type", "application/json; charset=UTF-8")] + (cacheControl.map { [("Cache-Control", $0)] } ?? []),
        body: Array(body.utf8)
    )
}

@Suite struct RecipeTests {
    static let post = #"[{"id":1,"title":{"rendered":"Hello world"}}]"#
    static let wpError = #"{"code":"internal_server_error","message":"<p>There has been a critical error on this website.</p>","data":{"status":500}}"#

    @Test func theWordPressRecipeKeepsTheGoodAnswerAsWritten() async throws {
        var routes: [RouteConfiguration] = []
        try await MoxyHarness.run(routes: { origin in
            let settings = try MoxySettings.load(environment: [:], configFile: try wordPressRecipe(upstream: origin.url("")))
            routes = settings.server.routes
            return routes
        }) { moxy in
            #expect(routes.map(\.name) == ["wordpress"])
            let posts = "/wp-json/wp/v2/posts"
            moxy.origin.route(posts, wpJSON(Self.post))
            let first = try await moxy.request(posts)
            #expect(first.text == Self.post && first.header("cache-status")?.contains("stored") == true)
            try await moxy.advance(seconds: 2.1)
            // A plugin breaks: WP_Error bodies with 200 OK. stale-while-revalidate answers at once;
            // the background refresh finds the error and keeps the good entry.
            moxy.origin.route(posts, wpJSON(Self.wpError))
            let stale = try await moxy.request(posts)
            #expect(stale.text == Self.post)
            try await waitUntil { moxy.server.validationFailures[ValidationCount(source: "wordpress", rule: "not-wp-error")] == 1 }
            let kept = try await moxy.request(posts)
            #expect(kept.status == 200 && kept.text == Self.post)
            #expect(kept.header("cache-status")?.hasSuffix("detail=INVALID-BODY:not-wp-error") == true)
            #expect(moxy.origin.count(posts) == 2)
            // The site recovers; once the back-off (5 s) has passed, the next refresh stores the new answer.
            let fixed = #"[{"id":1,"title":{"rendered":"Hello again"}}]"#
            moxy.origin.route(posts, wpJSON(fixed, cacheControl: "max-age=60"))
            try await moxy.advance(seconds: 5.1)
            _ = try await moxy.request(posts)
            try await moxy.waitForUpstreamWork()
            #expect(moxy.origin.count(posts) == 3)
            let recovered = try await moxy.request(posts)
            #expect(recovered.text == fixed)
        }
    }

    @Test(arguments: [
        ("a PHP fatal error page", wpJSON("<br />\n<b>Fatal error</b>:  Uncaught Error in <b>/var/www/wp-content/plugins/x.php</b> on line <b>3</b>"), "json"),
        ("a notice printed before the JSON", wpJSON("<b>Notice</b>:  Undefined index: id {\"id\":1}"), "json"),
        ("an empty body", wpJSON(""), "min_bytes"),
        ("the maintenance page", OriginRoute(status: 503, headers: [("Content-Type", "text/html")], body: Array("Briefly unavailable for scheduled maintenance.".utf8)), "status"),
        ("a WP_Error with 200", wpJSON(Self.wpError, cacheControl: nil), "not-wp-error"),
    ])
    func theRecipeCatches(_ name: String, _ bad: OriginRoute, _ rule: String) async throws {
        try await MoxyHarness.run(routes: { origin in
            try MoxySettings.load(environment: [:], configFile: try wordPressRecipe(upstream: origin.url(""))).server.routes
        }) { moxy in
            let path = "/wp-json/wp/v2/pages/2"
            moxy.origin.route(path, wpJSON(Self.post))
            _ = try await moxy.request(path)
            try await moxy.advance(seconds: 2.1)
            moxy.origin.route(path, bad)
            _ = try await moxy.request(path)
            try await waitUntil { moxy.server.validationFailures[ValidationCount(source: "wordpress", rule: rule)] == 1 }
            let kept = try await moxy.request(path)
            #expect(kept.status == 200 && kept.text == Self.post, "\(name)")
        }
    }

    @Test func moxyValidateTellsWhichRuleFails() async throws {
        let config = try wordPressRecipe(upstream: "http://127.0.0.1:8000")
        let saved = temporaryFile("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n\(Self.wpError)", suffix: ".txt")
        let failed = try await MoxyBinary.run(["validate", "--config", config, "--route", "wordpress", saved], environment: [:])
        #expect(failed.status == 1)
        #expect(failed.out.contains("  ok   json\n"))
        #expect(failed.out.contains("  FAIL not-wp-error: matched all(/code type string; /message type string; /data exists true)\n"))
        #expect(failed.err.contains("invalid (not-wp-error)"))

        let bare = temporaryFile(Self.post, suffix: ".json")
        let passed = try await MoxyBinary.run(
            ["validate", "--config", config, "--route", "wordpress", "--header", "Content-Type: application/json", bare], environment: [:])
        #expect(passed.status == 0 && passed.out.hasSuffix("valid: Moxy would store this response\n"))

        // A URL is fetched (a loopback test origin here).
        let origin = TestOrigin()
        try await origin.start(group: MultiThreadedEventLoopGroup.singleton)
        origin.route("/wp-json/x", wpJSON(""))
        let fetched = try await MoxyBinary.run(["validate", "--config", config, "--route", "wordpress", origin.url("/wp-json/x")], environment: [:])
        await origin.stop()
        #expect(fetched.status == 1 && fetched.out.contains("FAIL min_bytes: body has 0 bytes, fewer than 2"))

        let unknown = try await MoxyBinary.run(["validate", "--config", config, "--route", "nope", bare], environment: [:])
        #expect(unknown.status != 0 && unknown.err.contains("no route 'nope' (routes: wordpress)"))
    }
}
