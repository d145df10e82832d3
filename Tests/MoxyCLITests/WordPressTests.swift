// SPDX-License-Identifier: Apache-2.0

import Foundation
import MoxyCLI
import MoxyRewrite
import MoxyServer
import MoxyTestSupport
import MoxyValidation
import NIOHTTP1
import Testing

/// The WordPress recipe against a real WordPress 6.1 (Debian's package, its own MariaDB, PHP's
/// built-in server; see ``WordPressSite``), with the purge plugin active and Moxy in front
/// configured by `examples/wordpress.yaml`.
@Suite(.serialized) struct WordPressTests {
    /// The recipe with its upstream pointed at the site and its images as bare Moxy paths (this
    /// Moxy's port is not known before it starts).
    static func recipeRoutes(_ site: WordPressSite, edit: (String) -> String = { $0 }) throws -> [RouteConfiguration] {
        var text = String(decoding: try SmallFile.read(examplesFolder + "/wordpress.yaml", limit: 1 << 20), as: UTF8.self)
        #expect(text.contains("upstream: http://127.0.0.1:8000") && text.contains("base: https://img.example.com"))
        text = text.replacingOccurrences(of: "http://127.0.0.1:8000", with: site.url)
            .replacingOccurrences(of: "base: https://img.example.com", with: "base: \"\"")
        let settings = try MoxySettings.load(environment: ["MOXY_KEY": "test-secret"], configFile: temporaryFile(edit(text)))
        return settings.server.routes
    }

    /// Runs Moxy (real time, an admin listener) in front of a fresh site whose plugin purges through it.
    static func withMoxy(
        edit: @escaping (String) -> String = { $0 }, _ body: @escaping (WordPressSite, MoxyHarness) async throws -> Void
    ) async throws {
        try await WordPressSite.with { site in
            try await MoxyHarness.run(
                configure: { $0.admin = AdminConfiguration(host: "127.0.0.1", port: 0, token: adminToken) }, realTime: true,
                routes: { _ in try recipeRoutes(site, edit: edit) }
            ) { moxy in
                let adminPort = try #require(moxy.server.adminPort)
                try site.configureMoxy(adminURL: "http://127.0.0.1:\(adminPort)", token: adminToken)
                try await body(site, moxy)
            }
        }
    }

    /// Publishes a post as an editor would (hooks and the plugin run) and returns its id.
    static func publish(_ site: WordPressSite, title: String, content: String = "<p>Text</p>") async throws -> Int {
        let id = try await site.run(
            "wp_set_current_user(1); echo wp_insert_post(['post_title' => \(phpString(title)), 'post_content' => \(phpString(content)), 'post_status' => 'publish', 'post_author' => 1], true);")
        return try #require(Int(id), "wp_insert_post printed \(id)")
    }

    /// Seconds since 1970, as PHP's `microtime(true)` counts them.
    static func wallClock() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    static func phpString(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }

    /// The title of a post answer.
    static func title(_ response: TestResponse) -> String? {
        guard let value = try? JSONParser.parse(response.body), case .string(let title)? = JSONPointer.titlePointer.resolve(in: value) else { return nil }
        return title
    }

