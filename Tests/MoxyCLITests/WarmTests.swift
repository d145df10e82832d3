// SPDX-License-Identifier: Apache-2.0

import Foundation
@testable import MoxyCLI
import MoxySigning
import MoxyTestSupport
import NIOPosix
import Testing

/// `moxy warm`: the list and sitemap readers and the counts (pure), then the real binary against a
/// live `moxy serve`, whose origin must see each URL exactly once.
@Suite struct WarmTests {
    static let signer = try! URLSigner(keys: [SigningKey(id: "default", secret: "warm-secret")])

    @Test func listsAndSitemapsGiveTheirURLs() throws {
        let list = "# warm these\nhttp://a.example/1.png\n\n  https://a.example/2.png  \r\n/abc\n"
        #expect(try WarmList.entries(Array(list.utf8)) == ["http://a.example/1.png", "https://a.example/2.png", "/abc"])
        let sitemap = """
            <?xml version="1.0" encoding="UTF-8"?>
            <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
              <url><loc> http://a.example/page?a=1&amp;b=2 </loc><lastmod>2026-01-01</lastmod>
                <image:image><image:loc>http://a.example/i&#x2F;1.png</image:loc></image:image></url>
              <url><loc>http://a.example/other</loc></url>
            </urlset>
            """
        #expect(try WarmList.entries(Array(sitemap.utf8)) == ["http://a.example/page?a=1&b=2", "http://a.example/i/1.png", "http://a.example/other"])
        #expect(throws: CLIFailure.self) { try WarmList.entries(Array("<sitemapindex><sitemap><loc>x</loc></sitemap></sitemapindex>".utf8)) }
    }

    @Test func entriesBecomeURLsUnderTheBase() throws {
        let base = "http://moxy.internal:8080"
        let sign: () throws -> URLSigner = { Self.signer }
        let plain = "http://a.example/cat.png"
        #expect(try WarmList.requestURL(plain, base: base, signer: sign, routePaths: false) == base + (try Self.signer.sign(plain)))
        let signedPath = try Self.signer.sign(plain)
        #expect(try WarmList.requestURL("https://img.example.com" + signedPath, base: base, signer: sign, routePaths: false) == base + signedPath)
        #expect(try WarmList.requestURL(signedPath, base: base, signer: sign, routePaths: false) == base + signedPath)
        #expect(try WarmList.requestURL("https://site.example/blog/?page=2", base: base, signer: sign, routePaths: true) == base + "/blog/?page=2")
        #expect(try WarmList.requestURL("https://site.example", base: base, signer: sign, routePaths: true) == base + "/")
        #expect(throws: CLIFailure.self) { try WarmList.requestURL("ftp://a.example/x", base: base, signer: sign, routePaths: false) }
        #expect(throws: CLIFailure.self) { try WarmList.requestURL("http://a b/x", base: base, signer: sign, routePaths: false) }
        #expect(URLSigner.hasSignedShape(signedPath) && !URLSigner.hasSignedShape("/images/cat.png"))
    }

    @Test func outcomesAndTheirDisplay() {
        #expect(WarmTally.Outcome.of(status: 200, cacheStatus: "moxy; hit; ttl=10") == .hit)
        #expect(WarmTally.Outcome.of(status: 200, cacheStatus: "moxy; fwd=uri-miss; fwd-status=200; stored") == .miss)
        #expect(WarmTally.Outcome.of(status: 200, cacheStatus: nil) == .miss)
        #expect(WarmTally.Outcome.of(status: 403, cacheStatus: nil) == .failure("403"))
        var tally = WarmTally(total: 4)
        tally.record(.hit, bytes: 10)
        tally.record(.miss, bytes: 5)
        tally.record(.failure("404"), bytes: 0)
        #expect(tally.progress(elapsed: 1.5, terminal: true, width: 8) == "[######--] 3/4  2.0/s  ETA 0:01  1 failed")
        #expect(tally.progress(elapsed: 1.5, terminal: false) == "warm: 3/4 (75%), 2.0/s, ETA 0:01, 1 failed")
        #expect(tally.summary(elapsed: 1.5) == "warmed 3 URLs in 1.5 s (2.0/s, 15 bytes)\n  hits      1\n  misses    1\n  failures  1\n    404  1")
    }

