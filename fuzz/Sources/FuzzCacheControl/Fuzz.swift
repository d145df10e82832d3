// SPDX-License-Identifier: Apache-2.0

import FuzzSupport
import MoxyHTTP
import MoxyCache

@_cdecl("FuzzCacheControl_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in
        let value = text(data, size)
        let control = CacheControl([value])
        for name in ["max-age", "s-maxage", "stale-while-revalidate", "stale-if-error", "max-stale", "min-fresh"] {
            if let seconds = control.seconds(name) { check(seconds >= 0 && seconds <= 2_147_483_648, "delta-seconds range") }
        }
        _ = control.fieldNames("private")
        _ = RequestDirectives(headers: [(name: "Cache-Control", value: value), (name: "Pragma", value: value)])
        let headers = [
            (name: "Cache-Control", value: value), (name: "Age", value: value), (name: "Expires", value: value),
            (name: "Date", value: value), (name: "Last-Modified", value: value), (name: "Vary", value: value),
        ]
        switch StoragePolicy().evaluate(status: 200, headers: headers, requestTime: 1_800_000_000, responseTime: 1_800_000_001) {
        case .store(let freshness):
            check(freshness.lifetime >= 0 && freshness.initialAge >= 0, "non-negative freshness")
            _ = ReusePolicy.decide(freshness, age: freshness.initialAge, request: RequestDirectives(headers: [(name: "Cache-Control", value: value)]))
            _ = ReusePolicy.canServeOnError(freshness, age: freshness.initialAge + 100)
        case .doNotStore:
            break
        }
        // RFC 9213: a targeted field is used only when it is a valid structured dictionary, and then
        // it alone decides; an HTTP-date parses only in its exact forms, so formatting round-trips.
        let targeted = [(name: "Cache-Control", value: "no-store"), (name: "CDN-Cache-Control", value: value)]
        let decision = StoragePolicy().evaluate(status: 200, headers: targeted, requestTime: 1_800_000_000, responseTime: 1_800_000_000)
        if !StructuredFieldDictionary.isValid([value]) { check(!decision.isStore, "an invalid targeted field was used") }
        if let date = HTTPDate.parse(value) { check(HTTPDate.parse(HTTPDate.format(date)) == date, "HTTP-date round trip") }
        _ = VaryKey.names([value])
        _ = Validators.notModified(requestHeaders: [(name: "If-None-Match", value: value)], etag: "\"a\"", lastModified: 0)
        _ = HTTPDate.parse(value)
        return 0
    }
}
