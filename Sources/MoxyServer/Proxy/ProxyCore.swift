// SPDX-License-Identifier: Apache-2.0

import Logging
import MoxyCache
import MoxySigning
import NIOCore

/// The shared, thread-safe part of the proxy: the signer, the memory tier, coalesced fetching
/// and turning upstream responses into cacheable responses.
final class ProxyCore: Sendable {
    let signer: URLSigner
    let store: MemoryStore
    let fetcher: UpstreamFetcher
    let storagePolicy: StoragePolicy
    let configuration: ServerConfiguration
    let logger: Logger
    let coalescer = RequestCoalescer<ProxyOutcome>()

    /// Fields added to every response: no sniffing, no active content.
    static let securityFields: [(name: String, value: String)] = [
        ("X-Content-Type-Options", "nosniff"),
        ("Content-Security-Policy", "default-src 'none'; img-src data:; style-src 'unsafe-inline'"),
        ("X-Frame-Options", "deny"),
    ]

    /// Upstream response fields passed downstream (lowercase); everything else is dropped.
    static let passedFields: Set<String> = ["cache-control", "etag", "last-modified", "expires", "content-encoding"]

    init(signer: URLSigner, fetcher: UpstreamFetcher, configuration: ServerConfiguration, logger: Logger) {
        self.signer = signer
        self.fetcher = fetcher
        self.configuration = configuration
        self.store = MemoryStore(capacity: configuration.memoryCacheSize)
        self.storagePolicy = StoragePolicy(defaultTTL: configuration.defaultTTL)
        self.logger = logger
    }

    /// Fetches a target through the coalescer and delivers the outcome on `eventLoop`.
    /// - Parameters:
    ///   - target: The verified target.
    ///   - hadStale: Whether a stale entry was found (for `fwd=stale`).
    ///   - eventLoop: The caller's event loop.
    /// - Returns: The outcome.
    func fetch(_ target: VerifiedTarget, hadStale: Bool, on eventLoop: any EventLoop) -> EventLoopFuture<ProxyOutcome> {
        let key = target.url
        let (future, isLeader) = coalescer.join(key, on: eventLoop)
        guard isLeader else {
            return future.map { outcome in
                var outcome = outcome
                outcome.cacheStatus += "; collapsed"
                return outcome
            }
        }
        Task {
            let outcome: ProxyOutcome
            if let entry = store.get(key), entry.isFresh(at: UnixTime.now()) {
                // Stored by a fetch that finished between our miss and our join.
                outcome = ProxyOutcome(response: entry, cacheStatus: "moxy; hit", isError: false)
            } else {
                outcome = await fetchAndStore(key, hadStale: hadStale)
            }
            coalescer.complete(key, with: outcome)
        }
        return future
    }

    private func fetchAndStore(_ key: String, hadStale: Bool) async -> ProxyOutcome {
        let forward = hadStale ? "fwd=stale" : "fwd=miss"
        let upstream: UpstreamResponse
        do {
            upstream = try await fetcher.fetch(key, logger: logger)
        } catch {
            logger.info("fetch failed", metadata: ["url": "\(key)", "error": "\(error)"])
            return ProxyOutcome(response: errorResponse(error), cacheStatus: "moxy; \(forward); detail=\(error.code)", isError: true)
        }
        let decision = storagePolicy.evaluate(
            status: upstream.status,
            headers: upstream.headers,
            requestTime: upstream.requestTime,
            responseTime: upstream.responseTime
        )
        switch decision {
        case .store(let freshness):
            let response = makeResponse(upstream, freshness: freshness)
            let stored = store.put(key, response)
            let status = stored ? "moxy; \(forward); stored" : "moxy; \(forward); detail=too-large-for-memory"
            return ProxyOutcome(response: response, cacheStatus: status, isError: false)
        case .doNotStore(let reason):
            let response = makeResponse(upstream, freshness: Freshness(lifetime: 0, initialAge: 0, isExplicit: true))
            store.remove(key)
            let detail = reason.hasPrefix("status") ? "status" : reason
            return ProxyOutcome(response: response, cacheStatus: "moxy; \(forward); detail=\(detail)", isError: false)
        }
    }

    /// Builds the downstream response: canonical type, allow-listed upstream fields, security fields.
    func makeResponse(_ upstream: UpstreamResponse, freshness: Freshness) -> CachedResponse {
        var fields: [(name: String, value: String)] = [("Content-Type", upstream.contentType.description)]
        var hasCacheControl = false
        for field in upstream.headers where ProxyCore.passedFields.contains(field.name.lowercased()) {
            if field.name.lowercased() == "cache-control" { hasCacheControl = true }
            fields.append(field)
        }
        let cacheControl = CacheControl(upstream.headers.filter { $0.name.lowercased() == "cache-control" }.map(\.value))
        let downstreamMaxAge = cacheControl.seconds("s-maxage") ?? cacheControl.seconds("max-age") ?? freshness.lifetime
        if !hasCacheControl && freshness.lifetime > 0 {
            fields.append(("Cache-Control", "public, max-age=\(freshness.lifetime)"))
        }
        fields += ProxyCore.securityFields
        fields.append(("Server", configuration.serverName))
        return CachedResponse(
            status: upstream.status,
            fields: fields,
            body: upstream.body,
            responseTime: upstream.responseTime,
            freshness: freshness,
            downstreamMaxAge: downstreamMaxAge
        )
    }

    /// A `text/plain` error response that no cache keeps.
    func errorResponse(_ error: ProxyError) -> CachedResponse {
        var fields: [(name: String, value: String)] = [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Cache-Control", "no-store"),
        ]
        if error.code == .methodNotAllowed { fields.append(("Allow", "GET, HEAD")) }
        fields += ProxyCore.securityFields
        fields.append(("Server", configuration.serverName))
        return CachedResponse(
            status: error.status,
            fields: fields,
            body: ByteBuffer(string: error.message + "\n"),
            responseTime: UnixTime.now(),
            freshness: Freshness(lifetime: 0, initialAge: 0, isExplicit: true),
            downstreamMaxAge: 0
        )
    }
}
