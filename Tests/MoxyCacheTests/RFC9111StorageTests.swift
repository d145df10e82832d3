// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import MoxyCache
import Testing

/// RFC 9111 §3 and §4.2 storage and freshness rules for origin routes (plain RFC 9111 overrides).
@Suite struct RFC9111StorageTests {
    let now: Int64 = 1_800_000_000

    func decide(
        _ headers: [(String, String)],
        status: Int = 200,
        request: [(String, String)] = [],
        method: String = "GET",
        overrides: CacheOverrides = CacheOverrides()
    ) -> StoragePolicy.Decision {
        StoragePolicy(overrides: overrides).evaluate(
            method: method,
            requestHeaders: request.map { (name: $0.0, value: $0.1) },
            status: status,
            headers: headers.map { (name: $0.0, value: $0.1) },
            requestTime: now,
            responseTime: now
        )
    }

    func freshness(_ decision: StoragePolicy.Decision) -> Freshness? {
        if case .store(let freshness) = decision { return freshness }
        return nil
    }

    func reason(_ decision: StoragePolicy.Decision) -> String? {
        if case .doNotStore(let reason) = decision { return reason.rawValue }
        return nil
    }

    @Test func sec3_onlyGETResponsesAreStored() {
        #expect(reason(decide([("Cache-Control", "max-age=60")], method: "POST")) == "method")
        #expect(freshness(decide([("Cache-Control", "max-age=60")])) != nil)
    }

    @Test(arguments: [206, 304, 100, 101, 199, 600, 0])
    func sec3_partialNotModifiedAndNonFinalStatusesAreNeverStored(status: Int) {
        #expect(reason(decide([("Cache-Control", "max-age=60")], status: status)) == "status")
    }

    @Test(arguments: [201, 202, 302, 303, 307, 400, 403, 500, 503])
    func sec3_anyFinalStatusIsStoredWithExplicitFreshness(status: Int) {
        #expect(freshness(decide([("Cache-Control", "max-age=60")], status: status))?.lifetime == 60)
        #expect(reason(decide([], status: status)) == "no-freshness")
    }

    @Test func sec4_2_2_heuristicsOnlyForHeuristicallyCacheableStatusesWithoutExplicitExpiration() {
        let modified = HTTPDate.format(now - 1000)
        #expect(freshness(decide([("Last-Modified", modified)]))?.lifetime == 100)
        #expect(freshness(decide([("Last-Modified", modified)]))?.isExplicit == false)
        #expect(freshness(decide([("Last-Modified", modified)], status: 404))?.lifetime == 100)
        #expect(reason(decide([("Last-Modified", modified)], status: 201)) == "no-freshness")
        // Explicit expiration wins over the heuristic, even when it is shorter.
        #expect(freshness(decide([("Last-Modified", modified), ("Cache-Control", "max-age=5")]))?.lifetime == 5)
        // The heuristic is measured from Date, and capped.
        let old = HTTPDate.format(now - 100 * 86_400)
        #expect(freshness(decide([("Last-Modified", old)]))?.lifetime == 86_400)
        #expect(freshness(decide([("Last-Modified", old)], overrides: CacheOverrides(heuristicMaxTTL: 600)))?.lifetime == 600)
        #expect(freshness(decide([("Last-Modified", modified), ("Date", HTTPDate.format(now - 500))]))?.lifetime == 50)
        // `public` makes any status heuristically storable.
        #expect(freshness(decide([("Last-Modified", modified), ("Cache-Control", "public")], status: 201))?.lifetime == 100)
    }

    @Test func sec4_2_1_sharedMaxAgeOverMaxAgeOverExpires() {
        let date = HTTPDate.format(now)
        let expires = HTTPDate.format(now + 50)
        #expect(freshness(decide([("Cache-Control", "max-age=10, s-maxage=20"), ("Expires", expires), ("Date", date)]))?.lifetime == 20)
        #expect(freshness(decide([("Cache-Control", "max-age=10"), ("Expires", expires), ("Date", date)]))?.lifetime == 10)
        #expect(freshness(decide([("Expires", expires), ("Date", date)]))?.lifetime == 50)
    }

    @Test func sec5_3_invalidExpiresMeansStale() {
        #expect(reason(decide([("Expires", "0")])) == "stale")
        #expect(reason(decide([("Expires", "yesterday-ish")])) == "stale")
        // With a validator the stale entry is kept for revalidation.
        #expect(freshness(decide([("Expires", "0"), ("ETag", "\"a\"")]))?.lifetime == 0)
    }

