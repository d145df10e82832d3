// SPDX-License-Identifier: Apache-2.0

import MoxyRewrite
import MoxySigning
import Testing

/// Real-world-shaped pages, each with its whole expected output: only URL values change.
@Suite struct HTMLRewriterTests {
    typealias F = Fixture

    func check(_ pieces: [Fixture.Piece], _ options: RewriteOptions = RewriteOptions(base: Fixture.base), _ comment: Comment? = nil) {
        let (input, expected) = F.page(pieces)
        #expect(F.rewrite(input, options) == expected, comment)
    }

    @Test func aCMSPageWithEntitiesUppercaseUnquotedAndDuplicateAttributes() {
        check([
            "<!DOCTYPE html>\n<HTML><HEAD><TITLE>Cats &amp; dogs <img src=\"http://a.example/t.png\"></TITLE>\n",
            "<LINK REL=\"Shortcut Icon\" HREF=\"", .url("http://a.example/favicon.ico", target: "http://a.example/favicon.ico"), "\">\n",
            "<link rel=stylesheet href=\"http://a.example/site.css\"></HEAD>\n<BODY>\n",
            "<IMG SRC=\"", .url("http://a.example/cat.png?w=100&amp;h=50&#38;q=1&#x26;x", target: "http://a.example/cat.png?w=100&h=50&q=1&x"), "\" ALT='A &quot;cat&quot;'>\n",
            "<img src=", .url("http://a.example/unquoted.png", target: "http://a.example/unquoted.png"), " alt=x width=10>\n",
            "<img src='", .url("http://a.example/first.png", target: "http://a.example/first.png"), "' src='http://a.example/second.png'>\n",
            // No space after a quoted value: the next attribute starts anyway, as in browsers.
            "<img alt=\"x\"src=\"", .url("http://a.example/glued.png", target: "http://a.example/glued.png"), "\">\n",
            // `&copy=2` is no reference inside an attribute (it is followed by `=`).
            "<img src=\"", .url("http://a.example/p?a=1&copy=2", target: "http://a.example/p?a=1&copy=2"), "\">\n",
            "<img\nclass=\"x\"\n  src = \"  ", .url("http://a.example/spaced.png", target: "http://a.example/spaced.png"), "  \"/>\n",
            "<p>Text with http://a.example/not-an-attribute.png and <b>bold</b> &lt;img src=\"http://a.example/x.png\"&gt;</p>\n",
            "</BODY></HTML>\n",
        ])
    }

    @Test func commentsScriptsTextareasAndTemplatesAreNeverTouched() {
        check([
            "<!-- <img src=\"http://a.example/in-comment.png\"> -- still a comment --!> ",
            "<img src=\"", .url("http://a.example/after-bang.png", target: "http://a.example/after-bang.png"), "\">",
            "<!--> <img src=\"", .url("http://a.example/abrupt.png", target: "http://a.example/abrupt.png"), "\">",
            "<!---> <img src=\"", .url("http://a.example/abrupt2.png", target: "http://a.example/abrupt2.png"), "\">",
            "<script>document.write('<img src=\"http://a.example/s.png\">'); if (a<b) {}</script >",
            "<SCRIPT type=module>let x = \"</scrip\"; /* <style> */</SCRIPT>",
            "<textarea><img src=\"http://a.example/t.png\"></textarea><title>x</title>",
            "<template><img src=\"http://a.example/tpl.png\"><template><img src=\"http://a.example/nested.png\"></template>",
            "<img src=\"http://a.example/still-in-template.png\"></template>",
            "<img src=\"", .url("http://a.example/after-template.png", target: "http://a.example/after-template.png"), "\">",
            "<?php echo '<img src=\"http://a.example/pi.png\">' ?>",
            "<img src=\"", .url("http://a.example/end.png", target: "http://a.example/end.png"), "\">",
        ])
    }

