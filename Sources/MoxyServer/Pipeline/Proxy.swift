// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import Logging
import MoxyCache
import MoxyStorage
import MoxySigning

/// The parts a connection uses, wired once at start-up. It holds them and decides nothing itself:
/// routing is the ``Router``'s, per-key state the ``KeyStateTable``'s, upstream exchanges the
/// ``CacheExchange``'s and ``PassThrough``'s, rendering the ``ResponseRenderer``'s.
final class Proxy: Sendable {
    let configuration: ServerConfiguration
    let signer: URLSigner?
    let router: Router
    let signedSource: CacheSource
    let tier: CacheTier
    let keys: KeyStateTable
    let exchange: CacheExchange
    let passThrough: PassThrough
    let renderer: ResponseRenderer
    let validationLog: ValidationLog
    let background: BackgroundWork
    let clock: MoxyClock
    let fetcher: UpstreamFetcher
    let forwarder: OriginForwarder
    /// When the server started, for camo's `/status`.
    let startDate: String
    /// The client limits, read per request.
    let limits: RequestPlanner.ClientLimits

    init(
        configuration: ServerConfiguration,
        signer: URLSigner?,
        fetcher: UpstreamFetcher,
        forwarder: OriginForwarder,
        clock: MoxyClock,
        logger: Logger
    ) {
        self.configuration = configuration
        self.signer = signer
        self.clock = clock
        self.fetcher = fetcher
        self.forwarder = forwarder
        self.router = Router(
            routes: configuration.routes,
            signedPrefix: configuration.signedPrefix,
            servesSigned: signer != nil || configuration.camoSigner != nil
        )
        self.signedSource = CacheSource(signed: configuration)
        let background = BackgroundWork()
        self.background = background
        self.tier = CacheTier(
            store: MemoryStore(
                capacity: configuration.memoryCacheSize, maxEntrySize: configuration.memoryMaxObjectSize,
                policy: configuration.memoryCachePolicy),
            disk: configuration.diskCachePath.map {
                DiskStore(
                    directory: $0, maxSize: configuration.diskCacheMaxSize, minFree: configuration.diskCacheMinFree,
                    // The largest object any source stores, its header and block checksums.
                    maxFileSize: DiskBlocks.storedLength(ofBody: configuration.routes.reduce(configuration.upstream.maxObjectSize) { max($0, $1.maxObjectSize) })
                        + DiskEntry.maxHeaderBytes,
                    onSpaceChange: { low, free in
                        if low {
                            logger.warning("disk cache stops writing: free space below min_free", metadata: ["free": "\(free)"])
                        } else {
                            logger.info("disk cache writes again: free space above min_free", metadata: ["free": "\(free)"])
                        }
                    },
                    onWritesFailing: { failing, error in
                        if failing {
                            logger.warning("disk cache writes fail: serving goes on, writes are retried every 10 s", metadata: ["error": "\(error)"])
                        } else {
                            logger.info("disk cache writes again")
                        }
                    })
            },
            background: background)
        self.keys = KeyStateTable()
        self.renderer = ResponseRenderer(
            serverName: configuration.serverName, profile: configuration.compatProfile, camoHost: configuration.camoHost, clock: clock)
        self.validationLog = ValidationLog(logger: logger)
        self.exchange = CacheExchange(
            tier: tier,
            keys: keys,
            upstream: UpstreamClient(fetcher: fetcher, forwarder: forwarder, clock: clock, serverName: configuration.serverName, logger: logger),
            renderer: renderer,
            validationLog: validationLog,
            background: background,
            maxFetches: configuration.upstream.maxConcurrentFetches,
            clock: clock,
            logger: logger
        )
        self.passThrough = PassThrough(
            forwarder: forwarder,
            renderer: renderer,
            exchange: exchange,
            router: router,
            clock: clock,
            logger: logger
        )
        self.startDate = HTTPDate.format(clock.now())
        self.limits = RequestPlanner.ClientLimits(configuration)
    }

    /// The answer of the compat profile's service paths (`/status`, `/healthcheck`, …), if `path` is one.
    func serviceAnswer(_ path: Substring) -> CachedResponse? {
        // Every signed request passes here: nothing is computed unless the path is a service path.
        let profile = configuration.compatProfile
        guard profile != .moxy,
            let body = profile.serviceAnswer(path, inFlight: keys.inFlight, served: tier.store.stats.count, since: startDate)
        else { return nil }
        return renderer.serviceAnswer(body)
    }
}