    @Test func anEditShowsAtOnceAndOtherEntriesStayCached() async throws {
        try await Self.withMoxy { site, moxy in
            let first = try await Self.publish(site, title: "First")
            let second = try await Self.publish(site, title: "Second")
            let paths = ["/wp-json/wp/v2/posts/\(first)", "/wp-json/wp/v2/posts/\(second)", "/wp-json/wp/v2/posts"]
            for path in paths {
                let stored = try await moxy.request(path)
                #expect(stored.status == 200 && stored.header("cache-status")?.contains("stored") == true, "\(path)")
                #expect(try await moxy.request(path).header("cache-status")?.hasPrefix("moxy; hit") == true, "\(path)")
            }
            let fetched = paths.map { site.requests($0) }
            #expect(fetched == [1, 1, 1])
            // An editor changes the first post: the plugin purges its tags when the request ends.
            let complaints = site.pluginErrors.count
            // The save's moment: when WordPress has stored the edit (the plugin sends its purge
            // after that, as the request ends).
            let saved = try await site.run("wp_set_current_user(1); wp_update_post(['ID' => \(first), 'post_title' => 'First, edited']); echo microtime(true);")
            #expect(site.pluginErrors.count == complaints, "the plugin logged a failure: \(site.pluginErrors)")
            let post = try await moxy.request(paths[0])
            let list = try await moxy.request(paths[2])
            let visible = try Self.wallClock() - #require(Double(saved))
            #expect(Self.title(post) == "First, edited")
            #expect(String(decoding: list.body, as: UTF8.self).contains("First, edited"))
            #expect(visible < 1, "the edit took \(visible) s to show")
            // The other post was not purged: a hit, and WordPress was not asked again.
            let other = try await moxy.request(paths[1])
            #expect(other.header("cache-status")?.hasPrefix("moxy; hit") == true && Self.title(other) == "Second")
            #expect(site.requests(paths[1]) == 1)
            #expect(site.requests(paths[0]) == 2 && site.requests(paths[2]) == 2)
        }
    }

    @Test func aPurgeThatFailsIsLoggedAndTheSaveStillSucceeds() async throws {
        try await Self.withMoxy { site, moxy in
            let adminPort = try #require(moxy.server.adminPort)
            try site.configureMoxy(adminURL: "http://127.0.0.1:\(adminPort)", token: "a-wrong-token-0123456789")
            let before = site.pluginErrors.count  // the install's own, before Moxy was configured
            let id = try await Self.publish(site, title: "Saved anyway")
            let failures = site.pluginErrors.dropFirst(before)
            #expect(failures.count == 1 && failures.first?.contains("answered 401") == true, "\(failures)")
            #expect(failures.first?.contains("post-\(id)") == true)
            #expect(try await site.run("echo get_post(\(id))->post_title;") == "Saved anyway")
        }
    }

    @Test func aPublishWithTheDatabaseDownRightAfterKeepsTheLastGoodAnswer() async throws {
        try await Self.withMoxy { site, moxy in
            let id = try await Self.publish(site, title: "Before")
            let path = "/wp-json/wp/v2/posts/\(id)"
            let good = try await moxy.request(path)
            #expect(Self.title(good) == "Before")
            _ = try await site.run("wp_set_current_user(1); wp_update_post(['ID' => \(id), 'post_title' => 'After']);")
            await site.stopDatabase()
            // WordPress now answers its database error (500); the purge was soft, so the last good answer stays.
            let direct = try await moxy.request("/wp-json/wp/v2/posts?moxy-uncached=1")
            #expect(direct.status == 500)
            let kept = try await moxy.request(path)
            #expect(kept.status == 200 && kept.body == good.body)
            #expect(kept.header("cache-status")?.contains("fwd-status=500") == true, "\(kept.header("cache-status") ?? "")")
            #expect(site.requests(path) == 2)
        }
    }