    @Test func svgCDATAAndStyleBlocks() {
        check([
            "<svg viewBox=\"0 0 1 1\"><![CDATA[ <img src=\"http://a.example/cdata.png\"> ]]>",
            "<style><![CDATA[ .a { background: url(", .url("http://a.example/svg-bg.png", target: "http://a.example/svg-bg.png"), ") } ]]></style>",
            "</svg>",
            // Outside SVG, `<![CDATA[` is a bogus comment that ends at the first `>`.
            "<![CDATA[ x ]]> <img src=\"", .url("http://a.example/html-cdata.png", target: "http://a.example/html-cdata.png"), "\">",
            "<style media=screen>\n",
            "body { background: URL( '", .url("http://a.example/bg.png", target: "http://a.example/bg.png"), "' ) no-repeat; }\n",
            ".b { background-image: url(", .url("https://b.example/b.webp", target: "https://b.example/b.webp"), "), url(\"",
            .url("http://a.example/c.png", target: "http://a.example/c.png"), "\"); }\n",
            "/* url(http://a.example/commented.png) */ .c::after { content: \"url(http://a.example/string.png)\"; }\n",
            ".d { background: myurl(http://a.example/not-url.png); mask: url(data:image/png;base64,AAAA); }\n",
            ".e { background: url(http://a.example/esc\\).png) } .f { fill: url(#gradient) }\n",
            "</style>",
            "<div style=\"background:url(&quot;", .url("http://a.example/attr.png", target: "http://a.example/attr.png"),
            "&quot;); color: red\"></div>",
            "<div style='background-image: url(", .url("http://a.example/p.png?a=1&amp;b=2", target: "http://a.example/p.png?a=1&b=2"), ")'></div>",
        ])
    }

    @Test func srcsetWithDescriptorsAndOddSpacing() {
        check([
            "<img srcset=\"  ", .url("http://a.example/a.png", target: "http://a.example/a.png"), "  1x ,",
            .url("http://a.example/b.png", target: "http://a.example/b.png"), " 2x,",
            .url("http://a.example/c,d.png", target: "http://a.example/c,d.png"), ",,\n\t",
            .url("http://a.example/e.png", target: "http://a.example/e.png"), " (max-width: 10px, x) 300w , ",
            "data:image/png;base64,AAA= 3x\" src=\"", .url("http://a.example/a.png", target: "http://a.example/a.png"), "\">",
            "<picture><source type=image/webp srcset='", .url("http://a.example/w.webp", target: "http://a.example/w.webp"), " 480w'>",
            "<source src=\"http://a.example/not-srcset.png\"></picture>",
            "<video poster=\"", .url("http://a.example/poster.jpg", target: "http://a.example/poster.jpg"), "\" src=\"http://a.example/v.mp4\"></video>",
        ])
    }

    @Test func dataRelativeForeignAndAlreadyRewrittenURLsStay() {
        let signed = F.signed("http://a.example/done.png")
        let options = RewriteOptions(base: F.base, allowHosts: ["*.example.com", "a.example"])
        check([
            "<img src=\"data:image/gif;base64,R0lGOD\"><img src=\"/local/cat.png\"><img src=\"cat.png\">",
            "<img src=\"", .url("http://a.example/ok.png", target: "http://a.example/ok.png"), "\">",
            "<img src=\"", .url("https://cdn.example.com/ok.png", target: "https://cdn.example.com/ok.png"), "\">",
            "<img src=\"http://other.example/no.png\"><img src=\"http://example.com.evil.example/no.png\">",
            .text("<img src=\"\(signed)\"><img src=\"javascript:alert(1)\"><img src=\"cid:part1\"><img src=\"\">"),
            "<img src=\"", .url("//a.example/protocol-relative.png", target: "https://a.example/protocol-relative.png"), "\">",
            "<img src=\"", .url("http://a.example/sprite.svg#icon", target: "http://a.example/sprite.svg#icon"), "\">",
        ], options)
        let once = F.rewrite("<img src=\"http://a.example/x.png\"><style>a{background:url(http://a.example/y.png)}</style>")
        #expect(F.rewrite(once) == once, "rewriting a rewritten page changes nothing")
        // Moxy URLs under another base (a CDN in front of Moxy) or as bare paths are left alone
        // too, even where an origin would resolve the bare path; an expired one as well.
        let path = try! Fixture.signer.sign("http://a.example/x.png")
        let expired = try! Fixture.signer.sign("http://a.example/x.png", options: SignOptions(expires: 1))
        let elsewhere = "<img src=\"https://cdn.example.net\(path)\"><img src=\"\(path)\"><img src=\"\(expired)\">"
        #expect(F.rewrite(elsewhere, RewriteOptions(base: F.base, origin: "https://site.example/")) == elsewhere)
        #expect(F.rewrite(elsewhere, RewriteOptions(origin: "https://site.example/")) == elsewhere)
    }

