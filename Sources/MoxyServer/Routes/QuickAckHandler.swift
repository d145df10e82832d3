// SPDX-License-Identifier: Apache-2.0

import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Acknowledges every segment an upstream sends at once (Linux `TCP_QUICKACK`, set again after
/// each read, since the kernel clears it on its own).
///
/// Why: an origin that writes a response's head and body in two calls without `TCP_NODELAY`
/// (Python's `http.server` and many small app servers) sends the body only once its head is
/// acknowledged (Nagle). On a kept-alive connection the kernel delays that acknowledgement by
/// 40 ms, waiting for data to ride on that never comes, so every miss on a reused connection took
/// 44 ms instead of half a millisecond (nginx with upstream `keepalive` shows the same). One
/// `setsockopt` per read, on upstream connections only; the hit path never sees this handler.
final class QuickAckHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = ByteBuffer

    #if os(Linux)
    static let option = ChannelOptions.Types.SocketOption(level: .tcp, name: NIOBSDSocket.Option(rawValue: CInt(TCP_QUICKACK)))
    #endif

    func channelActive(context: ChannelHandlerContext) {
        Self.acknowledgeQuickly(context.channel)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        Self.acknowledgeQuickly(context.channel)
        context.fireChannelRead(data)
    }

    /// Puts a quick-ack handler first in an upstream connection's pipeline (AsyncHTTPClient's
    /// connection initializer, run once the connection is up and before its first request).
    static func install(on channel: any Channel) -> EventLoopFuture<Void> {
        guard channel.eventLoop.inEventLoop else { return channel.eventLoop.flatSubmit { install(on: channel) } }
        do {
            try channel.pipeline.syncOperations.addHandler(QuickAckHandler(), position: .first)
            acknowledgeQuickly(channel)
            return channel.eventLoop.makeSucceededVoidFuture()
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
    }

    /// Sets the option; a closed socket or another system simply keeps its default.
    static func acknowledgeQuickly(_ channel: any Channel) {
        #if os(Linux)
        try? channel.syncOptions?.setOption(option, value: 1)
        #endif
    }
}
