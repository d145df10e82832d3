// SPDX-License-Identifier: Apache-2.0

import NIOCore

/// On the plain listener with `http2.cleartext` on: tells HTTP/2 with prior knowledge (a CDN or
/// load balancer that speaks `h2c` starts with the connection preface, RFC 9113 §3.3) from
/// HTTP/1.1 by the first bytes, then puts the right pipeline in its place and hands it what it read.
final class H2CPrefaceSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`.
    static let preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    private var buffered: ByteBuffer?
    private var decided = false
    private let http1: (any Channel) throws -> Void
    private let http2: (any Channel) -> EventLoopFuture<Void>

    /// - Parameters:
    ///   - http1: Adds the HTTP/1.1 handler (synchronously, on the channel's loop).
    ///   - http2: Configures the HTTP/2 pipeline.
    init(http1: @escaping (any Channel) throws -> Void, http2: @escaping (any Channel) -> EventLoopFuture<Void>) {
        self.http1 = http1
        self.http2 = http2
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !decided else { return context.fireChannelRead(data) }
        var bytes = unwrapInboundIn(data)
        if var buffered {
            buffered.writeBuffer(&bytes)
            self.buffered = buffered
        } else {
            buffered = bytes
        }
        guard let seen = buffered else { return }
        let view = seen.readableBytesView
        let compared = min(view.count, Self.preface.count)
        let matches = view.prefix(compared).elementsEqual(Self.preface.prefix(compared))
        if matches && compared < Self.preface.count { return }  // not enough yet to tell
        decided = true
        let channel = context.channel
        if matches {
            http2(channel).assumeIsolated().whenComplete { result in
                switch result {
                case .success: self.handOver(context: context, seen)
                case .failure: context.close(promise: nil)
                }
            }
        } else {
            do {
                try http1(channel)
            } catch {
                context.close(promise: nil)
                return
            }
            handOver(context: context, seen)
        }
    }

    /// Passes what was read to the pipeline behind, then leaves it.
    private func handOver(context: ChannelHandlerContext, _ bytes: ByteBuffer) {
        buffered = nil
        context.fireChannelRead(wrapInboundOut(bytes))
        context.fireChannelReadComplete()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