    @Test func imagesInsidePostsComeThroughMoxySignedAndTheRestIsByteIdentical() async throws {
        try await Self.withMoxy { site, moxy in
            let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array("moxy test image".utf8)
            try site.upload("2026/12/cat.png", png)
            try site.upload("2026/12/cat-2x.png", png + png)
            let uploads = site.url + "/wp-content/uploads/2026/12/"
            let content = "<p><img src=\"\(uploads)cat.png\" alt=\"one\"></p>\n<p><img src=\"\(uploads)cat.png\" srcset=\"\(uploads)cat.png 1x, \(uploads)cat-2x.png 2x\" alt=\"two\"></p>"
            let id = try await Self.publish(site, title: "Cats", content: content)
            let path = "/wp-json/wp/v2/posts/\(id)"
            let viaMoxy = try await moxy.request(path)
            let direct = try await site.get(path)
            #expect(viaMoxy.status == 200 && direct.status == 200)
            // Only content.rendered differs: every byte before and after it is WordPress's.
            let selector = JSONSelector([try JSONPattern("/content/rendered")])
            let mine = try #require(try selector.matches(in: viaMoxy.body).first)
            let theirs = try #require(try selector.matches(in: direct.body).first)
            #expect(Array(viaMoxy.body[..<mine.range.lowerBound]) == Array(direct.body[..<theirs.range.lowerBound]))
            #expect(Array(viaMoxy.body[mine.range.upperBound...]) == Array(direct.body[theirs.range.upperBound...]))
            guard case .string(let html) = mine.value, case .string(let original) = theirs.value else {
                Issue.record("content.rendered is not a string")
                return
            }
            #expect(!html.contains(uploads) && original.contains(uploads))
            // As `moxy rewrite`'s audit checks a page: the HTML is WordPress's with only URL values
            // replaced, each by a Moxy URL that verifies back to the URL it replaced.
            var rewriter = HTMLRewriter(signer: moxy.signer, options: RewriteOptions())
            rewriter.recordRewrites = true
            var expected: [UInt8] = []
            rewriter.feed(Array(original.utf8), into: &expected)
            rewriter.finish(into: &expected)
            #expect(html == String(decoding: expected, as: UTF8.self))
            #expect(rewriter.rewrites.count == 4)
            #expect(HTMLRewriter.audit(input: Array(original.utf8), output: Array(html.utf8), rewrites: rewriter.rewrites, signer: moxy.signer, base: "") == nil)
            // Each signed URL (src and both srcset candidates) is served by Moxy from WordPress's uploads.
            let signed = Self.signedPaths(in: html)
            #expect(signed.count == 4, "\(html)")
            for signedPath in Set(signed) {
                let image = try await moxy.request(signedPath)
                #expect(image.status == 200 && (image.body == png || image.body == png + png), "\(signedPath)")
                #expect(image.header("content-type") == "image/png")
            }
            let metrics = try await moxy.admin(.GET, "/metrics", token: nil).text
            #expect(metrics.contains("moxy_json_rewritten_strings_total{route=\"wordpress\"} 1"), "\(metrics)")
        }
    }

    @Test(arguments: [true, false])
    func aMethodOverrideToHEADDoesNotPoisonTheEntry(validating: Bool) async throws {
        // Without validation: the recipe's route with no `validate:` section.
        let edit: (String) -> String = { text in
            guard !validating, let start = text.range(of: "    validate:\n"), let end = text.range(of: "    tags:\n") else { return text }
            return text.replacingCharacters(in: start.lowerBound..<end.lowerBound, with: "")
        }
        try await Self.withMoxy(edit: edit) { site, moxy in
            let path = "/wp-json/wp/v2/posts"
            // WordPress's REST server honours the override: a GET answered as a HEAD, with no body.
            let overridden = try await moxy.request(path, headers: [("X-HTTP-Method-Override", "HEAD")])
            #expect(overridden.status == 200)
            let plain = try await moxy.request(path)
            #expect(plain.status == 200 && Self.title(plainFirst: plain) == "Hello world!")
            let again = try await moxy.request(path)
            #expect(again.body == plain.body && again.header("cache-status")?.hasPrefix("moxy; hit") == true)
        }
    }

    static func title(plainFirst response: TestResponse) -> String? {
        guard let value = try? JSONParser.parse(response.body), case .string(let title)? = (try? JSONPointer("/0/title/rendered"))?.resolve(in: value) else {
            return nil
        }
        return title
    }

    /// The bare Moxy paths in rewritten HTML (`/<signature>/<target>`), in order.
    static func signedPaths(in html: String) -> [String] {
        html.split(whereSeparator: { $0 == "\"" || $0 == " " || $0 == "," }).filter { $0.hasPrefix("/") && $0.count > 40 }.map(String.init)
    }
}

extension JSONPointer {
    fileprivate static let titlePointer = try! JSONPointer("/title/rendered")
}
