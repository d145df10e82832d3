// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import Logging
import MoxyCache
import MoxySigning
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// The parts a connection uses, wired once at start-up. It holds them and decides nothing itself:
/// routing is the ``Router``'s, per-key state the ``KeyStateTable``'s, upstream exchanges the
/// ``CacheExchange``'s and ``PassThrough``'s, rendering the ``ResponseRenderer``'s.
final class Proxy: Sendable {
    /// The configuration the server started with (listeners, tiers, profile; see ``settings`` for
    /// what a reload changes).
    let configuration: ServerConfiguration
    private let current: NIOLockedValueBox<ProxySettings>
    /// Counts replacements of the settings: a connection rereads them (taking the lock) only
    /// when it changed, so a request takes no process-wide lock.
    private let generation = Atomic<Int>(0)
    let metrics: MoxyMetrics
    /// The access log, when one is configured.
    let accessLog: AccessLog?
    /// Requests answered before routing (limits, loops, no route).
    let unroutedCounters: RequestCounters
    let tier: TieredCache
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

    init(
        configuration: ServerConfiguration,
        signer: URLSigner?,
        fetcher: UpstreamFetcher,
        forwarder: OriginForwarder,
        clock: MoxyClock,
        metrics: MoxyMetrics,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger
    ) {
        self.configuration = configuration
        self.metrics = metrics
        self.accessLog = configuration.accessLog.map { AccessLog(configuration: $0, metrics: metrics) }
        self.current = NIOLockedValueBox(ProxySettings(configuration: configuration, signer: signer, metrics: metrics))
        self.unroutedCounters = metrics.requestCounters(.none, route: "none")
        self.clock = clock
        self.fetcher = fetcher
        self.forwarder = forwarder
        let background = BackgroundWork()
        self.background = background
        self.tier = TieredCache(
            store: MemoryStore(
                capacity: configuration.memoryCacheSize, maxEntrySize: configuration.memoryMaxObjectSize,
                policy: configuration.memoryCachePolicy),
            tiers: Self.slowerTiers(configuration, group: eventLoopGroup, clock: clock, logger: logger),
            background: background)
        tier.applyPurgesFromOtherNodes()
        self.keys = KeyStateTable()
        self.renderer = ResponseRenderer(
            serverName: configuration.serverName, profile: configuration.compatProfile, camoHost: configuration.camoHost, clock: clock)
        self.validationLog = ValidationLog(logger: logger, metrics: metrics)
        self.exchange = CacheExchange(
            tier: tier,
            keys: keys,
            upstream: UpstreamClient(
                fetcher: fetcher, forwarder: forwarder, clock: clock, serverName: configuration.serverName, logger: logger, metrics: metrics),
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
            settings: { [current] in current.withLockedValue { $0 } },
            clock: clock,
            logger: logger
        )
        self.startDate = HTTPDate.format(clock.now())
    }

    /// The settings new requests are handled under (replaced whole by a reload).
    var settings: ProxySettings { current.withLockedValue { $0 } }

    /// Replaces the settings for the requests handled from now on.
    func replaceSettings(_ settings: ProxySettings) {
        current.withLockedValue { $0 = settings }
        generation.add(1, ordering: .releasing)
    }

    /// The settings, when they were replaced since `seen` (a connection's last generation, which
    /// this updates); nil when they are the same. The generation is read before the settings, so
    /// a reload in between is noticed by the next call.
    @inline(__always)
    func settings(ifReplacedSince seen: inout Int) -> ProxySettings? {
        let now = generation.load(ordering: .acquiring)
        guard now != seen else { return nil }
        seen = now
        return settings
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
