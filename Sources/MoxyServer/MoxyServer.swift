// SPDX-License-Identifier: Apache-2.0

public import Logging
public import MoxySigning
import MoxyCache
import MoxySharedTier
import MoxyStorage
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
public import ServiceLifecycle

/// The Moxy HTTP/1 server: SwiftNIO listeners, the memory tier and the upstream clients.
///
/// It is a `Service`: ``run()`` binds (unless ``start()`` already did), runs the background work
/// (coalesced fetches, refreshes, streamed bodies) in its own task group, and on graceful shutdown
/// (SIGTERM / SIGINT through a `ServiceGroup`, or ``shutdown()``) stops accepting, lets requests in
/// progress finish for up to ``ServerConfiguration/shutdownTimeout``, cancels what is left, and returns.
///
/// ```swift
/// let server = MoxyServer(configuration: .init(port: 0), signer: signer, logger: logger)
/// let port = try await server.start()
/// async let running: Void = server.run()
/// // …
/// await server.shutdown()
/// try await running
/// ```
public final class MoxyServer: Service, Sendable {
    let configuration: ServerConfiguration
    let group: MultiThreadedEventLoopGroup
    let proxy: Proxy
    let logger: Logger
    private let threads: Int
    private let listener = NIOLockedValueBox<(any Channel)?>(nil)
    /// The TLS listener and its context, when `tls` is configured.
    let tlsListener = NIOLockedValueBox<(any Channel)?>(nil)
    let tlsContext = NIOLockedValueBox<TLSContextBox?>(nil)
    let connections = ConnectionRegistry()
    private let stop = StopSignal()
    /// The server's metrics (`/metrics` on the admin listener).
    public let metrics: MoxyMetrics
    let admin: AdminAPI?
    let adminListener = NIOLockedValueBox<(any Channel)?>(nil)
    /// Whether ``run()`` owns the shutdown (`nil`: not decided yet; `false`: stopped without running).
    private let running = NIOLockedValueBox<Bool?>(nil)

    /// Creates a server; nothing listens until ``start()`` or ``run()``.
    /// - Parameters:
    ///   - configuration: Settings.
    ///   - signer: The keys that verify signed URLs; `nil` serves origin routes only.
    ///   - logger: Where to log.
    ///   - clock: The wall clock (tests pass a manual one).
    public init(configuration: ServerConfiguration, signer: URLSigner?, logger: Logger, clock: MoxyClock = .system) {
        self.configuration = configuration
        self.logger = logger
        let threads = max(1, configuration.eventLoopThreads ?? ProcessCPUs.available())
        self.threads = threads
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let fetcher = UpstreamFetcher(
            configuration: configuration.upstream,
            eventLoopGroup: group,
            serverName: configuration.serverName,
            via: configuration.compatProfile.viaValue(configuration.serverName),
            clock: clock
        )
        let forwarder = OriginForwarder(configuration: configuration.upstream, eventLoopGroup: group)
        let metrics = MoxyMetrics(lanes: threads)
        self.metrics = metrics
        let proxy = Proxy(
            configuration: configuration, signer: signer, fetcher: fetcher, forwarder: forwarder, clock: clock, metrics: metrics,
            eventLoopGroup: group, logger: logger)
        self.proxy = proxy
        self.admin = configuration.admin.map { AdminAPI(proxy: proxy, token: $0.token) }
        if proxy.tier.disk != nil { metrics.loader.withLockedValue { $0 = (0, false) } }
    }