    @Test func sec4_2_3_ageAndDateCountTowardsTheInitialAge() {
        #expect(freshness(decide([("Cache-Control", "max-age=100"), ("Age", "30")]))?.initialAge == 30)
        #expect(freshness(decide([("Cache-Control", "max-age=100"), ("Date", HTTPDate.format(now - 40))]))?.initialAge == 40)
        #expect(freshness(decide([("Cache-Control", "max-age=100"), ("Age", "junk")]))?.initialAge == 0)
        #expect(freshness(decide([("Cache-Control", "max-age=100"), ("Age", "99999999999999")])) == nil)
        // §5.1: a list-based Age counts by its first member (the suite's age-parse-suffix): stale on arrival.
        #expect(reason(decide([("Cache-Control", "max-age=3600"), ("Age", "7200, 0")])) == "stale")
        #expect(freshness(decide([("Cache-Control", "max-age=3600"), ("Age", "30,0")]))?.initialAge == 30)
        #expect(DeltaSeconds.parseAge(" 12 , 99") == 12)
        #expect(DeltaSeconds.parseAge("x, 12") == nil)
    }

    @Test func fieldNamesMatchInAnyASCIICaseAndOnlyWhole() {
        let fields: [(name: String, value: String)] = [
            ("Cache-Control", "a"), ("CACHE-CONTROL", "b"), ("cache-controls", "c"), ("cache-contro", "d"), ("X-Cache-Control", "e"),
            ("cache-control", "f"), ("Cache_Control", "g"), ("\u{212A}eep-Alive", "h"), ("Keep-Alive", "i"),
        ]
        #expect(fields.values(named: "cache-control") == ["a", "b", "f"])
        #expect(fields.first(named: "cache-control") == "a")
        // Field names are ASCII tokens: the Kelvin sign, which `lowercased()` turns into "k", is not "K".
        #expect(fields.values(named: "keep-alive") == ["i"])
        #expect(fields.first(named: "etag") == nil)
        // "@" and "[" sit beside "A" and "Z": not folded.
        #expect(!"@".isFieldName("`") && !"[".isFieldName("{") && "AZ".isFieldName("az") && !"az".isFieldName("AZ"))
    }

    @Test func sec5_2_2_5_noStoreIsNeverStored() {
        #expect(reason(decide([("Cache-Control", "max-age=60, no-store")])) == "no-store")
        #expect(reason(decide([("Cache-Control", "max-age=60")], request: [("Cache-Control", "no-store")])) == "request-no-store")
    }

    @Test func sec5_2_2_7_privateIsNotStoredBySharedCachesUnlessOverridden() {
        #expect(reason(decide([("Cache-Control", "private, max-age=60")])) == "private")
        #expect(freshness(decide([("Cache-Control", "private, max-age=60")], overrides: CacheOverrides(ignorePrivate: true))) != nil)
        // Qualified private: store the rest, withhold the named fields.
        let qualified = freshness(decide([("Cache-Control", "private=\"X-User, Set-Cookie\", max-age=60"), ("Set-Cookie", "a=1")]))
        #expect(qualified?.withheldFields.contains("x-user") == true)
        #expect(qualified?.withheldFields.contains("set-cookie") == true)
    }

    @Test func sec5_2_2_4_noCacheIsStoredAndAlwaysRevalidated() {
        let stored = freshness(decide([("Cache-Control", "no-cache, max-age=60"), ("ETag", "\"a\"")]))
        #expect(stored?.alwaysRevalidate == true)
        #expect(reason(decide([("Cache-Control", "no-cache, max-age=60")])) == "no-cache")
        #expect(freshness(decide([("Cache-Control", "no-cache"), ("Last-Modified", HTTPDate.format(now - 100))]))?.alwaysRevalidate == true)
        let ignored = freshness(decide([("Cache-Control", "no-cache, max-age=60")], overrides: CacheOverrides(ignoreNoCache: true)))
        #expect(ignored?.alwaysRevalidate == false)
        // Qualified no-cache withholds only the named field.
        let qualified = freshness(decide([("Cache-Control", "no-cache=\"X-Token\", max-age=60")]))
        #expect(qualified?.alwaysRevalidate == false && qualified?.withheldFields == ["x-token"])
    }

    @Test func sec5_2_2_mustRevalidateProxyRevalidateAndSMaxageForbidServingStale() {
        for value in ["max-age=60, must-revalidate", "max-age=60, proxy-revalidate", "s-maxage=60"] {
            #expect(freshness(decide([("Cache-Control", value)]))?.mustRevalidate == true, "\(value)")
        }
        #expect(freshness(decide([("Cache-Control", "max-age=60")]))?.mustRevalidate == false)
    }

