// SPDX-License-Identifier: Apache-2.0

import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// The idle keep-alive connections of ``InterimForwarder``, by upstream origin (at most
/// ``maxIdlePerOrigin`` each). An idle connection carries an ``IdleGuard``: the upstream closing
/// it, sending anything unasked, or staying silent past the read timeout closes it and takes it
/// out of the pool.
final class InterimConnectionPool: Sendable {
    /// Idle connections kept per origin; more are closed.
    static let maxIdlePerOrigin = 16

    private let idle = NIOLockedValueBox<[String: [any Channel]]>([:])

    /// An idle connection to `origin`, its guard removed, or nil.
    func take(_ origin: String) async -> (any Channel)? {
        while let channel = idle.withLockedValue({ $0[origin]?.popLast() }) {
            guard channel.isActive else { continue }
            let taken = try? await channel.eventLoop.submit { () -> Bool in
                guard channel.isActive, let guardHandler = try? channel.pipeline.syncOperations.handler(type: IdleGuard.self) else {
                    return false
                }
                guardHandler.released = true
                channel.pipeline.syncOperations.removeHandler(guardHandler, promise: nil)
                return true
            }.get()
            if taken == true { return channel }
        }
        return nil
    }

    /// Keeps a connection whose response ended, with its guard (on its event loop).
    func put(_ channel: any Channel, origin: String) {
        guard channel.isActive, (try? channel.pipeline.syncOperations.addHandler(IdleGuard(pool: self, origin: origin))) != nil else {
            return channel.close(promise: nil)
        }
        let kept = idle.withLockedValue { idle -> Bool in
            guard idle[origin, default: []].count < Self.maxIdlePerOrigin else { return false }
            idle[origin, default: []].append(channel)
            return true
        }
        if !kept { channel.close(promise: nil) }
    }

    /// Idle connections kept, over every origin.
    var idleCount: Int { idle.withLockedValue { $0.values.reduce(0) { $0 + $1.count } } }

    /// Forgets a connection that closed.
    func remove(_ channel: any Channel, origin: String) {
        idle.withLockedValue { $0[origin]?.removeAll { $0 === channel } }
    }

    /// Closes every idle connection (at shutdown).
    func closeAll() {
        let all = idle.withLockedValue { idle -> [any Channel] in
            defer { idle = [:] }
            return idle.values.flatMap { $0 }
        }
        for channel in all { channel.close(promise: nil) }
    }

    /// The handler of an idle connection.
    final class IdleGuard: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPClientResponsePart
        let pool: InterimConnectionPool
        let origin: String
        /// Set when a request takes the connection (its removal is not a close).
        var released = false

        init(pool: InterimConnectionPool, origin: String) {
            self.pool = pool
            self.origin = origin
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            // Nothing was asked: a connection that speaks now is in no known state.
            context.close(promise: nil)
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if event is IdleStateHandler.IdleStateEvent { return context.close(promise: nil) }
            context.fireUserInboundEventTriggered(event)
        }

        func channelInactive(context: ChannelHandlerContext) {
            if !released { pool.remove(context.channel, origin: origin) }
            context.fireChannelInactive()
        }
    }
}
