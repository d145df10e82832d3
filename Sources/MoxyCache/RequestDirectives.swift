// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP

/// The caching directives of a request (RFC 9111 §5.2.1, `Pragma` per §5.4).
public struct RequestDirectives: Sendable, Hashable {
    /// `no-cache` (or `Pragma: no-cache` without `Cache-Control`): validate before reuse.
    public var noCache: Bool
    /// `no-store`: do not store the response to this request.
    public var noStore: Bool
    /// `max-age`: the oldest response the client accepts.
    public var maxAge: Int64?
    /// `max-stale`: staleness the client accepts; `.some(nil)` for any.
    public var maxStale: Int64??
    /// `min-fresh`: freshness the response must still have.
    public var minFresh: Int64?
    /// `only-if-cached`: answer from the cache or with 504.
    public var onlyIfCached: Bool

    /// No directives.
    public static let none = RequestDirectives()

    /// Creates directives.
    public init(
        noCache: Bool = false,
        noStore: Bool = false,
        maxAge: Int64? = nil,
        maxStale: Int64?? = nil,
        minFresh: Int64? = nil,
        onlyIfCached: Bool = false
    ) {
        self.noCache = noCache
        self.noStore = noStore
        self.maxAge = maxAge
        self.maxStale = maxStale
        self.minFresh = minFresh
        self.onlyIfCached = onlyIfCached
    }

    /// Reads the directives of request fields.
    /// - Parameter headers: The request fields.
    public init(headers: [(name: String, value: String)]) {
        let values = headers.values(named: "cache-control")
        guard !values.isEmpty else {
            // §5.4: Pragma: no-cache counts only when the request has no Cache-Control.
            let pragma = headers.values(named: "pragma").contains { value in
                value.split(separator: ",").contains { $0.trimmingSpaces.lowercased() == "no-cache" }
            }
            self.init(noCache: pragma)
            return
        }
        let control = CacheControl(values)
        let maxStale: Int64??
        if let entry = control.directives["max-stale"] {
            maxStale = entry == nil ? .some(nil) : .some(control.seconds("max-stale"))
        } else {
            maxStale = nil
        }
        self.init(
            noCache: control.has("no-cache"),
            noStore: control.has("no-store"),
            maxAge: control.seconds("max-age"),
            maxStale: maxStale,
            minFresh: control.seconds("min-fresh"),
            onlyIfCached: control.has("only-if-cached")
        )
    }
}
