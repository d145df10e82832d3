// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import MoxyCache
import MoxyServer
import MoxyTestSupport
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import Testing

/// RFC 9111 / 9211 / 5861 behaviour of origin routes, proved by the origin's request counts.
@Suite struct HTTPCacheTests {
    static func run(
        cache: CacheOverrides = CacheOverrides(),
        configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: (MoxyHarness) async throws -> Void
    ) async throws {
        try await MoxyHarness.run(configure: configure, routes: { [try originRoute($0, cache: cache)] }, body)
    }

    @Test func withoutFreshnessNothingIsStoredUnlessTheRouteSetsADefault() async throws {
        try await Self.run { moxy in
            moxy.origin.route("/plain", text("x"))
            for _ in 0..<2 { _ = try await moxy.request("/plain") }
            #expect(moxy.origin.count("/plain") == 2)
            let last = try await moxy.request("/plain")
            #expect(last.header("cache-status")?.contains("detail=no-freshness") == true)
        }
        try await Self.run(cache: CacheOverrides(defaultTTL: 60)) { moxy in
            moxy.origin.route("/plain", text("x"))
            for _ in 0..<2 { _ = try await moxy.request("/plain") }
            #expect(moxy.origin.count("/plain") == 1)
        }
    }

    @Test func heuristicFreshnessComesFromLastModified() async throws {
        try await Self.run { moxy in
            let tenDaysAgo = HTTPDate.format(moxy.clock.now() - 10 * 86_400)
            moxy.origin.route("/old", text("old", [("Last-Modified", tenDaysAgo)]))
            _ = try await moxy.request("/old")
            let hit = try await moxy.request("/old")
            // 10 % of ten days is a day; the default heuristic cap is a day.
            #expect(hit.header("cache-status")?.hasPrefix("moxy; hit; ttl=86") == true)
            #expect(moxy.origin.count("/old") == 1)
            // Not for statuses that are not heuristically cacheable.
            moxy.origin.route("/created", text("c", status: 201, [("Last-Modified", tenDaysAgo)]))
            for _ in 0..<2 { _ = try await moxy.request("/created") }
            #expect(moxy.origin.count("/created") == 2)
        }
    }

    @Test func varyMakesOneVariantPerNormalisedFieldValue() async throws {
        try await Self.run { moxy in
            moxy.origin.respond("/v") { request in
                text(request.headers.first(name: "accept-language") ?? "none", [("Cache-Control", "max-age=60"), ("Vary", "Accept-Language")])
            }
            let en = try await moxy.request("/v", headers: [("Accept-Language", "en,  fr")])
            #expect(en.text == "en,  fr")
            #expect(en.header("cache-status") == "moxy; fwd=uri-miss; fwd-status=200; stored")
            let de = try await moxy.request("/v", headers: [("accept-language", "de")])
            #expect(de.text == "de")
            #expect(de.header("cache-status") == "moxy; fwd=vary-miss; fwd-status=200; stored")
            let enAgain = try await moxy.request("/v", headers: [("Accept-Language", "en, fr")])
            #expect(enAgain.text == "en,  fr")
            #expect(enAgain.header("cache-status")?.hasPrefix("moxy; hit") == true)
            let none = try await moxy.request("/v")
            #expect(none.text == "none")
            #expect(moxy.origin.count("/v") == 3)
            moxy.origin.route("/star", text("s", [("Cache-Control", "max-age=60"), ("Vary", "*")]))
            for _ in 0..<2 { _ = try await moxy.request("/star") }
            #expect(moxy.origin.count("/star") == 2)
        }
    }

    @Test func staleEntriesAreRevalidatedAndA304FreshensThem() async throws {
        try await Self.run { moxy in
            moxy.origin.respond("/doc") { request in
                if request.headers.first(name: "if-none-match") == "\"v1\"" {
                    return OriginRoute(status: 304, headers: [("ETag", "\"v1\""), ("Cache-Control", "max-age=60"), ("X-Version", "2")], body: [])
                }
                return text("body-v1", [("ETag", "\"v1\""), ("Cache-Control", "max-age=1"), ("X-Version", "1")])
            }
            _ = try await moxy.request("/doc")
            try await moxy.advance(seconds: 2.1)
            let revalidated = try await moxy.request("/doc")
            #expect(revalidated.status == 200 && revalidated.text == "body-v1")
            #expect(revalidated.header("x-version") == "2")
            #expect(revalidated.header("content-length") == "7")
            #expect(revalidated.header("cache-status") == "moxy; fwd=stale; fwd-status=304; stored")
            let hit = try await moxy.request("/doc")
            #expect(hitTTL(hit).map { (59...60).contains($0) } == true)
            #expect(hit.header("x-version") == "2")
            let requests = moxy.origin.requests("/doc")
            #expect(requests.count == 2)
            #expect(requests.last?.headers.first(name: "if-none-match") == "\"v1\"")
        }
    }

