// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import Testing

/// RFC 9111 §4, §4.2.4, §5.2.1, RFC 5861 and RFC 8246 reuse decisions, clock injected as ages.
@Suite struct ReusePolicyTests {
    func entry(_ lifetime: Int64 = 60, _ change: (inout Freshness) -> Void = { _ in }) -> Freshness {
        var freshness = Freshness(lifetime: lifetime, initialAge: 0, isExplicit: true)
        change(&freshness)
        return freshness
    }

    func request(_ value: String) -> RequestDirectives {
        RequestDirectives(headers: [(name: "Cache-Control", value: value)])
    }

    @Test func sec4_2_freshEntriesAreServedStaleOnesValidated() {
        #expect(ReusePolicy.decide(entry(), age: 59, request: .none) == .serve(stale: false))
        #expect(ReusePolicy.decide(entry(), age: 60, request: .none) == .validate)
    }

    @Test func sec5_2_1_4_requestNoCacheValidates() {
        #expect(ReusePolicy.decide(entry(), age: 0, request: request("no-cache")) == .validate)
    }

    @Test func sec5_2_1_1_requestMaxAge() {
        #expect(ReusePolicy.decide(entry(), age: 10, request: request("max-age=20")) == .serve(stale: false))
        #expect(ReusePolicy.decide(entry(), age: 30, request: request("max-age=20")) == .validate)
        #expect(ReusePolicy.decide(entry(), age: 0, request: request("max-age=0")) == .validate)
    }

    @Test func sec5_2_1_3_requestMinFresh() {
        #expect(ReusePolicy.decide(entry(), age: 10, request: request("min-fresh=50")) == .serve(stale: false))
        #expect(ReusePolicy.decide(entry(), age: 11, request: request("min-fresh=50")) == .validate)
    }

    @Test func sec5_2_1_2_requestMaxStale() {
        #expect(ReusePolicy.decide(entry(), age: 70, request: request("max-stale=20")) == .serve(stale: true))
        #expect(ReusePolicy.decide(entry(), age: 90, request: request("max-stale=20")) == .validate)
        #expect(ReusePolicy.decide(entry(), age: 9999, request: request("max-stale")) == .serve(stale: true))
        // §4.2.4: never with must-revalidate; never past the operator's cap.
        #expect(ReusePolicy.decide(entry(60) { $0.mustRevalidate = true }, age: 70, request: request("max-stale")) == .validate)
        #expect(ReusePolicy.decide(entry(60) { $0.maxStale = 5 }, age: 70, request: request("max-stale")) == .validate)
    }

    @Test func sec5_2_2_4_noCacheEntriesAlwaysValidate() {
        #expect(ReusePolicy.decide(entry(60) { $0.alwaysRevalidate = true }, age: 0, request: .none) == .validate)
    }

    @Test func rfc5861_staleWhileRevalidateWindow() {
        let swr = entry(60) { $0.staleWhileRevalidate = 30 }
        #expect(ReusePolicy.decide(swr, age: 70, request: .none) == .serveAndRefresh)
        #expect(ReusePolicy.decide(swr, age: 90, request: .none) == .validate)
        #expect(ReusePolicy.decide(entry(60) { $0.staleWhileRevalidate = 30; $0.mustRevalidate = true }, age: 70, request: .none) == .validate)
        #expect(ReusePolicy.decide(entry(60) { $0.staleWhileRevalidate = 30; $0.maxStale = 5 }, age: 70, request: .none) == .validate)
        // A zero window means none.
        #expect(ReusePolicy.decide(entry(60), age: 60, request: .none) == .validate)
    }

    @Test func rfc5861_staleIfErrorWindow() {
        let sie = entry(60) { $0.staleIfError = 100 }
        #expect(ReusePolicy.canServeOnError(sie, age: 30))
        #expect(ReusePolicy.canServeOnError(sie, age: 159))
        #expect(!ReusePolicy.canServeOnError(sie, age: 160))
        #expect(!ReusePolicy.canServeOnError(entry(60), age: 61))
        // must-revalidate forbids the operator's window but not the origin's own stale-if-error.
        #expect(!ReusePolicy.canServeOnError(entry(60) { $0.staleIfError = 100; $0.mustRevalidate = true }, age: 70))
        #expect(ReusePolicy.canServeOnError(entry(60) { $0.staleIfError = 100; $0.mustRevalidate = true; $0.staleIfErrorFromOrigin = true }, age: 70))
        #expect(!ReusePolicy.canServeOnError(entry(60) { $0.staleIfError = 100; $0.maxStale = 5 }, age: 70))
    }

    @Test func rfc8246_immutableIgnoresReloadsButNotNoCache() {
        let immutable = entry(60) { $0.immutable = true }
        #expect(ReusePolicy.decide(immutable, age: 10, request: request("max-age=0")) == .serve(stale: false))
        #expect(ReusePolicy.decide(immutable, age: 10, request: request("no-cache")) == .validate)
        #expect(ReusePolicy.decide(immutable, age: 61, request: request("max-age=0")) == .validate)
    }

    @Test func sec5_4_pragmaNoCacheOnlyWithoutCacheControl() {
        #expect(RequestDirectives(headers: [(name: "Pragma", value: "no-cache")]).noCache)
        #expect(!RequestDirectives(headers: [(name: "Pragma", value: "no-cache"), (name: "Cache-Control", value: "max-age=5")]).noCache)
        #expect(!RequestDirectives(headers: [(name: "Pragma", value: "x-other")]).noCache)
    }

    @Test func sec5_2_1_requestDirectivesParse() {
        let parsed = RequestDirectives(headers: [(name: "cache-control", value: "MAX-STALE, min-fresh=5, only-if-cached, no-store, max-age=\"7\"")])
        #expect(parsed.maxStale == .some(nil))
        #expect(parsed.minFresh == 5 && parsed.maxAge == 7 && parsed.onlyIfCached && parsed.noStore && !parsed.noCache)
        #expect(RequestDirectives(headers: [(name: "Cache-Control", value: "max-stale=9")]).maxStale == .some(9))
        #expect(RequestDirectives(headers: [(name: "Cache-Control", value: "max-age=abc")]).maxAge == 0)
    }
}
