// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxyHTTP
import NIOCore
import NIOHTTP1
@_spi(Fuzzing) @testable import MoxyServer
import Testing

/// The pure parts of operating Moxy: reading `Cache-Status` into a cache result, access log
/// lines, admin credentials and forms.
@Suite struct OperationsUnitTests {
    /// Each typed outcome, the `Cache-Status` text it renders (as before the outcome was typed) and
    /// the metrics label it counts under.
    @Test func cacheResultsFromCacheStatus() {
        let cases: [(CacheStatus, String, CacheResult, Bool)] = [
            (CacheStatus(.hit(.memory), ttl: 5), "moxy; hit; ttl=5", .hit, false),
            (CacheStatus(.hit(.disk), ttl: 600), "moxy; hit; ttl=600; detail=disk", .hit, false),
            (CacheStatus(.hit(.memory)), "moxy; hit", .hit, false),
            (CacheStatus(.stale(.whileRevalidate), ttl: -3), "moxy; hit; ttl=-3; detail=stale-while-revalidate", .stale, false),
            (CacheStatus(.stale(.maxStale), ttl: 0), "moxy; hit; ttl=0; detail=max-stale", .stale, false),
            (CacheStatus(.stale(.ifError), forward: .stale, forwardStatus: 503), "moxy; hit; fwd=stale; fwd-status=503; detail=stale-if-error", .stale, false),
            (
                CacheStatus(.lastGood(.invalidBody(rule: "no error")), forward: .uriMiss, forwardStatus: 200),
                "moxy; hit; fwd=uri-miss; fwd-status=200; detail=\"INVALID-BODY:no error\"", .stale, true
            ),
            (CacheStatus(.lastGood(.upstreamStatus), forward: .stale, forwardStatus: 500), "moxy; hit; fwd=stale; fwd-status=500; detail=UPSTREAM-STATUS", .stale, true),
            (CacheStatus(.lastGood(.invalidBody(rule: "not-wp-error")), forwardStatus: 200, ttl: -4), "moxy; hit; fwd-status=200; ttl=-4; detail=INVALID-BODY:not-wp-error", .stale, true),
            (CacheStatus(.lastGood(.upstreamError(code: "timeout")), ttl: -4), "moxy; hit; ttl=-4; detail=UPSTREAM-ERROR:timeout", .stale, true),
            (CacheStatus(.stored(nil), forward: .uriMiss, forwardStatus: 200), "moxy; fwd=uri-miss; fwd-status=200; stored", .miss, false),
            (CacheStatus(.stored(.streamed), forward: .uriMiss, forwardStatus: 200), "moxy; fwd=uri-miss; fwd-status=200; stored; detail=streamed", .miss, false),
            (CacheStatus(.stored(nil), forward: .varyMiss, forwardStatus: 200, collapsed: true), "moxy; fwd=vary-miss; fwd-status=200; stored; collapsed", .miss, false),
            (CacheStatus(.notStored(nil), forward: .stale, forwardStatus: 304), "moxy; fwd=stale; fwd-status=304", .revalidated, false),
            (CacheStatus(.stored(nil), forward: .request, forwardStatus: 304), "moxy; fwd=request; fwd-status=304; stored", .revalidated, false),
            (CacheStatus(.stored(nil), forward: .stale, forwardStatus: 200), "moxy; fwd=stale; fwd-status=200; stored", .miss, false),
            (CacheStatus(.notStored(.error("timeout")), forward: .uriMiss), "moxy; fwd=uri-miss; detail=timeout", .miss, false),
            (CacheStatus(.notStored(.policy(.noStore)), forward: .uriMiss, forwardStatus: 200), "moxy; fwd=uri-miss; fwd-status=200; detail=no-store", .miss, false),
            (CacheStatus(.notStored(.invalid(.upstreamStatus)), forward: .uriMiss, forwardStatus: 502), "moxy; fwd=uri-miss; fwd-status=502; detail=UPSTREAM-STATUS", .miss, false),
            (CacheStatus(.notStored(nil), forward: .bypass, forwardStatus: 201), "moxy; fwd=bypass; fwd-status=201", .bypass, false),
            (CacheStatus(.notStored(.methodOverride), forward: .bypass, forwardStatus: 200), "moxy; fwd=bypass; fwd-status=200; detail=method-override", .bypass, false),
            (CacheStatus(.stored(.hitForMiss), forward: .bypass, forwardStatus: 200), "moxy; fwd=bypass; fwd-status=200; stored; detail=hit-for-miss", .bypass, false),
            (CacheStatus(.notStored(nil), forward: .bypass, forwardStatus: 304), "moxy; fwd=bypass; fwd-status=304", .bypass, false),
            (CacheStatus(.answered("not-found")), "moxy; detail=not-found", .none, false),
        ]
        for (status, text, result, lastGood) in cases {
            #expect(status.value() == text)
            let read = CacheResult.of(status)
            #expect(read.result == result, "\(status.value())")
            #expect(read.lastGood == lastGood, "\(status.value())")
        }
    }