    @Test func rfc8246_immutableIsRecorded() {
        #expect(freshness(decide([("Cache-Control", "max-age=60, immutable")]))?.immutable == true)
    }

    @Test func sec3_5_authorizationRequiresPublicMustRevalidateOrSMaxage() {
        let auth = [("Authorization", "Bearer x")]
        #expect(reason(decide([("Cache-Control", "max-age=60")], request: auth)) == "authorization")
        for value in ["public, max-age=60", "max-age=60, must-revalidate", "s-maxage=60"] {
            #expect(freshness(decide([("Cache-Control", value)], request: auth)) != nil, "\(value)")
        }
    }

    @Test func sec4_1_varyStarIsNeverStored() {
        #expect(reason(decide([("Cache-Control", "max-age=60"), ("Vary", "Accept, *")])) == "vary-star")
        #expect(freshness(decide([("Cache-Control", "max-age=60"), ("Vary", "Accept")])) != nil)
    }

    @Test func setCookieResponsesAreStoredOnlyWhenTheOperatorSaysSo() {
        #expect(reason(decide([("Cache-Control", "max-age=60"), ("Set-Cookie", "a=1")])) == "set-cookie")
        let stored = freshness(decide([("Cache-Control", "max-age=60"), ("Set-Cookie", "a=1")], overrides: CacheOverrides(ignoreSetCookie: true)))
        #expect(stored?.withheldFields == ["set-cookie"])
    }

    @Test func rfc5861_staleWindowsComeFromTheResponseOrTheRoute() {
        let both = freshness(decide([("Cache-Control", "max-age=60, stale-while-revalidate=30, stale-if-error=600")]))
        #expect(both?.staleWhileRevalidate == 30 && both?.staleIfError == 600 && both?.staleIfErrorFromOrigin == true)
        let route = freshness(decide([("Cache-Control", "max-age=60")], overrides: CacheOverrides(staleWhileRevalidate: 5, staleIfError: 50)))
        #expect(route?.staleWhileRevalidate == 5 && route?.staleIfError == 50 && route?.staleIfErrorFromOrigin == false)
    }

    @Test func overridesDefaultTTLStatusTTLAndBounds() {
        let overrides = CacheOverrides(defaultTTL: 100, minTTL: 10, maxTTL: 1000, statusTTL: [404: 30, 500: 5])
        #expect(freshness(decide([], overrides: overrides))?.lifetime == 100)
        #expect(freshness(decide([], status: 404, overrides: overrides))?.lifetime == 30)
        #expect(freshness(decide([], status: 500, overrides: overrides))?.lifetime == 5)
        #expect(freshness(decide([("Cache-Control", "max-age=1")], overrides: overrides))?.lifetime == 10)
        #expect(freshness(decide([("Cache-Control", "max-age=99999")], overrides: overrides))?.lifetime == 1000)
        // Explicit freshness wins over the per-status TTL.
        #expect(freshness(decide([("Cache-Control", "max-age=300")], status: 404, overrides: overrides))?.lifetime == 300)
        // A status list limits what is stored, except statuses with their own TTL.
        let signed = CacheOverrides(defaultTTL: 60, statusTTL: [410: 9], cacheableStatuses: [200])
        #expect(reason(decide([("Cache-Control", "max-age=60")], status: 404, overrides: signed)) == "status")
        #expect(freshness(decide([], status: 410, overrides: signed))?.lifetime == 9)
    }

    @Test func sec4_2_1_duplicateAndConflictingDirectivesAreParsedSafely() {
        // First occurrence wins; quoted values, case and odd spacing are handled; bad numbers are zero.
        #expect(freshness(decide([("Cache-Control", "max-age=30, max-age=90")]))?.lifetime == 30)
        #expect(freshness(decide([("cache-control", "MAX-AGE=30"), ("Cache-Control", "max-age=90")]))?.lifetime == 30)
        #expect(freshness(decide([("Cache-Control", "max-age=\"45\"")]))?.lifetime == 45)
        #expect(reason(decide([("Cache-Control", "max-age=-5")])) == "stale")
        #expect(reason(decide([("Cache-Control", "max-age=1.5")])) == "stale")
        #expect(reason(decide([("Cache-Control", ",,, ;;; = max-age = , no-store")])) == "no-store")
        #expect(freshness(decide([("Cache-Control", "max-age=99999999999999999999")]))?.lifetime == 2_147_483_648)
    }
}
