// SPDX-License-Identifier: Apache-2.0

import Logging
import MoxyCache
import MoxySigning
import NIOConcurrencyHelpers
import NIOCore

/// The shared, thread-safe part of the proxy: the signer and routes, the memory tier with its
/// variants, coalesced fetching, background refreshes and hit-for-miss memory.
final class ProxyCore: Sendable {
    let signer: URLSigner?
    let routes: RouteTable
    let store: MemoryStore
    let fetcher: UpstreamFetcher
    let forwarder: OriginForwarder
    let signedPolicy: StoragePolicy
    let configuration: ServerConfiguration
    let logger: Logger
    let coalescer = RequestCoalescer<ProxyOutcome>()
    /// Keys whose last response was not storable, until when (Unix seconds).
    let hitForMiss = NIOLockedValueBox<[String: Int64]>([:])
    /// Keys whose upstream answered invalid responses, and when to ask it again.
    let backoff = NIOLockedValueBox<[String: ValidationBackoff]>([:])
    /// Invalid responses seen, per source and rule (also reported through swift-metrics).
    let validationFailures = NIOLockedValueBox<[ValidationCount: Int]>([:])
    /// Keys with a background refresh running.
    let refreshing = NIOLockedValueBox<Set<String>>([])
    private let generation = NIOLockedValueBox<UInt64>(0)
    private let fetchesInFlight = NIOLockedValueBox(0)
    /// When the server started, for camo's `/status`.
    let startDate = HTTPDate.format(UnixTime.now())

    /// Most keys remembered as hit-for-miss; past it the memory is cleared.
    static let hitForMissLimit = 10_000

    /// Upstream response fields passed downstream for signed URLs (lowercase); everything else is dropped.
    static let passedFields: Set<String> = ["cache-control", "etag", "last-modified", "expires", "content-encoding"]

    init(
        signer: URLSigner?,
        fetcher: UpstreamFetcher,
        forwarder: OriginForwarder,
        configuration: ServerConfiguration,
        logger: Logger
    ) {
        self.signer = signer
        self.routes = RouteTable(configuration.routes)
        self.fetcher = fetcher
        self.forwarder = forwarder
        self.configuration = configuration
        self.store = MemoryStore(capacity: configuration.memoryCacheSize)
        self.signedPolicy = StoragePolicy(overrides: configuration.signedCache)
        self.logger = logger
    }

    // MARK: - Lookup and storage with variants

    /// Finds the stored response for a request, following a variant marker when the URI varies.
    func lookup(_ key: String, headers: [(name: String, value: String)]) -> CacheLookup {
        guard let first = store.get(key) else { return CacheLookup(entry: nil, storeKey: key, forward: .uriMiss) }
        guard let generation = first.variantGeneration else {
            return CacheLookup(entry: first, storeKey: key, forward: .uriMiss)
        }
        let variantKey = Self.variantKey(key, generation: generation, names: first.varyNames, headers: headers)
        return CacheLookup(entry: store.get(variantKey), storeKey: variantKey, forward: .varyMiss)
    }

    /// Stores a response for the request that fetched it; a response with `Vary` goes under a
    /// variant key behind a marker at the primary key.
    /// - Returns: Whether the store accepted it.
    func save(_ key: String, _ response: CachedResponse, requestHeaders: [(name: String, value: String)]) -> Bool {
        guard !response.varyNames.isEmpty else { return store.put(key, response) }
        let generation: UInt64
        if let marker = store.get(key), let current = marker.variantGeneration, marker.varyNames == response.varyNames {
            generation = current
        } else {
            generation = self.generation.withLockedValue {
                $0 += 1
                return $0
            }
            store.put(key, .variantMarker(names: response.varyNames, generation: generation))
        }
        let variantKey = Self.variantKey(key, generation: generation, names: response.varyNames, headers: requestHeaders)
        return store.put(variantKey, response)
    }

    static func variantKey(_ key: String, generation: UInt64, names: [String], headers: [(name: String, value: String)])
        -> String
    {
        key + "\u{1}\(generation)\u{1}" + VaryKey.secondary(names, requestHeaders: headers)
    }

    /// Removes every stored response for a primary key (its variants become unreachable with the marker).
    func invalidate(_ key: String) {
        store.remove(key)
        hitForMiss.withLockedValue { _ = $0.removeValue(forKey: key) }
    }

    /// The answer of the compat profile's service paths (`/status`, `/healthcheck`, …), if `path` is one.
    func serviceAnswer(_ path: Substring) -> CachedResponse? {
        // Every signed request passes here: nothing is computed unless the path is a service path.
        let profile = configuration.compatProfile
        guard profile != .moxy,
            let body = profile.serviceAnswer(path, inFlight: coalescer.inFlight, served: store.stats.count, since: startDate)
        else { return nil }
        var fields: [(name: String, value: String)] = [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store")]
        fields += profile.securityFields
        fields.append(("Server", configuration.serverName))
        return CachedResponse(
            status: 200,
            fields: fields,
            body: ByteBuffer(string: body),
            responseTime: UnixTime.now(),
            freshness: .uncached,
            downstreamMaxAge: 0
        )
    }

    /// Takes one of the ``UpstreamConfiguration/maxConcurrentFetches`` slots.
    /// - Returns: `false` when all are taken.
    func acquireFetch() -> Bool {
        fetchesInFlight.withLockedValue { count in
            guard count < configuration.upstream.maxConcurrentFetches else { return false }
            count += 1
            return true
        }
    }

    /// Gives a fetch slot back.
    func releaseFetch() {
        fetchesInFlight.withLockedValue { $0 -= 1 }
    }

    /// Remembers that a key's response was not storable, so later requests do not queue behind one fetch.
    func markHitForMiss(_ key: String, now: Int64, seconds: Int64) {
        guard seconds > 0 else { return }
        hitForMiss.withLockedValue { map in
            if map.count >= Self.hitForMissLimit { map.removeAll(keepingCapacity: true) }
            map[key] = now + seconds
        }
    }

    /// Whether a key is currently hit-for-miss.
    func isHitForMiss(_ key: String, now: Int64) -> Bool {
        hitForMiss.withLockedValue { map in
            guard let until = map[key] else { return false }
            if until <= now { map.removeValue(forKey: key) }
            return until > now
        }
    }

    /// The storage policy of a request's source.
    func policy(for request: CacheRequest) -> StoragePolicy {
        switch request.source {
        case .signed: signedPolicy
        case .route(let route, _): StoragePolicy(overrides: route.cache)
        }
    }
}

extension ProxyCore {
    /// What a request target maps to.
    enum Resolution {
        /// An origin route, with the target to forward.
        case route(RouteConfiguration, target: Substring)
        /// A signed URL path.
        case signed(Substring)
        /// Neither (routes only, no match).
        case notFound
    }

    /// Tells routes and signed URLs apart: the signed prefix (when set) first, then routes by
    /// `Host` and path prefix, then signed URLs.
    func resolve(_ target: Substring, host: String?) -> Resolution {
        if let prefix = configuration.signedPrefix, RouteConfiguration.hasPathPrefix(target, prefix) {
            let rest = target.dropFirst(prefix.hasSuffix("/") ? prefix.count - 1 : prefix.count)
            return .signed(rest.isEmpty ? "/" : rest)
        }
        if let route = routes.match(host: host, target: target) { return .route(route, target: target) }
        return signer == nil && configuration.camoSigner == nil ? .notFound : .signed(target)
    }
}