    /// Binds the listener (once).
    /// - Returns: The bound port (useful with port 0).
    /// - Throws: When the address cannot be bound.
    @discardableResult
    public func start() async throws -> Int {
        if let bound = listener.withLockedValue({ $0 }) { return bound.localAddress?.port ?? configuration.port }
        // One process per directory, before anything in it is touched; then, before serving: a
        // write in progress would lose its file. The loader starts with run().
        if let disk = proxy.tier.disk?.store {
            if let problem = try disk.lock() {
                logger.warning("disk cache directory not locked", metadata: ["path": "\(disk.directory)", "reason": "\(problem)"])
            }
            await disk.removeTemporaryFiles()
        }
        // Before serving too: no purged entry may be read back.
        await proxy.tier.loadPurges()
        // The TLS context first: a certificate that does not load stops the start with its reason.
        let tls = try configuration.tls.map { configuration throws(TLSCertificateError) in try TLSContextBox(configuration) }
        tlsContext.withLockedValue { $0 = tls }
        let bootstrap = makeBootstrap(tls: nil)
        let bound = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        listener.withLockedValue { $0 = bound }
        let port = bound.localAddress?.port ?? configuration.port
        var metadata: Logger.Metadata = ["address": "\(configuration.host):\(port)", "threads": "\(threads)"]
        if !configuration.routes.isEmpty {
            metadata["routes"] = "\(configuration.routes.map { "\($0.host ?? "*")\($0.pathPrefix)=\($0.upstream)" }.joined(separator: " "))"
        }
        if let camo = configuration.camoSigner {
            metadata["compat"] = "\(camo.formats.names.joined(separator: ",")) profile=\(configuration.compatProfile.rawValue)"
        }
        logger.info("moxy listening", metadata: metadata)
        try await startTLS()
        try await startAdmin()
        admin?.ready.withLockedValue { $0 = true }
        return port
    }

    /// Serves until graceful shutdown, then drains and stops (see the type's documentation).
    public func run() async throws {
        let stoppedAlready = running.withLockedValue { state -> Bool in
            if state == false { return true }
            state = true
            return false
        }
        if stoppedAlready { return }
        do {
            try await start()
        } catch {
            await close()
            throw error
        }
        let background = proxy.background
        await withTaskGroup(of: DrainStep.self) { tasks in
            tasks.addTask {
                await background.run()
                return .backgroundEnded
            }
            let tiers = proxy.tier
            tasks.addTask {
                await tiers.runTiers()
                return .writesEnded
            }
            if let accessLog = proxy.accessLog {
                tasks.addTask {
                    await accessLog.run()
                    return .loaderEnded
                }
            }
            let sampledMetrics = metrics
            let sampledClock = proxy.clock
            tasks.addTask {
                await Self.sampleHistory(sampledMetrics, clock: sampledClock)
                return .janitorStopped
            }
            if let disk = proxy.tier.disk?.store {
                let clock = proxy.clock
                let logger = logger
                let metrics = metrics
                tasks.addTask {
                    await Self.load(disk, metrics: metrics, logger: logger)
                    return .loaderEnded
                }
                tasks.addTask {
                    await Self.removeExpiredEntries(disk, clock: clock, logger: logger)
                    return .janitorStopped
                }
            }
            // Returns when graceful shutdown is triggered (SIGTERM/SIGINT), shutdown() is called, or the task is cancelled.
            await withGracefulShutdownHandler {
                await withTaskCancellationHandler {
                    await self.stop.wait()
                } onCancel: {
                    self.stop.signal()
                }
            } onGracefulShutdown: {
                self.stop.signal()
            }
            admin?.ready.withLockedValue { $0 = false }
            logger.info("moxy stopping: draining connections", metadata: ["timeout": "\(configuration.shutdownTimeout)s"])
            let deadline = ContinuousClock.now + .milliseconds(Int64(configuration.shutdownTimeout * 1000))
            // Stop accepting; connections close once their requests in progress are answered.
            try? await listener.withLockedValue({ $0 })?.close()
            try? await tlsListener.withLockedValue({ $0 })?.close()
            connections.drain()
            tasks.addTask {
                await self.connections.waitUntilClosed()
                return .connectionsClosed
            }
            tasks.addTask {
                try? await Task.sleep(until: deadline)
                return .deadline
            }
            // Until the deadline: once the connections are closed, background work that is not tied
            // to one (a refresh, a download) gets the rest of the time. The disk loader and janitor
            // are not waited for: they stop when cancelled.
            // Then the slower tiers' queued writes (background work queues them) run to their end.
            var (backgroundEnded, writesEnded) = (false, false)
            waiting: while let step = await tasks.next() {
                switch step {
                case .connectionsClosed: background.finish()
                case .backgroundEnded:
                    backgroundEnded = true
                    tiers.finishWrites()
                case .writesEnded: writesEnded = true
                case .deadline: break waiting
                case .loaderEnded, .janitorStopped: continue
                }
                if backgroundEnded && writesEnded { break waiting }
            }
            // Past the deadline: cancel what is left.
            background.finish()
            tiers.finishWrites()
            tasks.cancelAll()
            connections.closeAll()
        }
        await close()
        logger.info("moxy stopped")
    }

