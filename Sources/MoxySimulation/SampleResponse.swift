// SPDX-License-Identifier: Apache-2.0

public import MoxyCache
import NIOCore

/// A stored response with every field of the entry format set (freshness with each directive,
/// withheld fields, surrogate keys, `Vary`), for the tests of each tier's codec and store.
public enum SampleResponse {
    /// The sample, with this body and optionally other fields.
    public static func make(_ body: String = "image bytes", fields: [(name: String, value: String)]? = nil) -> CachedResponse {
        var freshness = Freshness(
            lifetime: 3600, initialAge: 12, isExplicit: true, mustRevalidate: true, staleWhileRevalidate: 30, staleIfError: 600,
            staleIfErrorFromOrigin: true, immutable: false, maxStale: 900)
        freshness.withheldFields = ["set-cookie"]
        return CachedResponse(
            status: 200,
            fields: fields ?? [("Date", "Tue, 01 Dec 2026 10:00:00 GMT"), ("Content-Type", "image/png"), ("ETag", "\"v1\""),
                               ("Cache-Control", "max-age=3600"), ("Surrogate-Key", "post-1 author-7"), ("Cache-Tag", "post-1,home")],
            body: ByteBuffer(string: body), responseTime: 1_764_583_200, freshness: freshness, downstreamMaxAge: 3600,
            varyNames: ["accept-language"])
    }
}
