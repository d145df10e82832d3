// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import MoxyCache
import Testing

/// Vary keys, byte ranges, validators, hop-by-hop fields, 304 merging and Cache-Status values.
@Suite struct HeaderRulesTests {
    func fields(_ pairs: [(String, String)]) -> [(name: String, value: String)] { pairs.map { (name: $0.0, value: $0.1) } }

    @Test func sec4_1_varyNamesAreCaseInsensitiveSortedAndStarIsNever() {
        #expect(VaryKey.names(["Accept-Encoding, accept-language", "ACCEPT-ENCODING"]) == ["accept-encoding", "accept-language"])
        #expect(VaryKey.names(["Accept, *"]) == nil)
        #expect(VaryKey.names([]) == [])
    }

    @Test func sec4_1_secondaryKeysNormaliseWhitespaceAndTellAbsentFromEmpty() {
        let names = ["accept-encoding"]
        let a = VaryKey.secondary(names, requestHeaders: fields([("Accept-Encoding", "gzip,  br")]))
        let b = VaryKey.secondary(names, requestHeaders: fields([("accept-encoding", "gzip, br")]))
        let c = VaryKey.secondary(names, requestHeaders: fields([("Accept-Encoding", "gzip"), ("Accept-Encoding", "br")]))
        let empty = VaryKey.secondary(names, requestHeaders: fields([("Accept-Encoding", "")]))
        let absent = VaryKey.secondary(names, requestHeaders: [])
        #expect(a == b && b == c)
        #expect(empty != absent)
        #expect(VaryKey.secondary(names, requestHeaders: fields([("Accept-Encoding", "br")])) != a)
    }

    @Test func sec4_1_caseAndWhitespaceAreNormalisedWhereTheFieldsSyntaxAllows() {
        func key(_ name: String, _ value: String) -> String {
            VaryKey.secondary([name], requestHeaders: fields([(name, value)]))
        }
        #expect(key("accept-language", "en-US, fr;q=0.5") == key("accept-language", "EN-us,fr ; Q=0.5"))
        #expect(key("accept-encoding", "gzip, br") == key("accept-encoding", "GZip,BR"))
        #expect(key("accept-charset", "UTF-8") == key("accept-charset", "utf-8"))
        #expect(key("accept-language", "en") != key("accept-language", "fr"))
        // Other fields keep their case: a value may be case-sensitive there.
        #expect(key("accept", "text/html;level=A") != key("accept", "text/html;level=a"))
        #expect(key("x-tenant", "Acme") != key("x-tenant", "acme"))
    }

    @Test func rfc9110_14_1_2_byteRanges() {
        #expect(ByteRange.parse("bytes=0-0", length: 10) == .satisfiable(first: 0, last: 0))
        #expect(ByteRange.parse("bytes=-4", length: 10) == .satisfiable(first: 6, last: 9))
        #expect(ByteRange.parse("bytes=-40", length: 10) == .satisfiable(first: 0, last: 9))
        #expect(ByteRange.parse("bytes=3-", length: 10) == .satisfiable(first: 3, last: 9))
        #expect(ByteRange.parse("BYTES = 3-4", length: 10) == .ignored)
        #expect(ByteRange.parse("Bytes=3-4", length: 10) == .satisfiable(first: 3, last: 4))
        #expect(ByteRange.parse("bytes=10-", length: 10) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=-0", length: 10) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=0-", length: 0) == .unsatisfiable)
        for ignored in ["bytes=1-2,4-5", "bytes=5-2", "bytes=a-b", "bytes=-", "bytes=", "lines=1-2", "bytes=99999999999999999999-"] {
            #expect(ByteRange.parse(ignored, length: 10) == .ignored, "\(ignored)")
        }
        #expect(ByteRange.parse(nil, length: 10) == .ignored)
    }

    @Test func rfc9110_8_8_3_2_strongAndWeakComparison() {
        #expect(Validators.strongMatch("\"1\"", "\"1\""))
        #expect(!Validators.strongMatch("W/\"1\"", "W/\"1\""))
        #expect(!Validators.strongMatch("W/\"1\"", "\"1\""))
        #expect(Validators.weakMatch("W/\"1\"", "W/\"1\""))
        #expect(Validators.weakMatch("W/\"1\"", "\"1\""))
        #expect(!Validators.weakMatch("\"1\"", "\"2\""))
    }

    @Test func rfc9110_13_2_2_ifNoneMatchBeforeIfModifiedSince() {
        let modified: Int64 = 1_700_000_000
        func notModified(_ pairs: [(String, String)], etag: String? = "\"a\"") -> Bool {
            Validators.notModified(requestHeaders: fields(pairs), etag: etag, lastModified: modified)
        }
        #expect(notModified([("If-None-Match", "\"x\", W/\"a\"")]))
        #expect(notModified([("If-None-Match", "*")]))
        #expect(!notModified([("If-None-Match", "\"b\"")]))
        #expect(!notModified([("If-None-Match", "\"a\"")], etag: nil))
        #expect(notModified([("If-Modified-Since", HTTPDate.format(modified))]))
        #expect(!notModified([("If-Modified-Since", HTTPDate.format(modified - 1))]))
        #expect(!notModified([("If-Modified-Since", "garbage")]))
        // If-None-Match present: If-Modified-Since is ignored.
        #expect(!notModified([("If-None-Match", "\"b\""), ("If-Modified-Since", HTTPDate.format(modified))]))
        // Commas inside quotes stay in the tag.
        #expect(Validators.notModified(requestHeaders: fields([("If-None-Match", "\"a,b\"")]), etag: "\"a,b\"", lastModified: nil))
    }