    static func line(mode: RequestMode = .route, uri: String = "/a/b?token=secret") -> RequestRecord {
        var record = RequestRecord(method: .GET, mode: mode, uri: uri, status: 200, bytes: 1234)
        record.logFields = AccessLogFields(mode: mode, route: "api", host: mode == .signed ? nil : "origin.test")
        return record
    }

    static func format(
        _ line: RequestRecord, time: Int64 = 1_796_136_895_123, _ configuration: AccessLogConfiguration = AccessLogConfiguration()
    ) -> String {
        var formatter = AccessLogFormatter(configuration: configuration)
        var bytes = ByteBuffer()
        formatter.append(line, cache: .hit, client: AccessLogClient("127.0.0.1"), nanoseconds: 1_250_000, timeMilliseconds: time, to: &bytes)
        return String(buffer: bytes)
    }

    @Test func accessLogNumbersAndCopiesOfEveryLength() {
        func number(_ value: Int) -> String {
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { scratch in
                var cursor = AccessLogFormatter.Cursor(scratch.baseAddress!)
                AccessLogFormatter.appendNumber(value, to: &cursor)
                return String(decoding: UnsafeBufferPointer(start: scratch.baseAddress, count: cursor.count), as: UTF8.self)
            }
        }
        for value in [0, 7, 9, 10, 99, 100, 404, 12_345, 1 << 40, Int.max, -1, -10, Int.min] {
            #expect(number(value) == String(value))
        }
        // Lengths around every branch of the copy (bytes, 4-byte words, 8-byte words, memcpy), at
        // an odd offset, with the bytes on either side left alone.
        for length in 0...40 {
            let source = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
            let written = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { scratch -> [UInt8] in
                scratch.initialize(repeating: 0xEE)
                var cursor = AccessLogFormatter.Cursor(scratch.baseAddress!)
                cursor.put(UInt8(ascii: "<"))
                cursor.put(source)
                cursor.put(UInt8(ascii: ">"))
                #expect(cursor.count == length + 2)
                return Array(scratch)
            }
            #expect(Array(written[0..<(length + 2)]) == [UInt8(ascii: "<")] + source + [UInt8(ascii: ">")])
            #expect(written[(length + 2)...].allSatisfy { $0 == 0xEE })
        }
    }

