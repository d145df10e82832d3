// SPDX-License-Identifier: Apache-2.0

@testable import MoxyServer
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

/// The idle guard of ``InterimConnectionPool`` on an in-memory channel and its testing clock: what
/// closes a pooled connection, and that taking one stops its idle expiry.
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
}
