// SPDX-License-Identifier: Apache-2.0

@testable import MoxyServer
import NIOCore
import NIOEmbedded
import Testing

/// The idle timer of client connections, on an embedded loop whose clock the test moves: alone,
/// and in the connection's handler (a quiet connection closes; activity keeps it open).
@Suite struct IdleTimerTests {
    final class Count {
        var idle = 0
    }

    func timer() -> (IdleTimer, EmbeddedEventLoop, Count) {
        let loop = EmbeddedEventLoop()
        let count = Count()
        let timer = IdleTimer(timeout: .seconds(10))
        timer.start(on: loop) { count.idle += 1 }
        return (timer, loop, count)
    }

    @Test func aQuietConnectionIsIdleAfterTheTimeoutAndAgainAfterEachFurtherOne() throws {
        let (timer, loop, count) = timer()
        loop.advanceTime(by: .seconds(9))
        #expect(count.idle == 0)
        loop.advanceTime(by: .seconds(1))
        #expect(count.idle == 1)
        loop.advanceTime(by: .seconds(10))
        #expect(count.idle == 2)
        timer.stop()
        loop.advanceTime(by: .seconds(30))
        #expect(count.idle == 2, "stopped")
    }

    @Test func activityRestartsTheTimer() throws {
        let (timer, loop, count) = timer()
        loop.advanceTime(by: .seconds(8))
        timer.touch(loop.now)
        loop.advanceTime(by: .seconds(8))
        #expect(count.idle == 0, "activity 8 s ago")
        loop.advanceTime(by: .seconds(2))
        #expect(count.idle == 1)
        timer.stop()
    }

    /// The handler's wiring: reads, a drained buffer and a quiet connection, through its channel events.
    @Test func theConnectionClosesWhenQuietAndStaysOpenWhileActive() async throws {
        let connection = try ConnectionHandlerTests.Connection()
        let channel = connection.channel
        let loop = channel.embeddedEventLoop
        loop.advanceTime(by: .seconds(50))
        // Part of a request head: a read (its completion is activity).
        try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\n"))
        loop.advanceTime(by: .seconds(50))
        #expect(channel.isActive, "a read 50 s ago (the timeout is 60 s)")
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        loop.advanceTime(by: .seconds(50))
        #expect(channel.isActive, "writable again 50 s ago")
        loop.advanceTime(by: .seconds(10))
        #expect(!channel.isActive, "quiet for 60 s, mid-request: closed")
        await connection.close()
    }

    @Test func aClientThatStopsReadingIsIdle() async throws {
        let connection = try ConnectionHandlerTests.Connection()
        let channel = connection.channel
        // The outbound buffer fills and never drains: turning unwritable is no activity.
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(!channel.isActive)
        await connection.close()
    }
}