    @Test func onlyInsecureRewritesHTTPAndLeavesHTTPS() {
        check([
            "<img src=\"", .url("http://a.example/mixed.png", target: "http://a.example/mixed.png"), "\">",
            "<img src=\"https://a.example/fine.png\">",
        ], RewriteOptions(base: F.base, onlyInsecure: true))
    }

    @Test func baseHrefAndOriginResolveRelativeURLs() {
        check([
            "<head><base href=\"https://cdn.example.com/assets/\"><base href=\"https://ignored.example/\"></head>",
            "<img src=\"", .url("cat.png", target: "https://cdn.example.com/assets/cat.png"), "\">",
            "<img src=\"", .url("../up.png?x=1", target: "https://cdn.example.com/up.png?x=1"), "\">",
            "<img src=\"", .url("/root.png", target: "https://cdn.example.com/root.png"), "\">",
        ])
        check([
            "<base href=\"/static/\"><img src=\"", .url("a/b.png", target: "http://site.example/static/a/b.png"), "\">",
            "<img src=\"", .url("//img.example.org/c.png", target: "http://img.example.org/c.png"), "\">",
        ], RewriteOptions(base: F.base, origin: "http://site.example/blog/post.html"))
        // A <base> inside a <template> is inert, as in browsers.
        check([
            "<template><base href=\"https://t.example/\"></template><base href=\"https://cdn.example.com/x/\">",
            "<img src=\"", .url("a.png", target: "https://cdn.example.com/x/a.png"), "\">",
        ])
        // A relative <base href> with no origin resolves nothing.
        check(["<base href=\"/static/\"><img src=\"a.png\">"])
    }

    @Test func malformedHTMLNeverCrashesAndKeepsItsBytes() {
        let pages = [
            "<img src=\"http://a.example/unterminated.png", "<img src=http://a.example/x.png", "<", "</", "<!", "<!-", "<!--", "<!-- -",
            "<img", "<img src=", "<img src='", "<<<>>>", "</>", "</ >", "<a b=\"c\" d='e' f=g h>", "<style>url(http://a.example/", "<script><!--",
            "<textarea></textarea", "\u{0}<img\u{0}src=\u{0}>", "<img src=\"http://a.example/&#xFFFFFFFF;&#0;&#128;&bogus;\">",
            "<svg><![CDATA[", "<plaintext><img src=\"http://a.example/p.png\">",
        ]
        for page in pages where !page.hasPrefix("<img src=\"http://a.example/&#") {
            #expect(F.rewrite(page) == page, "\(page)")
        }
        // An unknown named reference: the URL is left alone rather than guessed at.
        let unknown = "<img src=\"http://a.example/&bogus;.png\">"
        #expect(F.rewrite(unknown) == unknown)
    }

    @Test func keyIDsExpiriesAndBarePaths() {
        let signer = try! URLSigner(keys: [SigningKey(id: "default", secret: "a"), SigningKey(id: "2", secret: "b")])
        let options = RewriteOptions(signOptions: SignOptions(keyID: "2", expires: 1_767_225_600))
        let output = String(decoding: HTMLRewriter.rewrite(Array("<img src=\"http://a.example/k.png\">".utf8), signer: signer, options: options), as: UTF8.self)
        let path = try! signer.sign("http://a.example/k.png", options: SignOptions(keyID: "2", expires: 1_767_225_600))
        #expect(output == "<img src=\"\(path)\">")
        #expect(path.contains("/k2,e1767225600/"))
    }
}
