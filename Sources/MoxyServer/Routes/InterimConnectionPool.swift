// SPDX-License-Identifier: Apache-2.0

import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// The idle keep-alive connections of ``InterimForwarder``, by upstream origin (at most
/// ``maxIdlePerOrigin`` each). An idle connection carries an ``IdleGuard``: the upstream closing
/// it, sending anything unasked, or the connection staying idle for ``idleTimeout`` closes it and
/// takes it out of the pool.
final class InterimConnectionPool: Sendable {
    /// Idle connections kept per origin; more are closed.
    static let maxIdlePerOrigin = 16

    /// How long a connection may stay idle in the pool (an upstream that closes its idle
    /// connections sooner is seen closing them; one it closes as it is reused is retried once).
    let idleTimeout: TimeAmount
    private let idle = NIOLockedValueBox<[String: [any Channel]]>([:])

    init(idleTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
    }

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
        private var expiry: Scheduled<Void>?

        init(pool: InterimConnectionPool, origin: String) {
            self.pool = pool
            self.origin = origin
        }

        func handlerAdded(context: ChannelHandlerContext) {
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            expiry = context.eventLoop.assumeIsolated().scheduleTask(in: pool.idleTimeout) { loopBound.value.close(promise: nil) }
            // A read is outstanding while it idles, or the upstream's close would go unseen (the
            // last request's handler may have held its read back when it left).
            context.read()
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            expiry?.cancel()
            expiry = nil
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            // Nothing was asked: a connection that speaks now is in no known state.
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            if !released { pool.remove(context.channel, origin: origin) }
            context.fireChannelInactive()
        }
    }
}
