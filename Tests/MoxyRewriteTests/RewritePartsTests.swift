// SPDX-License-Identifier: Apache-2.0

@testable import MoxyRewrite
import MoxySigning
import Testing

/// The pure parts: srcset, CSS url(), character references, URL resolution, host globs.
@Suite struct RewritePartsTests {
    func strings(_ value: String, _ ranges: [Range<Int>]) -> [String] {
        let bytes = Array(value.utf8)
        return ranges.map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    @Test func srcsetCandidates() {
        let cases: [(String, [String])] = [
            ("a.png", ["a.png"]),
            ("a.png 1x, b.png 2x", ["a.png", "b.png"]),
            ("  a.png  1x ,b.png 2x,c,d.png,,\n e.png (x, y) 300w , ", ["a.png", "b.png", "c,d.png", "e.png"]),
            ("a.png,b.png", ["a.png,b.png"]),  // no space: one URL with a comma inside
            ("a.png,, b.png", ["a.png", "b.png"]),
            (",,,", []),
            ("", []),
        ]
        for (value, urls) in cases {
            #expect(strings(value, Srcset.urlRanges(Array(value.utf8))) == urls, "\(value)")
        }
    }

    @Test func cssURLTokens() {
        let cases: [(String, [String])] = [
            ("a{background:url(x.png)}", ["x.png"]),
            ("a{background:URL( \"x y.png\" ) }", ["x y.png"]),
            ("a{b:url('x.png'),url(y.png)}", ["x.png", "y.png"]),
            ("/* url(c.png) */ url(d.png)", ["d.png"]),
            ("a{content:\"url(s.png)\"} url(t.png)", ["t.png"]),
            ("a{content:'it\\'s url(s.png)'} url(t.png)", ["t.png"]),
            ("myurl(n.png) -url(m.png) _url(o.png) url(p.png)", ["p.png"]),
            ("url(esc\\).png) url(\"q\\\".png\") url(r.png)", ["r.png"]),
            ("url() url( ) url(u.png", []),
            ("url(a b.png)", []),
            ("uurl(a.png) urx(b.png) url (c.png)", []),
        ]
        for (css, urls) in cases {
            let tokens = CSSURLScanner.tokens(in: Array(css.utf8), maxLength: 100)
            #expect(strings(css, tokens.map(\.url)) == urls, "\(css)")
        }
        #expect(CSSURLScanner.tokens(in: Array("url(\(String(repeating: "a", count: 200)))".utf8), maxLength: 100).isEmpty)
        // What is not reported is still read to its end, so what follows reads the same whatever
        // the lengths (found by the fuzzer: a too-long URL once reset the scanner mid-token).
        let long = String(repeating: "a", count: 200)
        let afterBad: [(String, [String])] = [
            ("url(\"\(long)\") url(x.png)", ["x.png"]),
            ("url(\(long)\"q) \"url(y.png)\" url(z.png)", ["z.png"]),
            ("url(a\"b) url(c.png)", ["c.png"]),
            ("url(a b c) url(d.png)", ["d.png"]),
            ("url(\"a\\\"b\") url(e.png)", ["e.png"]),
            ("url(\"a\nb\") url(f.png)", ["f.png"]),
        ]
        for (css, urls) in afterBad {
            let tokens = CSSURLScanner.tokens(in: Array(css.utf8), maxLength: 100)
            #expect(strings(css, tokens.map(\.url)) == urls, "\(css)")
        }
    }

    @Test func characterReferencesInAttributes() {
        let cases: [(String, String)] = [
            ("a&amp;b", "a&b"), ("&#38;&#x26;&#X26;", "&&&"), ("&lt;&gt;&quot;&apos;", "<>\"'"),
            ("?a=1&copy=2", "?a=1&copy=2"), ("?a=1&copyx", "?a=1&copyx"), ("&copy;&copy ", "©© "),
            ("&amp", "&"), ("&ampx", "&ampx"), ("&#0;&#xD800;&#x110000;", "\u{FFFD}\u{FFFD}\u{FFFD}"),
            ("&#128;&#x9F;", "€Ÿ"), ("&#65", "A"), ("& &# &#x;", "& &# &#x;"), ("&eacute;t&eacute", "été"),
        ]
        for (raw, decoded) in cases {
            let result = CharacterReferences.decode(ArraySlice(raw.utf8))
            #expect(String(decoding: result.bytes, as: UTF8.self) == decoded, "\(raw)")
            #expect(!result.hasUnknownName)
            #expect(result.rawOffsets.count == result.bytes.count + 1)
        }
        #expect(CharacterReferences.decode(ArraySlice("&bogus;".utf8)).hasUnknownName)
        let mapped = CharacterReferences.decode(ArraySlice("x&amp;y".utf8))
        #expect(mapped.rawRange(2..<3) == 6..<7 && mapped.rawRange(0..<2) == 0..<6 && mapped.rawRange(1..<2) == 1..<6)
        var encoded: [UInt8] = []
        CharacterReferences.encode("a&b\"c'd<e>f", into: &encoded)
        #expect(String(decoding: encoded, as: UTF8.self) == "a&amp;b&quot;c&#39;d&lt;e&gt;f")
    }

    /// RFC 3986 §5.4.1 and §5.4.2, against its base `http://a/b/c/d;p?q`.
    @Test func referenceResolutionFollowsRFC3986() {
        let base = URLReference("http://a/b/c/d;p?q")
        let cases: [(String, String)] = [
            ("g", "http://a/b/c/g"), ("./g", "http://a/b/c/g"), ("g/", "http://a/b/c/g/"), ("/g", "http://a/g"),
            ("//g", "http://g"), ("?y", "http://a/b/c/d;p?y"), ("g?y", "http://a/b/c/g?y"), ("#s", "http://a/b/c/d;p?q#s"),
            ("g#s", "http://a/b/c/g#s"), (";x", "http://a/b/c/;x"), ("", "http://a/b/c/d;p?q"), (".", "http://a/b/c/"),
            ("./", "http://a/b/c/"), ("..", "http://a/b/"), ("../g", "http://a/b/g"), ("../..", "http://a/"),
            ("../../g", "http://a/g"), ("../../../g", "http://a/g"), ("/./g", "http://a/g"), ("/../g", "http://a/g"),
            ("g.", "http://a/b/c/g."), (".g", "http://a/b/c/.g"), ("g..", "http://a/b/c/g.."), ("./../g", "http://a/b/g"),
            ("g/./h", "http://a/b/c/g/h"), ("g/../h", "http://a/b/c/h"), ("g;x=1/../y", "http://a/b/c/y"),
            ("HTTPS://B/x", "https://B/x"),
        ]
        for (reference, resolved) in cases {
            #expect(URLReference(reference).resolved(against: base).text == resolved, "\(reference)")
        }
        #expect(URLReference("http://user:pw@Host.Example:8080/x").host == "host.example")
        #expect(URLReference("http://[::1]:80/x").host == "[::1]")
    }

    @Test func hostGlobs() {
        #expect(HostGlob("*.example.com").matches(Array("cdn.example.com".utf8)))
        #expect(HostGlob("*.example.com").matches(Array("a.b.example.com".utf8)))
        #expect(!HostGlob("*.example.com").matches(Array("example.com".utf8)))
        #expect(!HostGlob("*.example.com").matches(Array("example.com.evil.org".utf8)))
        #expect(HostGlob("Example.COM").matches(Array("example.com".utf8)))
        #expect(HostGlob("*").matches(Array("anything".utf8)))
        #expect(HostGlob("img*.example.*").matches(Array("img2.example.org".utf8)))
        #expect(!HostGlob("a*a*a*a*b").matches(Array(String(repeating: "a", count: 64).utf8)))
    }

    @Test func aPolicyRefusesWhatTheSignerWouldRefuseAndCleansLikeABrowser() throws {
        let policy = URLRewritePolicy(signer: Fixture.signer, options: RewriteOptions())
        #expect(policy.rewrite(Array("http://a.example/x\n.png".utf8)) == (try Fixture.signer.sign("http://a.example/x.png")))
        #expect(policy.rewrite(Array("http://a.example/a b.png".utf8)) == (try Fixture.signer.sign("http://a.example/a%20b.png")))
        #expect(policy.rewrite(Array("http:///nohost.png".utf8)) == nil)
        #expect(policy.rewrite(Array("ftp://a.example/x.png".utf8)) == nil)
        #expect(policy.rewrite(Array("  \t".utf8)) == nil)
    }
}
