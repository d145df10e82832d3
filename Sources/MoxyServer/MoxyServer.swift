// SPDX-License-Identifier: Apache-2.0

public import Logging
public import MoxySigning
import MoxyCache
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
public import ServiceLifecycle

/// The Moxy HTTP/1 server: SwiftNIO listeners, the memory tier and the upstream fetcher.
///
/// ```swift
/// let server = try MoxyServer(configuration: .init(port: 0), signer: signer, logger: logger)
/// let port = try await server.start()
/// // …
/// try await server.shutdown()
/// ```
/// It is also a `Service`: ``run()`` starts it, waits for graceful shutdown, then drains.
public final class MoxyServer: Service, Sendable {
    private let configuration: ServerConfiguration
    private let group: MultiThreadedEventLoopGroup
    private let core: ProxyCore
    private let logger: Logger
    private let threads: Int
    private let channel = NIOLockedValueBox<(any Channel)?>(nil)

    /// Creates a server; nothing listens until ``start()``.
    /// - Parameters:
    ///   - configuration: Settings.
    ///   - signer: The keys that verify signed URLs; `nil` serves origin routes only.
    ///   - logger: Where to log.
    public init(configuration: ServerConfiguration, signer: URLSigner?, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        let threads = max(1, configuration.eventLoopThreads ?? ProcessCPUs.available())
        self.threads = threads
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let fetcher = UpstreamFetcher(
            configuration: configuration.upstream,
            eventLoopGroup: group,
            serverName: configuration.serverName
        )
        let forwarder = OriginForwarder(configuration: configuration.upstream, eventLoopGroup: group)
        self.core = ProxyCore(
            signer: signer,
            fetcher: fetcher,
            forwarder: forwarder,
            configuration: configuration,
            logger: logger
        )
    }

    /// Binds the listener.
    /// - Returns: The bound port (useful with port 0).
    /// - Throws: When the address cannot be bound.
    @discardableResult
    public func start() async throws -> Int {
        let core = self.core
        let idle = TimeAmount.milliseconds(Int64(configuration.idleTimeout * 1000))
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(IdleStateHandler(allTimeout: idle))
                    try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
                    try sync.addHandler(ConnectionHandler(core: core))
                }
            }
        let bound = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        channel.withLockedValue { $0 = bound }
        let port = bound.localAddress?.port ?? configuration.port
        var metadata: Logger.Metadata = ["address": "\(configuration.host):\(port)", "threads": "\(threads)"]
        if !configuration.routes.isEmpty {
            metadata["routes"] = "\(configuration.routes.map { "\($0.host ?? "*")\($0.pathPrefix)=\($0.upstream)" }.joined(separator: " "))"
        }
        if let camo = configuration.camoSigner {
            metadata["compat"] = "\(camo.formats.names.joined(separator: ",")) profile=\(configuration.compatProfile.rawValue)"
        }
        logger.info("moxy listening", metadata: metadata)
        return port
    }

    /// Starts the server, waits for graceful shutdown (e.g. SIGTERM through a `ServiceGroup`), then stops.
    public func run() async throws {
        do {
            try await start()
        } catch {
            try? await shutdown()
            throw error
        }
        // Returns when graceful shutdown is triggered (SIGTERM/SIGINT) or the task is cancelled.
        try? await gracefulShutdown()
        try await shutdown()
    }

    /// Stops listening, closes the upstream client and the event loops.
    public func shutdown() async throws {
        let listener = channel.withLockedValue { value -> (any Channel)? in
            defer { value = nil }
            return value
        }
        try? await listener?.close()
        try? await core.fetcher.shutdown()
        try? await core.forwarder.shutdown()
        try await group.shutdownGracefully()
    }

    /// Memory tier counters.
    public var memoryStats: MemoryStore.Stats { core.store.stats }

    /// Responses that failed validation so far, per route (or `signed`) and rule.
    public var validationFailures: [ValidationCount: Int] { core.validationFailures.withLockedValue { $0 } }
}
