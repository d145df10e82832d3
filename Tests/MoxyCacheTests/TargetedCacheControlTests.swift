// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxyHTTP
import Testing

/// RFC 9213 targeted cache-control fields, as pure decisions.
@Suite struct TargetedCacheControlTests {
    @Test(arguments: [
        "max-age=60", "max-age=60, stale-if-error=300", "no-store", "private, no-cache=\"Set-Cookie\"", "a=1;p=2, b=?1, c=(1 2);x, d=:AQID:",
        "max-age=60 ,  public", "x=1.5, y=-3, z=tok/en:1",
    ])
    func rfc8941_validDictionaries(_ value: String) {
        #expect(StructuredFieldDictionary.isValid([value]), "\(value)")
    }

    @Test(arguments: [
        "", " ", "max-age=60,", ",max-age=60", "max-age=60,,public", "Max-Age=60", "max-age=\"60", "max-age=1.2345", "max-age=a b",
        "max-age==1", "1max-age", "max-age=60; ", "a=(1 2", "a=?2", "a=:AQ ID:", "max-age=60\tpublic",
    ])
    func rfc8941_invalidDictionaries(_ value: String) {
        #expect(!StructuredFieldDictionary.isValid([value]), "\(value)")
    }

    func lifetime(_ fields: [(name: String, value: String)], overrides: CacheOverrides = CacheOverrides()) -> Int64? {
        StoragePolicy(overrides: overrides).evaluate(status: 200, headers: fields, requestTime: 0, responseTime: 0).freshness?.lifetime
    }

    @Test func rfc9213_2_1_theMostSpecificValidTargetedFieldReplacesCacheControl() {
        let cc = (name: "Cache-Control", value: "no-store")
        #expect(lifetime([cc]) == nil)
        #expect(lifetime([cc, ("CDN-Cache-Control", "max-age=60")]) == 60)
        #expect(lifetime([cc, ("CDN-Cache-Control", "max-age=60"), ("Moxy-Cache-Control", "max-age=5")]) == 5)
        // Invalid targeted fields are ignored, down to Cache-Control.
        #expect(lifetime([cc, ("CDN-Cache-Control", "max-age=60"), ("Moxy-Cache-Control", "max-age=5,")]) == 60)
        #expect(lifetime([("Cache-Control", "max-age=30"), ("CDN-Cache-Control", "Max-Age=60")]) == 30)
        // A targeted field stands for Expires too.
        #expect(lifetime([("Expires", "Thu, 01 Jan 1970 00:00:10 GMT"), ("CDN-Cache-Control", "public")]) == nil)
        #expect(lifetime([("Expires", "Thu, 01 Jan 1970 00:00:10 GMT"), ("CDN-Cache-Control", "public"), ("ETag", "\"e\"")]) == 0)
        // A targeted no-store wins over a Cache-Control that allows storing.
        #expect(lifetime([("Cache-Control", "max-age=600"), ("CDN-Cache-Control", "no-store")]) == nil)
        // The name Moxy answers to is the operator's.
        var overrides = CacheOverrides()
        overrides.targetedCacheControl = "acme-cache-control"
        #expect(lifetime([cc, ("Moxy-Cache-Control", "max-age=5"), ("Acme-Cache-Control", "max-age=7")], overrides: overrides) == 7)
        #expect(lifetime([cc, ("Moxy-Cache-Control", "max-age=5")], overrides: overrides) == nil)
    }

    /// A member of the wrong type (the suite's `cdn-cc-invalid-sh-type-wrong`) is ignored: a
    /// string, decimal or negative `max-age` gives no lifetime, so the response is not stored.
    @Test func rfc9213_2_1_aDirectiveOfTheWrongTypeIsIgnored() {
        for value in ["max-age=\"3600\"", "max-age=3600.5", "max-age=-1", "s-maxage=\"60\"", "max-age=?1", "max-age=tok"] {
            #expect(StructuredFieldDictionary.isValid([value]), "\(value) is a valid dictionary")
            #expect(lifetime([("CDN-Cache-Control", value)]) == nil, "\(value)")
        }
        // The other members still count, and Cache-Control's quoted form stays accepted (RFC 9111 §5.2).
        #expect(lifetime([("CDN-Cache-Control", "s-maxage=\"60\", max-age=30")]) == 30)
        #expect(lifetime([("Cache-Control", "max-age=\"40\"")]) == 40)
        #expect(lifetime([("Cache-Control", "max-age=600"), ("CDN-Cache-Control", "max-age=\"5\", no-store")]) == nil)
    }
}
