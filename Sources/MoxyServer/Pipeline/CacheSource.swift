// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxySigning
import MoxyValidation

/// What really differs between signed URLs and one origin route, built once at start-up: the
/// storage policy and overrides, the validation rules, the name for logs and metrics, the error
/// profile, the response fields kept, and which upstream client reaches it. Everything else of a
/// request's way through the cache is the same spine (``CacheExchange``).
final class CacheSource: Sendable {
    /// Signed URLs or an origin route.
    enum Kind: Sendable {
        /// Signed (and camo) URLs: fetched by the SSRF-checked fetcher.
        case signed
        /// An origin route: forwarded by the pooled forwarder.
        case route(RouteConfiguration)
    }

    /// Signed URLs or an origin route.
    let kind: Kind
    /// The name in logs and metrics: the route's, or `signed`.
    let name: String
    /// The operator's adjustments.
    let overrides: CacheOverrides
    /// The storage policy built from them.
    let policy: StoragePolicy
    /// The rules a response must pass to be stored (`nil`: none).
    let validation: ValidationConfiguration?
    /// Whose error texts and statuses this source answers with; `nil` for the configured
    /// compat profile (signed URLs), `.moxy` for routes.
    let errorProfile: CompatProfile?
    /// The largest body stored (the fetcher already refuses larger signed objects).
    let maxObjectSize: Int
    /// Its requests, counted by method, status class and cache result.
    let counters: RequestCounters
    /// What a route's keys start with, and whether they hold the client's host (see
    /// ``Router/routeKey(_:host:target:)``); read per request instead of the route's settings,
    /// which would be copied.
    let keyPrefix: String
    let keyUsesHost: Bool
    /// A route upstream's host.
    let upstreamHost: String?
    /// Its fields of an access log line, encoded once.
    let logFields: AccessLogFields
    /// A route's tags and image rewriting of bodies it stores (`nil`: none).
    let transform: BodyTransform?

    /// The source of signed URLs.
    init(signed configuration: ServerConfiguration, counters: RequestCounters) {
        self.counters = counters
        self.kind = .signed
        self.name = "signed"
        self.overrides = configuration.signedCache
        self.policy = StoragePolicy(overrides: configuration.signedCache)
        self.validation = configuration.signedValidation
        self.errorProfile = nil
        self.maxObjectSize = configuration.upstream.maxObjectSize
        self.keyPrefix = ""
        self.keyUsesHost = false
        self.upstreamHost = nil
        self.logFields = AccessLogFields(mode: .signed, route: "signed", host: nil)
        self.transform = nil
    }

    /// The source of one origin route.
    init(route: RouteConfiguration, counters: RequestCounters, signer: URLSigner? = nil) {
        self.counters = counters
        self.kind = .route(route)
        self.name = route.name
        self.overrides = route.cache
        self.policy = StoragePolicy(overrides: route.cache)
        self.validation = route.validation
        self.errorProfile = .moxy
        self.maxObjectSize = route.maxObjectSize
        self.keyPrefix = Router.keyPrefix(route)
        self.keyUsesHost = Router.keyUsesHost(route)
        self.upstreamHost = route.upstream.host
        self.logFields = AccessLogFields(mode: .route, route: route.name, host: route.upstream.host)
        self.transform = BodyTransform(route: route, signer: signer)
    }

    /// The route, for a route's source.
    var route: RouteConfiguration? {
        if case .route(let route) = kind { return route }
        return nil
    }

    /// Whether this is the signed-URL source.
    var isSigned: Bool { route == nil }

    /// Upstream response fields passed downstream for signed URLs (lowercase); everything else is dropped.
    static let signedFields: Set<String> = ["cache-control", "cdn-cache-control", "etag", "last-modified", "expires", "content-encoding"]
}
