// SPDX-License-Identifier: Apache-2.0

import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix

/// A loopback origin that reads request heads as raw bytes (no HTTP parser that could refuse an
/// unusual method) and answers each with the same response, closing the connection after it.
/// For tests that must see exactly what Moxy sent upstream.
public final class RawOrigin: Sendable {
    private let heads = NIOLockedValueBox<[String]>([])
    private let response: String
    private let channel: NIOLockedValueBox<(any Channel)?> = NIOLockedValueBox(nil)
    /// The bound port.
    public private(set) nonisolated(unsafe) var port = 0

    /// Creates an origin answering every request with `status`, `fields` and `body`.
    public init(status: String = "200 OK", fields: [(String, String)] = [], body: String = "") {
        var text = "HTTP/1.1 \(status)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n"
        for (name, value) in fields { text += "\(name): \(value)\r\n" }
        response = text + "\r\n" + body
    }

    /// Binds to 127.0.0.1 on a free port.
    public func start(group: any EventLoopGroup) async throws {
        let bound = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(HeadReader(origin: self))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = bound.localAddress?.port ?? 0
        channel.withLockedValue { $0 = bound }
    }

    /// Closes the listener.
    public func stop() async {
        let listener = channel.withLockedValue { $0 }
        try? await listener?.close()
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    public func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// The request lines received so far, in order (`BREW /pot HTTP/1.1`).
    public var requestLines: [String] {
        heads.withLockedValue { $0.map { String($0.prefix(while: { $0 != "\r\n" })) } }
    }

    /// The whole heads received so far, in order.
    public var requestHeads: [String] { heads.withLockedValue { $0 } }

    private final class HeadReader: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let origin: RawOrigin
        let received = NIOLockedValueBox<[UInt8]>([])
        init(origin: RawOrigin) { self.origin = origin }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            let head: String? = received.withLockedValue { bytes in
                let wasComplete = bytes.count >= 4 && String(decoding: bytes, as: UTF8.self).contains("\r\n\r\n")
                bytes += buffer.readableBytesView
                let text = String(decoding: bytes, as: UTF8.self)
                guard !wasComplete, let end = text.firstRange(of: "\r\n\r\n") else { return nil }
                return String(text[..<end.upperBound])
            }
            guard let head else { return }
            origin.heads.withLockedValue { $0.append(head) }
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(NIOAny(ByteBuffer(string: origin.response))).whenComplete { _ in
                bound.value.close(promise: nil)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
