// SPDX-License-Identifier: Apache-2.0

import MoxyRewrite
import MoxySigning
import Testing

/// Streaming: any split of the input gives the same output, and the audit holds on every page.
@Suite struct StreamingTests {
    static let page = """
        <!doctype html><html><head><base href="https://cdn.example.com/a/"><link rel="icon" href="/f.ico">
        <style>body{background:url( "http://a.example/bg.png" )} /* url(http://a.example/c.png) */</style></head>
        <body><!-- <img src="http://a.example/c.png"> --><IMG SRC=http://a.example/x.png?a=1&amp;b=2 ALT=x>
        <img srcset="http://a.example/1.png 1x, rel.png 2x" src='http://a.example/s.png'>
        <svg><![CDATA[<img src="http://a.example/in.png">]]><style>.a{fill:url(#g)}</style></svg>
        <script>let s = "</style><img src='http://a.example/script.png'>";</script>
        <p style="background:url(&quot;http://a.example/st.png&quot;)">&lt;img&gt; text</p>
        <video poster="//v.example/p.jpg"></video><template><img src="http://a.example/t.png"></template>
        <textarea></textarea ><img src="http://a.example/after.png"></body></html>
        """

    static func rewrite(_ input: [UInt8], chunks: [Int], options: RewriteOptions) -> (output: [UInt8], rewrites: [HTMLRewriter.Rewrite]) {
        var rewriter = HTMLRewriter(signer: Fixture.signer, options: options)
        rewriter.recordRewrites = true
        var output: [UInt8] = []
        var position = 0, index = 0
        while position < input.count {
            let size = max(1, chunks.isEmpty ? input.count : chunks[index % chunks.count])
            let end = min(input.count, position + size)
            rewriter.feed(input[position..<end], into: &output)
            position = end
            index += 1
        }
        rewriter.finish(into: &output)
        return (output, rewriter.rewrites)
    }

    @Test func everySplitGivesTheSameOutput() {
        let input = Array(Self.page.utf8)
        let options = RewriteOptions(base: Fixture.base)
        let whole = Self.rewrite(input, chunks: [], options: options)
        #expect(whole.rewrites.count == 9)
        #expect(HTMLRewriter.audit(input: input, output: whole.output, rewrites: whole.rewrites, signer: Fixture.signer, base: Fixture.base) == nil)
        for size in 1...23 {
            let split = Self.rewrite(input, chunks: [size], options: options)
            #expect(split.output == whole.output, "chunks of \(size)")
            #expect(split.rewrites == whole.rewrites, "chunks of \(size)")
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let chunks = (0..<8).map { _ in Int.random(in: 1...40, using: &generator) }
            #expect(Self.rewrite(input, chunks: chunks, options: options).output == whole.output, "chunks \(chunks)")
        }
    }

    @Test func withNothingAllowedTheOutputIsTheInput() {
        let input = Array(Self.page.utf8)
        let options = RewriteOptions(base: Fixture.base, allowHosts: ["nothing.invalid"])
        #expect(Self.rewrite(input, chunks: [7], options: options).output == input)
    }

    @Test func theAuditCatchesAChangeOutsideAURL() {
        let input = Array(Self.page.utf8)
        let result = Self.rewrite(input, chunks: [], options: RewriteOptions(base: Fixture.base))
        var tampered = result.output
        tampered[tampered.count - 3] = UInt8(ascii: "X")
        #expect(HTMLRewriter.audit(input: input, output: tampered, rewrites: result.rewrites, signer: Fixture.signer, base: Fixture.base) != nil)
        var wrongTarget = result.rewrites
        wrongTarget[0].original = "http://a.example/other.png"
        #expect(HTMLRewriter.audit(input: input, output: result.output, rewrites: wrongTarget, signer: Fixture.signer, base: Fixture.base) != nil)
    }

    /// Tags and CSS tokens longer than the limits pass through unchanged: memory stays bounded.
    @Test func oversizedTagsAndURLsPassThrough() {
        let longTag = "<img alt=\"" + String(repeating: "a", count: 300) + "\" src=\"http://a.example/x.png\">"
        let longURL = "<style>a{background:url(http://a.example/" + String(repeating: "b", count: 300) + ".png)}</style>"
        let spaced = "<style>a{background:url(" + String(repeating: " ", count: 600) + "http://a.example/s.png)}</style>"
        let options = RewriteOptions(base: Fixture.base, maxTagBytes: 128, maxURLBytes: 128)
        for page in [longTag, longURL, spaced] {
            let input = Array(page.utf8)
            #expect(Self.rewrite(input, chunks: [13], options: options).output == input)
        }
        #expect(Self.rewrite(Array(longTag.utf8), chunks: [13], options: RewriteOptions(base: Fixture.base)).rewrites.count == 1)
        // A URL that a rewrite makes too long to report reads the same the second time: the
        // document rewrites to itself (a fuzzer find).
        let short = RewriteOptions(base: Fixture.base, maxURLBytes: 100)
        let page = "<style>a{background:url(\"http://a.example/" + String(repeating: "é", count: 30) + ".png\")}"
            + " /* \" url(http://a.example/in-a-comment.png) */</style>"
        let once = Self.rewrite(Array(page.utf8), chunks: [], options: short)
        #expect(once.rewrites.count == 1)
        #expect(Self.rewrite(once.output, chunks: [], options: short).output == once.output)
    }
}
