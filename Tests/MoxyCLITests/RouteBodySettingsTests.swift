// SPDX-License-Identifier: Apache-2.0

import MoxyCLI
import MoxyRewrite
import MoxySigning
import MoxyServer
import MoxyTestSupport
import MoxyValidation
import Testing

/// A route's `tags:` and `rewrite_json:` sections as the config file gives them.
@Suite struct RouteBodySettingsTests {
    static func route(_ sections: String) throws -> RouteConfiguration {
        let yaml = "routes:\n  api:\n    upstream: http://127.0.0.1:8000\n" + sections
        let settings = try MoxySettings.load(environment: [:], configFile: temporaryFile(yaml))
        return try #require(settings.server.routes.first)
    }

    static func failure(_ sections: String) -> String {
        do {
            _ = try route(sections)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func theRecipeReadsTagsFromTheBody() throws {
        let settings = try MoxySettings.load(environment: [:], configFile: examplesFolder + "/wordpress.yaml")
        let tags = try #require(settings.server.routes.first?.tags)
        let body = #"[{"id": 12, "type": "post", "author": 3, "categories": [1, 5], "tags": []}, {"id": 11, "type": "post", "author": 1, "categories": [1], "tags": [9]}]"#
        let result = Array(body.utf8).withUnsafeBytes { tags.tags(upstream: [], body: $0) }
        #expect(result.tags == ["wordpress", "post-12", "type-post", "author-3", "term-1", "term-5", "post-11", "author-1", "term-9"])
        let single = Array(#"{"id": 12, "type": "post", "author": 3, "categories": [1]}"#.utf8).withUnsafeBytes { tags.tags(upstream: [], body: $0) }
        #expect(single.tags == ["wordpress", "post-12"], "one post: its own tag only, so editing another post leaves it cached")
        let images = try #require(settings.server.routes.first?.jsonImages)
        #expect(images.htmlFields.map(\.description) == ["/content/rendered", "/*/content/rendered", "/excerpt/rendered", "/*/excerpt/rendered"])
        #expect(images.options.base == "https://img.example.com")
    }

    @Test func boundsAndRewriteKnobs() throws {
        let route = try Self.route("""
                tags:
                  fixed: [a, b]
                  from_body: [{pointer: /id, tag: "x-{}"}]
                  max_count: 3
                  max_length: 20
                rewrite_json:
                  urls: [/image]
                  allow_hosts: ["*.example.com"]
                  only_insecure: true
                  origin: https://www.example.com
                  key_id: "2"
            """)
        #expect(route.tags?.maxCount == 3 && route.tags?.maxLength == 20 && route.tags?.fixed == ["a", "b"])
        let options = try #require(route.jsonImages?.options)
        #expect(options.allowHosts == ["*.example.com"] && options.onlyInsecure && options.origin == "https://www.example.com")
        #expect(options.signOptions.keyID == "2" && options.base == "")
    }

    @Test(arguments: [
        ("    tags:\n      from_body: [{pointer: /id}]\n", "both pointer and tag are needed"),
        ("    tags:\n      from_body: [{pointer: /id, tag: post}]\n", "a tag with {} where the value goes"),
        ("    tags:\n      from_body: [{pointer: id, tag: \"p-{}\"}]\n", "starts with '/'"),
        ("    tags:\n      from_body: [{pointer: /id, tag: \"p {}\"}]\n", "a tag with {}"),
        ("    tags:\n      fixed: [\"a b\"]\n", "invalid routes.api.tags.fixed tag 'a b'"),
        ("    tags:\n      max_count: 0\n", "max_count: '0' (1 to 1000)"),
        ("    tags:\n      from_body: /id\n", "a list of {pointer, tag}"),
        ("    tags:\n      unknown: 1\n", "unknown"),
        ("    rewrite_json:\n      base: https://img.example.com\n", "name the JSON fields to rewrite"),
        ("    rewrite_json:\n      html: [/a]\n      base: ftp://x\n", "invalid routes.api.rewrite_json.base"),
        ("    rewrite_json:\n      html: [/a]\n      origin: example.com\n", "invalid routes.api.rewrite_json.origin"),
        ("    rewrite_json:\n      html: [\"a\"]\n", "invalid routes.api.rewrite_json.html pointer"),
    ])
    func badSectionsAreRefusedWithTheirReason(_ sections: String, _ reason: String) {
        let failure = Self.failure(sections)
        #expect(failure.contains(reason), "\(failure)")
    }

    @Test func serveRefusesImageRewritingWithoutAKey() async throws {
        let config = temporaryFile("routes:\n  api:\n    upstream: http://127.0.0.1:8000\n    rewrite_json:\n      html: [/a]\n")
        let result = try await MoxyBinary.run(["serve", "--config", config, "--listen", "127.0.0.1:0"], environment: [:])
        #expect(result.status != 0 && result.err.contains("routes.api.rewrite_json signs image URLs: set MOXY_KEY"), "\(result.err)")
    }
}
