// SPDX-License-Identifier: Apache-2.0

import Foundation
import MoxyRewrite
import MoxySigning
import MoxyTestSupport
import Testing

/// `moxy rewrite` through the real binary: standard input to standard output, options, errors,
/// and a 100 MiB document streamed in bounded memory.
@Suite struct RewriteCLITests {
    static let environment = ["MOXY_KEY": "rewrite-cli-secret"]
    static let signer = try! URLSigner(keys: [SigningKey(id: "default", secret: "rewrite-cli-secret")])

    /// Runs `moxy rewrite` on `input`, returning its status, output, error and peak RSS.
    static func rewrite(_ arguments: [String], input: [UInt8]) async throws -> (status: Int32, out: [UInt8], err: String, rssKiB: Int) {
        let directory = try OperationsCLITests.configDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        FileManager.default.createFile(atPath: directory + "/in.html", contents: Data(input))
        let result = try await Spawn.run(
            MoxyBinary.path, ["rewrite"] + arguments, environment: environment, input: directory + "/in.html",
            output: directory + "/out.html", error: directory + "/err.txt")
        let out = FileManager.default.contents(atPath: directory + "/out.html").map(Array.init) ?? []
        let err = (try? String(contentsOfFile: directory + "/err.txt", encoding: .utf8)) ?? ""
        return (result.status, out, err, result.maxRSSKiB)
    }

    @Test func rewritesAPageFromStandardInputToStandardOutput() async throws {
        let page = """
            <html><head><base href="/assets/"></head><body>
            <img src="http://a.example/cat.png?x=1&amp;y=2" srcset="http://b.example/b.png 2x">
            <img src="dog.png"><img src="https://a.example/secure.png"><!-- <img src="http://a.example/c.png"> -->
            </body></html>
            """
        let arguments = ["--base", "https://img.example.com/", "--allow-host", "a.example", "site.example", "--only-insecure",
            "--origin", "http://site.example/post/1"]
        let result = try await Self.rewrite(arguments, input: Array(page.utf8))
        #expect(result.status == 0, "\(result.err)")
        func signed(_ url: String) -> String { "https://img.example.com" + (try! Self.signer.sign(url)) }
        let expected = page.replacingOccurrences(of: "http://a.example/cat.png?x=1&amp;y=2", with: signed("http://a.example/cat.png?x=1&y=2"))
            .replacingOccurrences(of: "\"dog.png\"", with: "\"" + signed("http://site.example/assets/dog.png") + "\"")
        #expect(String(decoding: result.out, as: UTF8.self) == expected)
    }

    @Test func badOptionsAreRefusedWithAReason() async throws {
        let page = Array("<img src=\"http://a.example/x.png\">".utf8)
        let cases: [([String], String)] = [
            (["--base", "img.example.com"], "--base must be an absolute http"),
            (["--origin", "/relative"], "--origin must be an absolute http"),
            (["--key-id", "nope"], "no key with id 'nope'"),
            (["--expires", "soon"], "invalid --expires"),
        ]
        for (arguments, message) in cases {
            let result = try await Self.rewrite(arguments, input: page)
            #expect(result.status != 0 && result.out.isEmpty && result.err.contains(message), "\(arguments): \(result.err)")
        }
        let noKey = try await Spawn.run(MoxyBinary.path, ["rewrite"], environment: [:])
        #expect(noKey.status != 0 && noKey.err.contains("no signing key"))
    }

    /// 100 MiB of an article-shaped block (text, tags, a comment, a style block, a script, images)
    /// goes through in 64 KiB reads; the process's peak RSS stays far below the document's size,
    /// and the output is the rewritten block, 100 MiB over.
    @Test func aHundredMebibyteDocumentStreamsInBoundedMemory() async throws {
        // An article's worth of text (14 KiB) and its markup: the debug build the tests run reads
        // text runs at ~30 MB/s and markup byte by byte at ~4 MB/s, so the 100 MiB take seconds.
        var block = "<div class=\"post\"><h2>Title &amp; more</h2><p>"
            + String(repeating: "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", count: 250)
        block += "<img src=\"http://a.example/photo.jpg?w=640&amp;h=480\" alt=\"photo\" srcset=\"http://a.example/p2.jpg 2x\">"
        block += "<!-- comment <img src=\"http://a.example/no.png\"> --><style>.x{background:url(http://a.example/bg.png)}</style>"
        block += "<script>var a = '<img src=\"http://a.example/s.png\">';</script></p></div>\n"
        let blockBytes = Array(block.utf8)
        let rewrittenBlock = HTMLRewriter.rewrite(blockBytes, signer: Self.signer, options: RewriteOptions(base: "https://m.example"))
        #expect(rewrittenBlock != blockBytes)
        let copies = (100 << 20) / blockBytes.count + 1

        let directory = try OperationsCLITests.configDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = directory + "/big.html", output = directory + "/big.out.html"
        let file = try #require(fopen(input, "w"))
        var chunk: [UInt8] = []
        for _ in 0..<256 { chunk += blockBytes }
        var written = 0
        while written < copies {
            let count = min(256, copies - written)
            _ = chunk.withUnsafeBytes { fwrite($0.baseAddress, blockBytes.count, count, file) }
            written += count
        }
        fclose(file)
        let result = try await Spawn.run(
            MoxyBinary.path, ["rewrite", "--base", "https://m.example"], environment: Self.environment, input: input, output: output,
            error: directory + "/err.txt", timeout: 600)
        #expect(result.status == 0)
        let size = (try FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
        #expect(size == rewrittenBlock.count * copies, "the output is every block rewritten")
        // Its first and last blocks, read back.
        let handle = try #require(FileHandle(forReadingAtPath: output))
        #expect(Array(handle.readData(ofLength: rewrittenBlock.count)) == rewrittenBlock)
        try handle.seek(toOffset: UInt64(size - rewrittenBlock.count))
        #expect(Array(handle.readData(ofLength: rewrittenBlock.count)) == rewrittenBlock)
        try handle.close()
        // The document is 100 MiB; the process grows by less than 8 MiB over the same binary
        // rewriting 1,000 blocks (it starts at ~25 MiB: a debug build, Foundation and its runtime).
        // The baseline runs long enough (about half a second) for the 10 ms samples to see it
        // after its exec: a run of 100 blocks once ended before the first one, and read 4 KiB.
        let small = directory + "/small.html"
        FileManager.default.createFile(atPath: small, contents: Data((0..<1_000).flatMap { _ in blockBytes }))
        let baseline = try await Spawn.run(
            MoxyBinary.path, ["rewrite", "--base", "https://m.example"], environment: Self.environment, input: small, output: output,
            error: directory + "/err.txt")
        #expect(result.maxRSSKiB > 0 && baseline.maxRSSKiB > 0)
        #expect(result.maxRSSKiB < baseline.maxRSSKiB + (8 << 10), "peak RSS \(result.maxRSSKiB) KiB, \(baseline.maxRSSKiB) KiB for 1,000 blocks")
    }
}