    @Test func clientConditionalsAreAnsweredFromAFreshEntry() async throws {
        try await Self.run { moxy in
            let modified = HTTPDate.format(moxy.clock.now() - 3600)
            moxy.origin.route("/c", text("content", [("Cache-Control", "max-age=60"), ("ETag", "W/\"e1\""), ("Last-Modified", modified)]))
            _ = try await moxy.request("/c")
            let match = try await moxy.request("/c", headers: [("If-None-Match", "\"x\", \"e1\"")])
            #expect(match.status == 304 && match.body.isEmpty)
            #expect(match.header("etag") == "W/\"e1\"")
            #expect(match.header("cache-status")?.hasPrefix("moxy; hit") == true)
            let other = try await moxy.request("/c", headers: [("If-None-Match", "\"e2\"")])
            #expect(other.status == 200 && other.text == "content")
            let since = try await moxy.request("/c", headers: [("If-Modified-Since", HTTPDate.format(moxy.clock.now()))])
            #expect(since.status == 304)
            let before = try await moxy.request("/c", headers: [("If-Modified-Since", HTTPDate.format(moxy.clock.now() - 7200))])
            #expect(before.status == 200)
            #expect(moxy.origin.count("/c") == 1)
        }
    }

    @Test func rangesAreServedFromTheStoredObject() async throws {
        try await Self.run { moxy in
            let modified = HTTPDate.format(moxy.clock.now() - 3600)
            moxy.origin.route("/r", text("0123456789", [("Cache-Control", "max-age=60"), ("ETag", "\"r1\""), ("Last-Modified", modified)]))
            _ = try await moxy.request("/r")
            let cases: [(String, Int, String, String?)] = [
                ("bytes=2-4", 206, "234", "bytes 2-4/10"),
                ("bytes=-3", 206, "789", "bytes 7-9/10"),
                ("bytes=8-", 206, "89", "bytes 8-9/10"),
                ("bytes=5-100", 206, "56789", "bytes 5-9/10"),
                ("bytes=10-", 416, "", "bytes */10"),
                ("bytes=0-1,4-5", 200, "0123456789", nil),
                ("items=0-1", 200, "0123456789", nil),
                ("bytes=5-2", 200, "0123456789", nil),
            ]
            for (range, status, body, contentRange) in cases {
                let response = try await moxy.request("/r", headers: [("Range", range)])
                #expect(response.status == status, "\(range)")
                #expect(response.text == body, "\(range)")
                #expect(response.header("content-range") == contentRange, "\(range)")
            }
            let ifRangeMatch = try await moxy.request("/r", headers: [("Range", "bytes=0-0"), ("If-Range", "\"r1\"")])
            #expect(ifRangeMatch.status == 206 && ifRangeMatch.text == "0")
            let ifRangeOld = try await moxy.request("/r", headers: [("Range", "bytes=0-0"), ("If-Range", "\"r0\"")])
            #expect(ifRangeOld.status == 200 && ifRangeOld.text == "0123456789")
            let ifRangeDate = try await moxy.request("/r", headers: [("Range", "bytes=1-1"), ("If-Range", modified)])
            #expect(ifRangeDate.status == 206 && ifRangeDate.text == "1")
            #expect(moxy.origin.count("/r") == 1)
            // An upstream 206 is passed through and never stored as the full object.
            moxy.origin.route("/partial", OriginRoute(status: 206, headers: [("Content-Range", "bytes 0-1/4"), ("Cache-Control", "max-age=60")], body: Array("ab".utf8)))
            for _ in 0..<2 {
                let partial = try await moxy.request("/partial")
                #expect(partial.status == 206 && partial.text == "ab")
            }
            #expect(moxy.origin.count("/partial") == 2)
        }
    }

