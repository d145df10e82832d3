// SPDX-License-Identifier: Apache-2.0

@testable import MoxyServer
import NIOCore
import NIOEmbedded
import Testing

/// The idle timer of client connections, on an embedded loop whose clock the test moves.
@Suite struct IdleConnectionHandlerTests {
    /// Counts the idle events that reach the end of the pipeline.
    final class EventCounter: ChannelInboundHandler {
        typealias InboundIn = NIOAny
        var idle = 0
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if event is IdleStateHandler.IdleStateEvent { idle += 1 }
        }
    }

    func channel() throws -> (EmbeddedChannel, EventCounter) {
        let counter = EventCounter()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([IdleConnectionHandler(timeout: .seconds(10)), counter])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, counter)
    }

    @Test func aQuietConnectionIsIdleAfterTheTimeoutAndAgainAfterEachFurtherOne() throws {
        let (channel, counter) = try channel()
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(counter.idle == 0)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(counter.idle == 1)
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(counter.idle == 2)
        _ = try channel.finish()
    }

    @Test func readsWritesAndADrainingBufferEachRestartTheTimer() throws {
        let (channel, counter) = try channel()
        channel.embeddedEventLoop.advanceTime(by: .seconds(8))
        channel.pipeline.fireChannelReadComplete()
        channel.embeddedEventLoop.advanceTime(by: .seconds(8))
        #expect(counter.idle == 0, "a read 8 s ago")
        try channel.writeOutbound(ByteBuffer(string: "x"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(8))
        #expect(counter.idle == 0, "a write 8 s ago")
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        channel.embeddedEventLoop.advanceTime(by: .seconds(8))
        #expect(counter.idle == 0, "writable again 8 s ago")
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(counter.idle == 1)
        _ = try channel.finish()
    }

    @Test func aClientThatStopsReadingStaysIdle() throws {
        let (channel, counter) = try channel()
        // The outbound buffer fills and never drains: turning unwritable is no activity.
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(counter.idle == 1)
        _ = try channel.finish()
    }
}
