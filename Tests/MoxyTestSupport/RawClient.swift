// SPDX-License-Identifier: Apache-2.0

import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Sends raw bytes to a server and returns everything it answers until it closes the connection
/// (or the time limit passes), for tests of pipelining, keep-alive and malformed requests.
public enum RawClient {
    /// The status lines of the responses in a raw exchange, in order (bodies may precede them directly).
    public static func statusLines(_ text: String) -> [String] {
        text.ranges(of: "HTTP/1.1 ").map { range in
            String(text[range.lowerBound...].prefix(while: { $0 != "\r\n" && $0 != "\r" }))
        }
    }

    /// Exchanges bytes with 127.0.0.1:`port`.
    /// - Parameters:
    ///   - port: The server port.
    ///   - request: The bytes to send, in one write.
    ///   - timeout: Upper bound for the whole exchange.
    /// - Returns: The bytes received, as text.
    public static func exchange(port: Int, request: String, timeout: TimeAmount = .seconds(10)) async throws -> String {
        try await exchangeClosing(port: port, request: request, timeout: timeout).text
    }

    /// Like ``exchange(port:request:timeout:)``, and says whether the server closed the
    /// connection (`false`: the time limit did).
    public static func exchangeClosing(port: Int, request: String, timeout: TimeAmount = .seconds(10)) async throws
        -> (text: String, serverClosed: Bool)
    {
        let timedOut = NIOLockedValueBox(false)
        let received = NIOLockedValueBox<[UInt8]>([])
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(received: received))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        if !request.isEmpty {
            // The server may already have closed (idle timeout, error answer); what it sent still counts.
            try? await channel.writeAndFlush(ByteBuffer(string: request))
        }
        let closed = channel.closeFuture
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            timedOut.withLockedValue { $0 = true }
            channel.close(promise: nil)
        }
        try? await closed.get()
        timer.cancel()
        return (String(decoding: received.withLockedValue { $0 }, as: UTF8.self), !timedOut.withLockedValue { $0 })
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received: NIOLockedValueBox<[UInt8]>
        init(received: NIOLockedValueBox<[UInt8]>) { self.received = received }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            received.withLockedValue { $0 += buffer.readableBytesView }
        }
        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