    @Test func staleWhileRevalidateServesStaleAndRefreshesInTheBackground() async throws {
        try await Self.run { moxy in
            let version = NIOLockedValueBoxInt()
            moxy.origin.respond("/swr") { _ in
                text("v\(version.next())", [("Cache-Control", "max-age=1, stale-while-revalidate=30")])
            }
            do {
                let checked = try await moxy.request("/swr")
                #expect(checked.text == "v1")
            }
            try await moxy.advance(seconds: 2.1)
            let stale = try await moxy.request("/swr")
            #expect(stale.text == "v1")
            #expect(stale.header("cache-status")?.contains("detail=stale-while-revalidate") == true)
            // One background refresh, and it has stored its answer.
            try await moxy.waitForUpstreamWork()
            #expect(moxy.origin.count("/swr") == 2)
            let refreshed = try await moxy.request("/swr")
            #expect(refreshed.text == "v2")
            #expect(refreshed.header("cache-status")?.hasPrefix("moxy; hit") == true)
        }
    }

    @Test func staleIfErrorServesStaleOn5xxAndTimeoutsButNotPastItsWindow() async throws {
        try await Self.run(configure: { $0.upstream.readTimeout = 0.5 }) { moxy in
            moxy.origin.route("/e", text("good", [("Cache-Control", "max-age=1, stale-if-error=60")]))
            moxy.origin.route("/must", text("good", [("Cache-Control", "max-age=1, must-revalidate")]))
            moxy.origin.route("/t", text("good", [("Cache-Control", "max-age=1, stale-if-error=60")]))
            // The 0.5 s read timeout is for "/t"; a fill it cut on a stalled machine is repeated.
            for path in ["/e", "/must", "/t"] {
                for _ in 0..<5 where try await moxy.request(path).header("cache-status")?.contains("stored") != true {}
            }
            try await moxy.advance(seconds: 2.1)
            moxy.origin.route("/e", text("broken", status: 503))
            moxy.origin.route("/must", text("broken", status: 503))
            moxy.origin.route("/t", OriginRoute(headers: [("Content-Type", "text/plain")], body: Array("late".utf8), delay: .seconds(60)))
            let served = try await moxy.request("/e")
            #expect(served.status == 200 && served.text == "good")
            #expect(served.header("cache-status") == "moxy; hit; fwd=stale; fwd-status=503; ttl=-\(try #require(Int(served.header("age") ?? "")) - 1); detail=stale-if-error")
            let must = try await moxy.request("/must")
            #expect(must.status == 503 && must.text == "broken")
            let timedOut = try await moxy.request("/t")
            #expect(timedOut.status == 200 && timedOut.text == "good")
            #expect(timedOut.header("cache-status")?.contains("detail=stale-if-error") == true)
        }
    }

    @Test func routeStaleWindowAndMaxStaleCap() async throws {
        try await Self.run(cache: CacheOverrides(staleIfError: 60, maxStale: 3)) { moxy in
            moxy.origin.route("/w", text("good", [("Cache-Control", "max-age=1")]))
            _ = try await moxy.request("/w")
            try await moxy.advance(seconds: 2.1)
            moxy.origin.route("/w", text("broken", status: 500))
            // Stale by one or two seconds: inside the cap.
            let first = try await moxy.request("/w")
            #expect(first.text == "good")
            try await moxy.advance(seconds: 3.1)
            let capped = try await moxy.request("/w")
            #expect(capped.status == 500)
        }
    }

