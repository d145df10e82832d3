// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import MoxyCache
import Testing

@Suite struct StoragePolicyTests {
    let policy = StoragePolicy(defaultTTL: 600)
    let now: Int64 = 1_800_000_000

    func decide(_ headers: [(String, String)], status: Int = 200, requestTime: Int64? = nil) -> StoragePolicy.Decision {
        policy.evaluate(
            status: status,
            headers: headers.map { (name: $0.0, value: $0.1) },
            requestTime: requestTime ?? now,
            responseTime: now
        )
    }

    func lifetime(_ decision: StoragePolicy.Decision) -> Int64? {
        if case .store(let freshness) = decision { return freshness.lifetime }
        return nil
    }

    @Test(arguments: ["no-store", "private", "no-cache", "max-age=60, NO-STORE", "PRIVATE"])
    func forbiddenDirectivesAreNotStored(_ value: String) {
        #expect(lifetime(decide([("Cache-Control", value)])) == nil)
    }

    @Test func sharedMaxAgeWinsOverMaxAgeWhichWinsOverExpires() {
        let expires = HTTPDate.format(now + 50)
        let date = HTTPDate.format(now)
        #expect(lifetime(decide([("Cache-Control", "max-age=10, s-maxage=20"), ("Expires", expires), ("Date", date)])) == 20)
        #expect(lifetime(decide([("cache-control", "max-age=10"), ("Expires", expires), ("Date", date)])) == 10)
        #expect(lifetime(decide([("Expires", expires), ("Date", date)])) == 50)
    }

    @Test func invalidExpiresMeansStale() {
        #expect(decide([("Expires", "0")]) == .doNotStore(.stale))
    }

    @Test func defaultTTLAppliesWhenTheOriginSaysNothing() {
        guard case .store(let freshness) = decide([("Content-Type", "image/png")]) else {
            Issue.record("not stored")
            return
        }
        #expect(freshness.lifetime == 600)
        #expect(!freshness.isExplicit)
        #expect(StoragePolicy(defaultTTL: 0).evaluate(status: 200, headers: [], requestTime: now, responseTime: now) == .doNotStore(.stale))
    }

    @Test func ageHeaderAndDateCountTowardsTheInitialAge() {
        guard case .store(let fromAge) = decide([("Cache-Control", "max-age=100"), ("Age", "30")]) else {
            Issue.record("not stored")
            return
        }
        #expect(fromAge.initialAge == 30)
        guard case .store(let fromDate) = decide([("Cache-Control", "max-age=100"), ("Date", HTTPDate.format(now - 40))]) else {
            Issue.record("not stored")
            return
        }
        #expect(fromDate.initialAge == 40)
        #expect(decide([("Cache-Control", "max-age=100"), ("Age", "100")]) == .doNotStore(.stale))
    }

    @Test func onlyOKIsStoredAndVaryStarNever() {
        #expect(lifetime(decide([("Cache-Control", "max-age=100")], status: 404)) == nil)
        #expect(lifetime(decide([("Cache-Control", "max-age=100")], status: 206)) == nil)
        #expect(lifetime(decide([("Cache-Control", "max-age=100"), ("Vary", "Accept, *")])) == nil)
    }

    @Test func cacheControlParsing() {
        let parsed = CacheControl(["Max-Age=\"30\", foo=\"a,b\", no-transform", "max-age=99, s-maxage=abc"])
        #expect(parsed.seconds("max-age") == 30)  // first occurrence wins
        #expect(parsed.has("no-transform"))
        #expect(parsed.seconds("s-maxage") == 0)  // invalid value is the safe zero
        #expect(parsed.directives["foo"] == .some("a,b"))
        #expect(CacheControl(["max-age=99999999999999"]).seconds("max-age") == 2_147_483_648)
    }
}