    private enum DrainStep: Sendable {
        case backgroundEnded, writesEnded, connectionsClosed, deadline, loaderEnded, janitorStopped
    }

    /// The disk tier's loader: indexes what an earlier run left, logging progress and the end;
    /// stops when cancelled (a server stopping does not wait for it).
    private static func load(_ disk: DiskStore, metrics: MoxyMetrics, logger: Logger) async {
        defer { metrics.loader.withLockedValue { $0.done = true } }
        let report = await disk.load { report in
            metrics.loader.withLockedValue { $0.entries = report.entries }
            if report.entries % 10_000 == 0 {
                logger.info("disk cache loading", metadata: ["entries": "\(report.entries)", "bytes": "\(report.bytes)"])
            }
        }
        guard !Task.isCancelled else { return logger.info("disk cache loading stopped", metadata: ["entries": "\(report.entries)"]) }
        logger.info(
            "disk cache loaded",
            metadata: ["entries": "\(report.entries)", "bytes": "\(report.bytes)", "seconds": "\(report.seconds)", "path": "\(disk.directory)"])
    }

    /// The disk tier's janitor (and the history sampler): once a minute, until cancelled when the server stops, removes the
    /// entries whose last usable window has passed (in bounded batches; the size bound is kept by
    /// each write).
    private static func removeExpiredEntries(_ disk: DiskStore, clock: MoxyClock, logger: Logger) async {
        while true {
            do { try await Task.sleep(for: .seconds(60)) } catch { return }
            let removed = await disk.removeExpired(now: clock.now())
            if removed > 0 { logger.debug("disk cache removed expired entries", metadata: ["entries": "\(removed)"]) }
        }
    }

    /// Asks a running server to stop gracefully (as SIGTERM does); ``run()`` returns when it has.
    public func shutdown() async {
        stop.signal()
        // Started but never run: nothing will drain, so close here (and run() will not start).
        let closeHere = running.withLockedValue { state -> Bool in
            guard state == nil else { return false }
            state = false
            return true
        }
        if closeHere { await close() }
    }

    /// Closes the listener, the upstream clients and the event loops.
    private func close() async {
        let bound = listener.withLockedValue { value -> (any Channel)? in
            defer { value = nil }
            return value
        }
        try? await bound?.close()
        let secure = tlsListener.withLockedValue { value -> (any Channel)? in
            defer { value = nil }
            return value
        }
        try? await secure?.close()
        let admin = adminListener.withLockedValue { value -> (any Channel)? in
            defer { value = nil }
            return value
        }
        try? await admin?.close()
        try? await proxy.fetcher.shutdown()
        try? await proxy.forwarder.shutdown()
        // Before the event loops stop: its connections close on them.
        await proxy.tier.shared?.close()
        try? await group.shutdownGracefully()
        proxy.tier.disk?.store.unlock()
    }

    /// Memory tier counters.
    public var memoryStats: MemoryStore.Stats { proxy.tier.store.stats }

    /// Responses that failed validation so far, per route (or `signed`) and rule.
    public var validationFailures: [ValidationCount: Int] { proxy.validationLog.snapshot }

    /// Upstream fetches, background refreshes and downloads of large bodies to disk in progress
    /// (coalesced fetches count once).
    public var upstreamWorkInProgress: Int {
        proxy.keys.inFlight + proxy.keys.refreshes + (proxy.tier.disk?.downloadCount ?? 0)
    }

    /// Requests waiting for the coalesced fetch of another request right now.
    public var coalescedWaiters: Int { proxy.keys.waiting }

    /// Keys with per-key state (coalesced fetches, refreshes, hit-for-miss, back-off) right now.
    public var keyStateCount: Int { proxy.keys.count }
}

/// A one-shot signal: ``wait()`` returns once ``signal()`` was called, before or after.
final class StopSignal: Sendable {
    private let state = NIOLockedValueBox<(signalled: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func signal() {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.signalled = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let done = state.withLockedValue { state -> Bool in
                if state.signalled { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}