    @Test func requestDirectivesAreHonoured() async throws {
        try await Self.run { moxy in
            moxy.origin.route("/d", text("d", [("Cache-Control", "max-age=60"), ("ETag", "\"d\"")]))
            let notCached = try await moxy.request("/d", headers: [("Cache-Control", "only-if-cached")])
            #expect(notCached.status == 504)
            #expect(moxy.origin.count("/d") == 0)
            _ = try await moxy.request("/d")
            let cached = try await moxy.request("/d", headers: [("Cache-Control", "only-if-cached")])
            #expect(cached.status == 200)
            let noCache = try await moxy.request("/d", headers: [("Cache-Control", "no-cache")])
            #expect(noCache.header("cache-status")?.hasPrefix("moxy; fwd=request; fwd-status=200") == true)
            #expect(moxy.origin.requests("/d").last?.headers.first(name: "if-none-match") == "\"d\"")
            _ = try await moxy.request("/d", headers: [("Pragma", "no-cache")])
            #expect(moxy.origin.count("/d") == 3)
            _ = try await moxy.request("/d", headers: [("Pragma", "no-cache"), ("Cache-Control", "max-age=600")])
            #expect(moxy.origin.count("/d") == 3)
            _ = try await moxy.request("/d", headers: [("Cache-Control", "max-age=0")])
            #expect(moxy.origin.count("/d") == 4)
            _ = try await moxy.request("/d", headers: [("Cache-Control", "min-fresh=3600")])
            #expect(moxy.origin.count("/d") == 5)
            // §5.2.1.5: a request's no-store keeps its response out of the cache.
            moxy.origin.route("/ns", text("ns", [("Cache-Control", "max-age=60")]))
            let noStore = try await moxy.request("/ns", headers: [("Cache-Control", "no-store")])
            #expect(noStore.status == 200 && noStore.text == "ns")
            #expect(noStore.header("cache-status")?.contains("stored") == false)
            let after = try await moxy.request("/ns")
            #expect(after.header("cache-status") == "moxy; fwd=uri-miss; fwd-status=200; stored")
            #expect(moxy.origin.count("/ns") == 2)
        }
        try await Self.run(cache: CacheOverrides(honorRequestDirectives: false)) { moxy in
            moxy.origin.route("/d", text("d", [("Cache-Control", "max-age=60")]))
            _ = try await moxy.request("/d")
            _ = try await moxy.request("/d", headers: [("Cache-Control", "no-cache")])
            #expect(moxy.origin.count("/d") == 1)
        }
    }

    @Test func noCacheResponsesAreStoredButAlwaysRevalidated() async throws {
        try await Self.run { moxy in
            moxy.origin.respond("/nc") { request in
                request.headers.first(name: "if-none-match") == "\"n\""
                    ? OriginRoute(status: 304, headers: [("ETag", "\"n\"")], body: [])
                    : text("fresh-body", [("Cache-Control", "no-cache"), ("ETag", "\"n\"")])
            }
            _ = try await moxy.request("/nc")
            let second = try await moxy.request("/nc")
            #expect(second.text == "fresh-body")
            #expect(second.header("cache-status") == "moxy; fwd=stale; fwd-status=304; stored")
            #expect(moxy.origin.count("/nc") == 2)
        }
    }

    @Test func immutableEntriesIgnoreReloadsWhileFresh() async throws {
        try await Self.run { moxy in
            moxy.origin.route("/i", text("i", [("Cache-Control", "max-age=600, immutable")]))
            _ = try await moxy.request("/i")
            _ = try await moxy.request("/i", headers: [("Cache-Control", "max-age=0")])
            #expect(moxy.origin.count("/i") == 1)
            _ = try await moxy.request("/i", headers: [("Cache-Control", "no-cache")])
            #expect(moxy.origin.count("/i") == 2)
        }
    }