    @Test func warmsALiveMoxyFromAListAndASitemap() async throws {
        let origin = TestOrigin()
        try await origin.start(group: MultiThreadedEventLoopGroup.singleton)
        defer { Task { await origin.stop() } }
        for path in ["/1.png", "/2.png", "/3.png", "/4.png", "/5.png?a=1&b=2"] {
            origin.route(path, OriginRoute(headers: [("Content-Type", "image/png"), ("Cache-Control", "max-age=3600")]))
        }
        let environment = ["MOXY_KEY": "warm-secret", "MOXY_ALLOW_LOOPBACK": "true"]
        let server = try await CLITests.startServer([], environment: environment)
        defer {
            if server.process.isRunning { server.process.terminate() }
            CLITests.removeWorkingDirectory(server.process)
        }
        let directory = try OperationsCLITests.configDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let base = "http://127.0.0.1:\(server.port)"
        // Plain URLs, one already signed (for another host's base), and a comment.
        let signed = try Self.signer.sign(origin.url("/3.png"))
        let list = "# fresh node\n\(origin.url("/1.png"))\n\(origin.url("/2.png"))\nhttps://img.example.com\(signed)\n"
        try list.write(toFile: directory + "/urls.txt", atomically: true, encoding: .utf8)

        let first = try await MoxyBinary.run(["warm", "--base", base, "--concurrency", "3", directory + "/urls.txt"], environment: environment)
        #expect(first.status == 0, "\(first.err)")
        #expect(first.out.contains("warmed 3 URLs") && first.out.contains("hits      0") && first.out.contains("misses    3"), "\(first.out)")
        #expect(first.err.isEmpty || first.err.hasPrefix("warm: "), "not a terminal: plain lines only: \(first.err)")
        let second = try await MoxyBinary.run(["warm", "--base", base, directory + "/urls.txt"], environment: environment)
        #expect(second.status == 0 && second.out.contains("hits      3") && second.out.contains("misses    0"), "\(second.out)")
        for path in ["/1.png", "/2.png", "/3.png"] { #expect(origin.count(path) == 1, "\(path)") }

        let sitemap = """
            <?xml version="1.0"?><urlset xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"><url>
            <loc>\(origin.url("/5.png?a=1&amp;b=2"))</loc><image:image><image:loc>\(origin.url("/1.png"))</image:loc></image:image>
            </url><url><loc>\(origin.url("/missing.png"))</loc></url></urlset>
            """
        try sitemap.write(toFile: directory + "/sitemap.xml", atomically: true, encoding: .utf8)
        let third = try await MoxyBinary.run(["warm", "--base", base + "/", directory + "/sitemap.xml"], environment: environment)
        #expect(third.status == 1, "a failure makes the exit status 1")
        #expect(third.out.contains("hits      1") && third.out.contains("misses    1") && third.out.contains("404  1"), "\(third.out)")
        #expect(origin.count("/5.png?a=1&b=2") == 1 && origin.count("/1.png") == 1 && origin.count("/4.png") == 0)

        // On a terminal (a pseudo-terminal from util-linux's script): the bar, redrawn in place.
        let command = "\(MoxyBinary.path) warm --base \(base) \(directory)/urls.txt"
        let terminal = try await Spawn.run("/usr/bin/script", ["-qec", command, "/dev/null"], environment: environment)
        #expect(terminal.status == 0, "\(terminal.out)")
        #expect(terminal.out.contains("\r[########################] 3/3 ") && terminal.out.contains("0 failed\u{1B}[K"), "\(terminal.out)")
        #expect(terminal.out.contains("hits      3"))

        let bad = try await MoxyBinary.run(["warm", "--base", base, "--concurrency", "0", directory + "/urls.txt"], environment: environment)
        #expect(bad.status != 0 && bad.err.contains("--concurrency"))
        try await CLITests.stop(server)
    }
}