    @Test func rfc9110_13_1_5_ifRangeNeedsAStrongMatch() {
        let modified: Int64 = 1_700_000_000
        #expect(Validators.ifRangeHolds(nil, etag: nil, lastModified: nil, date: nil))
        #expect(Validators.ifRangeHolds("\"a\"", etag: "\"a\"", lastModified: nil, date: nil))
        #expect(!Validators.ifRangeHolds("W/\"a\"", etag: "W/\"a\"", lastModified: nil, date: nil))
        #expect(!Validators.ifRangeHolds("\"b\"", etag: "\"a\"", lastModified: nil, date: nil))
        #expect(Validators.ifRangeHolds(HTTPDate.format(modified), etag: nil, lastModified: modified, date: modified + 10))
        // A Last-Modified within a second of Date is weak.
        #expect(!Validators.ifRangeHolds(HTTPDate.format(modified), etag: nil, lastModified: modified, date: modified))
        #expect(!Validators.ifRangeHolds(HTTPDate.format(modified + 1), etag: nil, lastModified: modified, date: modified + 10))
    }

    @Test func rfc9110_7_6_1_hopByHopFieldsAndThoseNamedInConnectionAreRemoved() {
        let kept = HeaderFields.endToEnd(
            fields([
                ("Connection", "close, X-Hop"), ("X-Hop", "1"), ("Keep-Alive", "5"), ("TE", "trailers"), ("Transfer-Encoding", "chunked"),
                ("Upgrade", "h2c"), ("Proxy-Connection", "keep-alive"), ("Trailer", "X"), ("Proxy-Authorization", "x"),
                ("X-End", "2"), ("Cache-Control", "max-age=1"),
            ]))
        #expect(kept.map(\.name) == ["X-End", "Cache-Control"])
    }

    @Test func sec3_2_a304UpdatesStoredFieldsButNotFraming() {
        let stored = fields([("Content-Type", "text/plain"), ("Content-Length", "5"), ("ETag", "\"1\""), ("X-A", "old"), ("X-A", "old2"), ("X-Keep", "k")])
        let merged = HeaderFields.merged(stored, with: fields([("X-A", "new"), ("Content-Length", "0"), ("Content-Type", "text/html"), ("Cache-Control", "max-age=9")]))
        #expect(merged.map { "\($0.name)=\($0.value)" } == [
            "Content-Type=text/plain", "Content-Length=5", "ETag=\"1\"", "X-Keep=k", "X-A=new", "Cache-Control=max-age=9",
        ])
    }

    @Test func rfc9211_cacheStatusValues() {
        #expect(CacheStatus(.hit(.memory), ttl: 30).value() == "moxy; hit; ttl=30")
        #expect(CacheStatus(.stored(nil), forward: .uriMiss, forwardStatus: 200).value() == "moxy; fwd=uri-miss; fwd-status=200; stored")
        #expect(CacheStatus(.notStored(nil), forward: .varyMiss, collapsed: true).value() == "moxy; fwd=vary-miss; collapsed")
        #expect(CacheStatus(.stale(.ifError), forward: .stale, forwardStatus: 503).value() == "moxy; hit; fwd=stale; fwd-status=503; detail=stale-if-error")
        #expect(CacheStatus(.notStored(nil), forward: .bypass, key: "a \"b\"").value() == "moxy; fwd=bypass; key=\"a \\\"b\\\"\"")
    }

    @Test func malformedFieldsNeverCrashTheParsers() {
        let junk = ["", ",", "=", "\"", "max-age=\"", "a=\"\\", "no-cache=\"unterminated", String(repeating: "x=1,", count: 5000), "\u{0}\u{7f}ÿ"]
        for value in junk {
            // None of these values says anything valid: each parser must conclude "nothing".
            // An invalid max-age reads as 0 (stale), never as a lifetime.
            #expect((CacheControl([value]).seconds("max-age") ?? 0) == 0, "\(value)")
            let directives = RequestDirectives(headers: [(name: "Cache-Control", value: value)])
            #expect((directives.maxAge ?? 0) == 0 && directives.maxStale == nil && !directives.noStore, "\(value)")
            #expect(ByteRange.parse(value, length: 100) == .ignored, "\(value)")
            #expect(!Validators.notModified(requestHeaders: [(name: "If-None-Match", value: value)], etag: "\"a\"", lastModified: 1), "\(value)")
            #expect(HTTPDate.parse(value) == nil, "\(value)")
            // An invalid Expires means "already expired" (§5.3): nothing without other freshness is stored.
            let decision = StoragePolicy().evaluate(
                status: 200, headers: [(name: "Cache-Control", value: value), (name: "Age", value: value), (name: "Expires", value: value)],
                requestTime: 0, responseTime: 0)
            #expect(!decision.isStore, "\(value)")
        }
        // Ten thousand fields: the first max-age (0) wins, so nothing is stored.
        let many = (0..<10_000).map { (name: "Cache-Control", value: "max-age=\($0)") }
        #expect(StoragePolicy().evaluate(status: 200, headers: many, requestTime: 0, responseTime: 0) == .doNotStore(.stale))
    }
}
