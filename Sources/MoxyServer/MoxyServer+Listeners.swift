// SPDX-License-Identifier: Apache-2.0

import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOHTTP2
import NIOSSL

/// Closes a connection on its idle event (an HTTP/2 connection with no frame for the idle timeout).
final class IdleConnectionCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

extension MoxyServer {
    /// The bootstrap of a public listener: the plain one (`tls` nil) or the TLS one, whose
    /// connections start with a TLS handler on the context current when they are accepted.
    func makeBootstrap(tls: TLSContextBox?) -> ServerBootstrap {
        let proxy = self.proxy
        let connections = self.connections
        let idle = TimeAmount.milliseconds(Int64(configuration.idleTimeout * 1000))
        // Past the client limits (answered 414/431 by the planner, with the request read) the
        // decoder itself refuses, so that memory per connection stays bounded.
        let maxHeadBytes = max(80 << 10, configuration.maxURIBytes + configuration.maxHeaderBytes + 4096)
        let cleartextHTTP2 = configuration.cleartextHTTP2
        // Files go out with sendfile on plain HTTP/1.1 connections only: TLS encrypts in user
        // space, and an HTTP/2 stream's adapter carries bytes.
        let handler: @Sendable (_ secure: Bool, _ sendsFiles: Bool) -> ConnectionHandler = { secure, sendsFiles in
            ConnectionHandler(proxy: proxy, idleTimeout: idle, maxHeadBytes: maxHeadBytes, secure: secure, sendsFiles: sendsFiles)
        }
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            // Each connection keeps its receive buffer between reads (NIO's pooled allocator), so
            // NIO's first size, 2 KiB, was held by every idle keep-alive connection (massif: 2 MB
            // of the 6.2 MB heap with 1,000 of them). A request head is a few hundred bytes, and
            // the size doubles after a read that fills the buffer.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65536))
            // A 100 KiB hit (head and the stored body, which is never copied) stays under the high
            // mark: with NIO's 64 KiB default each one turned the channel unwritable and waited
            // for it to drain before the next request was read (0.75x nginx at 100 KiB, 1.07x
            // with these). Streams still stop reading their source at 256 KiB per connection.
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 128 << 10, high: 256 << 10))
            .childChannelInitializer { channel in
                guard let tls else {
                    return channel.eventLoop.makeCompletedFuture {
                        connections.add(channel)
                        channel.closeFuture.whenComplete { _ in connections.remove(channel) }
                        guard cleartextHTTP2 else {
                            try channel.pipeline.syncOperations.addHandler(handler(false, true))
                            return
                        }
                        // HTTP/2 with prior knowledge beside HTTP/1.1: the first bytes decide.
                        let sniffer = H2CPrefaceSniffer(
                            http1: { channel in try channel.pipeline.syncOperations.addHandler(handler(false, true)) },
                            http2: { channel in Self.configureHTTP2(channel, idle: idle, maxHeadBytes: maxHeadBytes) { handler(false, false) } })
                        try channel.pipeline.syncOperations.addHandler(sniffer)
                    }
                }
                do {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.context))
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
                connections.add(channel)
                channel.closeFuture.whenComplete { _ in connections.remove(channel) }
                return channel.configureHTTP2SecureUpgrade(
                    h2ChannelConfigurator: { channel in
                        Self.configureHTTP2(channel, idle: idle, maxHeadBytes: maxHeadBytes) { handler(true, false) }
                    },
                    http1ChannelConfigurator: { channel in
                        channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler(true, false)) }
                    })
            }
    }

    /// The settings Moxy announces on an HTTP/2 connection: at most 100 streams at once, a header
    /// list no larger than an HTTP/1.1 head may be.
    static func http2Settings(maxHeadBytes: Int) -> [HTTP2Setting] {
        [HTTP2Setting(parameter: .maxConcurrentStreams, value: 100), HTTP2Setting(parameter: .maxHeaderListSize, value: maxHeadBytes)]
    }

    /// An HTTP/2 connection (ALPN `h2`): each stream gets the HTTP/1.1 `ConnectionHandler` behind an
    /// ``HTTP2StreamAdapter``; the connection closes after `idle` without a frame either way. NIOHTTP2's own
    /// limits stand against the known attacks (rapid reset: at most 200 resets in 30 s;
    /// CONTINUATION floods: 5 in a row; HPACK bombs: the header list size).
    static func configureHTTP2(
        _ channel: any Channel, idle: TimeAmount, maxHeadBytes: Int, handler: @escaping @Sendable () -> ConnectionHandler
    ) -> EventLoopFuture<Void> {
        do {
            // Idle means nothing read and nothing written: a long download keeps its connection
            // while its frames go out, a peer that never opens its window does not.
            try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: idle))
            try channel.pipeline.syncOperations.addHandler(IdleConnectionCloser())
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return channel.configureHTTP2Pipeline(
            mode: .server, initialLocalSettings: http2Settings(maxHeadBytes: maxHeadBytes),
            inboundStreamInitializer: { stream in
                stream.eventLoop.makeCompletedFuture {
                    try stream.pipeline.syncOperations.addHandler(HTTP2StreamAdapter())
                    try stream.pipeline.syncOperations.addHandler(handler())
                }
            }
        ).map { _ in }
    }

    /// Binds the TLS listener, when `tls` is configured (called by ``start()``).
    func startTLS() async throws {
        guard let configuration = configuration.tls, let context = tlsContext.withLockedValue({ $0 }),
            tlsListener.withLockedValue({ $0 }) == nil
        else { return }
        let channel = try await makeBootstrap(tls: context).bind(host: configuration.host, port: configuration.port).get()
        tlsListener.withLockedValue { $0 = channel }
        let port = channel.localAddress?.port ?? configuration.port
        logger.info(
            "moxy TLS listening",
            metadata: ["address": "\(configuration.host):\(port)", "cert": "\(configuration.certificatePath)", "alpn": "\(TLSContextBox.protocols.joined(separator: ","))"])
    }

    /// The TLS listener's port, once bound (`nil` without one).
    public var tlsPort: Int? { tlsListener.withLockedValue { $0?.localAddress?.port } }
}
