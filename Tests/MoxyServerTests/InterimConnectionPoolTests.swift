// SPDX-License-Identifier: Apache-2.0

@testable import MoxyServer
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

/// The idle guard of ``InterimConnectionPool`` and the read timeout of ``InterimResponseHandler``
/// on an in-memory channel and its testing clock: what closes a pooled connection, that taking one
/// stops its idle expiry, and when the read timeout runs.
@Suite struct InterimConnectionPoolTests {
    /// A connected in-memory channel, put into `pool` as a finished response would.
    private func pooled(in pool: InterimConnectionPool) async throws -> NIOAsyncTestingChannel {
        let channel = NIOAsyncTestingChannel()
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).get()
        try await channel.eventLoop.submit { pool.put(channel, origin: "http://o") }.get()
        return channel
    }

    @Test func anIdleConnectionIsClosedAfterTheIdleTimeout() async throws {
        let pool = InterimConnectionPool(idleTimeout: .seconds(60))
        let channel = try await pooled(in: pool)
        #expect(pool.idleCount == 1)
        await channel.testingEventLoop.advanceTime(by: .seconds(59))
        #expect(pool.idleCount == 1 && channel.isActive)
        await channel.testingEventLoop.advanceTime(by: .seconds(1))
        #expect(pool.idleCount == 0 && !channel.isActive)
    }

    @Test func anUnaskedResponseClosesAnIdleConnection() async throws {
        let pool = InterimConnectionPool(idleTimeout: .seconds(60))
        let channel = try await pooled(in: pool)
        try await channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        #expect(pool.idleCount == 0 && !channel.isActive)
    }

    @Test func aTakenConnectionNoLongerExpiresAndANewOneIsNotOverTheCap() async throws {
        let pool = InterimConnectionPool(idleTimeout: .seconds(60))
        let channel = try await pooled(in: pool)
        let taken = await pool.take("http://o")
        #expect(taken === channel && pool.idleCount == 0)
        #expect(await pool.take("http://o") == nil)
        await channel.testingEventLoop.advanceTime(by: .seconds(120))
        #expect(channel.isActive, "a connection in use is not the pool's to close")
        // Past the cap, a returned connection is closed instead of kept.
        var kept: [NIOAsyncTestingChannel] = []
        for _ in 0..<InterimConnectionPool.maxIdlePerOrigin { kept.append(try await pooled(in: pool)) }
        let extra = try await pooled(in: pool)
        #expect(pool.idleCount == InterimConnectionPool.maxIdlePerOrigin && !extra.isActive)
        pool.closeAll()
        for channel in kept { try await channel.closeFuture.get() }
        #expect(pool.idleCount == 0)
    }

    /// A request's handler on `channel`, its first read asked for (as `InterimForwarder` does).
    private func exchange(on channel: NIOAsyncTestingChannel, readTimeout: TimeAmount) async throws
        -> (InterimResponseHandler, EventLoopFuture<HTTPResponseHead>, NIOLockedValueBox<Bool>)
    {
        let head = channel.eventLoop.makePromise(of: HTTPResponseHead.self)
        let settled = NIOLockedValueBox(false)
        head.futureResult.whenComplete { _ in settled.withLockedValue { $0 = true } }
        let handler = InterimResponseHandler(head: head, interim: { _ in }, readTimeout: readTimeout, totalTimeout: .seconds(300))
        try await channel.pipeline.addHandler(handler)
        channel.read()
        await channel.testingEventLoop.run()
        return (handler, head.futureResult, settled)
    }

    /// The bug CI found: the read timeout of a connection reused from the pool counted from the
    /// previous response's last byte, so a connection idle for most of it gave the next request
    /// almost nothing.
    @Test func aReusedConnectionsReadTimeoutStartsWithItsRequest() async throws {
        let pool = InterimConnectionPool(idleTimeout: .seconds(60))
        let channel = try await pooled(in: pool)
        await channel.testingEventLoop.advanceTime(by: .seconds(50))
        #expect(await pool.take("http://o") === channel)
        let (_, head, settled) = try await exchange(on: channel, readTimeout: .seconds(10))
        await channel.testingEventLoop.advanceTime(by: .seconds(9))
        #expect(!settled.withLockedValue { $0 } && channel.isActive, "the upstream has the whole read timeout")
        await channel.testingEventLoop.advanceTime(by: .seconds(1))
        await #expect(throws: ProxyError.self) { try await head.get() }
        #expect(!channel.isActive)
    }

    /// Reads held back because the client lags do not count against the upstream; once the client
    /// asks for more, the read timeout runs again.
    @Test func readsHeldForALaggingClientDoNotTimeOutTheUpstream() async throws {
        let channel = NIOAsyncTestingChannel()
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).get()
        let (handler, head, _) = try await exchange(on: channel, readTimeout: .seconds(10))
        try await channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        #expect(try await head.get().status == .ok)
        let body = try #require(handler.takeBody())
        // More parts than the body's high watermark (8): reads stop.
        for _ in 0..<10 { try await channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: "part"))) }
        channel.read()
        await channel.testingEventLoop.advanceTime(by: .seconds(100))
        #expect(channel.isActive, "a read held for the client is not the upstream being slow")
        var parts = body.makeAsyncIterator()
        for _ in 0..<9 { _ = try await parts.next() }
        // Below the low watermark: the held read goes out, and its timeout runs.
        await channel.testingEventLoop.run()
        await channel.testingEventLoop.advanceTime(by: .seconds(10))
        #expect(!channel.isActive)
        _ = try await parts.next()
        await #expect(throws: ProxyError.self) { _ = try await parts.next() }
    }
}