    @Test func uncacheableKeysAreFetchedInParallelAfterTheFirst() async throws {
        try await Self.run { moxy in
            moxy.origin.route("/u", OriginRoute(headers: [("Content-Type", "text/plain"), ("Cache-Control", "private")], body: Array("u".utf8)))
            _ = try await moxy.request("/u")
            // The origin answers only once all five are in progress: parallel by construction, not by timing.
            moxy.origin.holdResponses(untilInFlight: 5)
            let statuses = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<5 { group.addTask { try await moxy.request("/u").header("cache-status") ?? "" } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == "moxy; fwd=bypass; fwd-status=200; detail=private" })
            #expect(moxy.origin.peakConcurrency == 5)
            #expect(moxy.origin.count("/u") == 6)
        }
    }

    @Test func hitForMissCanBeTurnedOff() async throws {
        var cache = CacheOverrides()
        cache.hitForMiss = 0
        try await Self.run(cache: cache) { moxy in
            moxy.origin.route("/p", text("p", [("Cache-Control", "private")]))
            for _ in 0..<2 {
                let response = try await moxy.request("/p")
                #expect(response.header("cache-status") == "moxy; fwd=uri-miss; fwd-status=200; detail=private")
            }
        }
    }

    @Test func concurrentMissesForACacheableKeyCollapse() async throws {
        try await Self.run { moxy in
            moxy.origin.route("/k", OriginRoute(headers: [("Content-Type", "text/plain"), ("Cache-Control", "max-age=60")], body: Array("k".utf8)))
            // The origin answers once the other nine wait behind the first: collapsed by construction.
            moxy.origin.holdResponses(until: { moxy.server.coalescedWaiters >= 9 })
            let statuses = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<10 { group.addTask { try await moxy.request("/k").header("cache-status") ?? "" } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(moxy.origin.count("/k") == 1)
            #expect(statuses.filter { $0.hasSuffix("collapsed") }.count == 9)
        }
    }

    @Test func authorizationAndCookiesAreStoredOnlyWhenAllowed() async throws {
        try await Self.run { moxy in
            moxy.origin.route("/auth", text("a", [("Cache-Control", "max-age=60")]))
            moxy.origin.route("/auth-public", text("a", [("Cache-Control", "public, max-age=60")]))
            moxy.origin.route("/cookie", text("c", [("Cache-Control", "max-age=60"), ("Set-Cookie", "s=1")]))
            for path in ["/auth", "/auth-public"] {
                for _ in 0..<2 { _ = try await moxy.request(path, headers: [("Authorization", "Bearer t")]) }
            }
            #expect(moxy.origin.count("/auth") == 2)
            #expect(moxy.origin.count("/auth-public") == 1)
            for _ in 0..<2 { _ = try await moxy.request("/cookie") }
            #expect(moxy.origin.count("/cookie") == 2)
        }
        try await Self.run(cache: CacheOverrides(ignoreSetCookie: true)) { moxy in
            moxy.origin.route("/cookie", text("c", [("Cache-Control", "max-age=60"), ("Set-Cookie", "s=1")]))
            _ = try await moxy.request("/cookie")
            let hit = try await moxy.request("/cookie")
            #expect(hit.header("set-cookie") == nil)
            #expect(moxy.origin.count("/cookie") == 1)
        }
    }

    @Test func perStatusTTLAndLifetimeBounds() async throws {
        try await Self.run(cache: CacheOverrides(minTTL: 30, maxTTL: 120, statusTTL: [404: 45])) { moxy in
            moxy.origin.route("/missing", text("no", status: 404))
            moxy.origin.route("/short", text("s", [("Cache-Control", "max-age=5")]))
            moxy.origin.route("/long", text("l", [("Cache-Control", "max-age=86400")]))
            moxy.origin.route("/error", text("e", status: 500))
            for path in ["/missing", "/short", "/long", "/error"] { _ = try await moxy.request(path) }
            do {
                let checked = try await moxy.request("/missing")
                #expect(hitTTL(checked).map { (44...45).contains($0) } == true)
            }
            do {
                let checked = try await moxy.request("/short")
                #expect(hitTTL(checked).map { (29...30).contains($0) } == true)
            }
            do {
                let checked = try await moxy.request("/long")
                #expect(hitTTL(checked).map { (119...120).contains($0) } == true)
            }
            _ = try await moxy.request("/error")
            #expect(moxy.origin.count("/error") == 2)
        }
    }

    @Test func headIsAnsweredFromTheStoredGetAndKeysCanBeShown() async throws {
        try await Self.run(configure: { $0.cacheStatusKey = true }) { moxy in
            moxy.origin.route("/h", text("hello", [("Cache-Control", "max-age=60")]))
            // Nothing stored: the HEAD goes upstream as HEAD (and stores nothing).
            let head = try await moxy.request("/h", method: .HEAD)
            #expect(head.status == 200 && head.body.isEmpty && head.header("content-length") == "5")
            let get = try await moxy.request("/h")
            #expect(get.text == "hello")
            #expect(get.header("cache-status")?.contains("key=\"route:origin  /h\"") == true)
            // Stored: the HEAD is answered from the GET.
            let stored = try await moxy.request("/h", method: .HEAD)
            #expect(stored.header("cache-status")?.hasPrefix("moxy; hit") == true && stored.header("content-length") == "5")
            #expect(moxy.origin.requests("/h").map(\.method) == [.HEAD, .GET])
        }
    }
}

/// A counter for origin responders.
final class NIOLockedValueBoxInt: Sendable {
    private let value = NIOLockedValueBox(0)
    func next() -> Int { value.withLockedValue { $0 += 1; return $0 } }
}

/// Polls a condition for up to five seconds.

/// The `ttl` of a `moxy; hit; ttl=N` Cache-Status (ages are whole seconds, so a test that crosses a
/// second boundary sees one less).
func hitTTL(_ response: TestResponse) -> Int64? {
    guard let value = response.header("cache-status"), value.hasPrefix("moxy; hit; ttl=") else { return nil }
    return Int64(value.dropFirst("moxy; hit; ttl=".count))
}