    @Test func accessLogLinesInLogfmtAndJSON() {
        #expect(
            Self.format(Self.line())
                == "time=2026-12-01T14:54:55.123Z client=127.0.0.1 method=GET mode=route route=api host=origin.test path=/a/b status=200 bytes=1234 cache=hit duration_ms=1.2\n")
        #expect(
            Self.format(Self.line(uri: "/q\"x"), AccessLogConfiguration(format: .json))
                == #"{"time":"2026-12-01T14:54:55.123Z","client":"127.0.0.1","method":"GET","mode":"route","route":"api","host":"origin.test","path":"/q\"x","status":200,"bytes":1234,"cache":"hit","duration_ms":1.2}"# + "\n")
        var upstream = Self.line(mode: .signed)
        upstream.target = "https://user@[2001:db8::1]:8443/a.png?x"
        let trace = UpstreamTrace()
        trace.record(status: 304, nanoseconds: 12_345_678)
        upstream.trace = trace
        #expect(
            Self.format(upstream, time: 5)
                == "time=1970-01-01T00:00:00.005Z client=127.0.0.1 method=GET mode=signed route=api host=2001:db8::1 status=200 bytes=1234 cache=hit upstream_status=304 upstream_ms=12.3 duration_ms=1.2\n")
    }

    @Test func signedPathsAndQueriesStayOutOfTheLogUnlessAsked() {
        #expect(AccessLog.loggedTarget("/sig/encoded-target", mode: .signed, full: false) == nil)
        #expect(AccessLog.loggedTarget("/a?key=secret", mode: .route, full: false) == "/a")
        #expect(AccessLog.loggedTarget("/a?key=secret", mode: .route, full: true) == "/a?key=secret")
        func logfmt(_ text: String) -> String {
            var bytes: [UInt8] = []
            AccessLogFormatter.appendText(text, json: false, to: &bytes)
            return String(decoding: bytes, as: UTF8.self)
        }
        #expect(logfmt("two words") == "\"two words\"")
        #expect(logfmt("") == "\"\"")
        #expect(logfmt("a=b") == "\"a=b\"")
        #expect(logfmt("new\nline") == "\"new\\nline\"")
        #expect(AccessLogFormatter.host(ofURL: "http://h.example:80/x") == "h.example")
        #expect(AccessLogFormatter.host(ofURL: "not a url") == nil)
    }

    @Test func adminCredentials() {
        #expect(AdminWire.offeredToken("Bearer abc") == Array("abc".utf8))
        #expect(AdminWire.offeredToken("bearer abc") == Array("abc".utf8))
        // "moxy:s3cret-token" in base64.
        #expect(AdminWire.offeredToken("Basic bW94eTpzM2NyZXQtdG9rZW4=") == Array("s3cret-token".utf8))
        #expect(AdminWire.offeredToken("Basic !!!") == nil)
        #expect(AdminWire.offeredToken("Digest abc") == nil)
        #expect(AdminWire.offeredToken(nil) == nil)
        // FuzzAdminWire: a token starting with a combining mark (U+031F) fused with the space.
        #expect(AdminWire.offeredToken("Bearer \u{031F}x") == Array("\u{031F}x".utf8))
        #expect(AdminWire.offeredToken("Bearer ") == nil && AdminWire.offeredToken("Bearer") == nil)
        #expect(AdminWire.constantTimeEqual(Array("same".utf8), Array("same".utf8)))
        #expect(!AdminWire.constantTimeEqual(Array("same".utf8), Array("sam".utf8)))
        #expect(Base64.decode("YQ==") == [97])
        #expect(Base64.decode("YWI=") == [97, 98])
        #expect(Base64.decode("YWJj") == [97, 98, 99])
    }

    @Test func formsAndURLsOfPurges() {
        let form = AdminWire.form("url=http%3A%2F%2Fh%2Fa%20b&soft=1&tag=a+b&empty")
        #expect(form.map(\.name) == ["url", "soft", "tag", "empty"])
        #expect(form.map(\.value) == ["http://h/a b", "1", "a b", ""])
        #expect(AdminAPI.split("http://h:8080/p?q") == ("h:8080", "/p?q"))
        #expect(AdminAPI.split("https://h") == ("h", "/"))
        #expect(AdminAPI.split("/p") == (nil, "/p"))
    }

    @Test func iso8601Times() {
        #expect(HTTPDate.formatISO8601(milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(HTTPDate.formatISO8601(milliseconds: 784_111_777_005) == "1994-11-06T08:49:37.005Z")
    }

    /// The byte scan for `://` agrees with the standard library's search it replaced.
    @Test func schemeSeparatorsAreFoundAsFirstRangeFindsThem() {
        let texts = [
            "http://a/b", "https://h:8/p?q=://x", "ftp:/x://y", "http:", "http:/", "http:/x", ":://", "://", "a:b:c://d", "no scheme",
            "", "http:///", "hté://x", "x:/", "x://",
        ]
        for text in texts {
            let expected = text.firstRange(of: "://")
            let found = TargetURL.schemeSeparator(in: text[...])
            #expect(found?.lowerBound == expected?.lowerBound && found?.upperBound == expected?.upperBound, "\(text)")
        }
    }
}

/// The status page's server-side history (issue 21: the chart was empty until the page had
/// polled for a while).
@Suite struct StatsHistoryTests {
    @Test func oneSampleAMinuteForAnHour() {
        var history = StatsHistory()
        for second in stride(from: Int64(0), through: 7_200, by: 10) {
            history.record(StatsHistory.Sample(time: 1_000 + second, total: second, hits: second / 2, served: second))
        }
        let times = history.samples.map(\.time)
        #expect(times.count == 61, "an hour of minutes, both ends: \(times.count)")
        #expect(times.first == 1_000 + 3_600 && times.last == 1_000 + 7_200)
        #expect(zip(times, times.dropFirst()).allSatisfy { $1 - $0 == 60 })
        // A clock that went back starts over.
        history.record(StatsHistory.Sample(time: 10, total: 0, hits: 0, served: 0))
        #expect(history.samples.map(\.time) == [10])
    }

    @Test func aSampleCountsHitsAndWhatTheCacheCouldServe() {
        let sample = StatsHistory.sample(time: 5, [.hit: 6, .stale: 1, .miss: 2, .revalidated: 1, .bypass: 3, .none: 4])
        #expect(sample == StatsHistory.Sample(time: 5, total: 17, hits: 7, served: 10))
    }
}
