// SPDX-License-Identifier: Apache-2.0

import NIOConcurrencyHelpers
import NIOCore

/// A few connections to one endpoint, used in turn; each carries pipelined commands, so a handful
/// serves many concurrent callers. A connection that closed (the server restarted, a command
/// timed out) is replaced by a new one on its next turn.
public final class RedisPool: Sendable {
    /// Where and how.
    public let configuration: RedisConfiguration
    let group: any EventLoopGroup
    private let onPush: (@Sendable (RESPValue) -> Void)?
    private let state: NIOLockedValueBox<State>

    private enum Slot {
        case empty
        /// A caller is connecting; the others wait for it rather than each opening a connection.
        case connecting(EventLoopFuture<RedisConnection>)
        case ready(RedisConnection)
    }

    private struct State {
        var slots: [Slot]
        var next = 0
        var closed = false
    }

    /// Creates a pool; connections are made when first used.
    public init(_ configuration: RedisConfiguration, group: any EventLoopGroup, onPush: (@Sendable (RESPValue) -> Void)? = nil) {
        self.configuration = configuration
        self.group = group
        self.onPush = onPush
        self.state = NIOLockedValueBox(State(slots: Array(repeating: .empty, count: max(1, configuration.poolSize))))
    }

    private enum Turn {
        case use(RedisConnection)
        case wait(EventLoopFuture<RedisConnection>)
        case connect(slot: Int, promise: EventLoopPromise<RedisConnection>)
        case closed
    }

    /// A connection, opened when its slot has none (or a closed one).
    /// - Throws: ``RedisError``: `connect-failed`, `authentication`, `connection-closed` once the pool is closed.
    public func connection() async throws(RedisError) -> RedisConnection {
        let turn = state.withLockedValue { state -> Turn in
            guard !state.closed else { return .closed }
            let slot = state.next % state.slots.count
            state.next &+= 1
            switch state.slots[slot] {
            case .ready(let connection) where connection.isActive: return .use(connection)
            case .connecting(let future): return .wait(future)
            case .ready, .empty:
                let promise = group.any().makePromise(of: RedisConnection.self)
                state.slots[slot] = .connecting(promise.futureResult)
                return .connect(slot: slot, promise: promise)
            }
        }
        switch turn {
        case .closed:
            throw RedisError(.connectionClosed, "the pool is closed")
        case .use(let connection):
            return connection
        case .wait(let future):
            do {
                return try await future.valueUnlessCancelled()
            } catch let error as RedisError {
                throw error
            } catch {
                throw RedisError(.connectFailed, "\(error)")
            }
        case .connect(let slot, let promise):
            do throws(RedisError) {
                let made = try await RedisConnection.connect(configuration, on: group, onPush: onPush)
                let closed = state.withLockedValue { state in
                    if !state.closed { state.slots[slot] = .ready(made) }
                    return state.closed
                }
                promise.succeed(made)
                if closed {
                    await made.close()
                    throw RedisError(.connectionClosed, "the pool is closed")
                }
                return made
            } catch {
                state.withLockedValue { state in
                    if !state.closed { state.slots[slot] = .empty }
                }
                // Others waiting for this connection were not cancelled: to them it failed.
                promise.fail(error.code == .cancelled ? RedisError(.connectFailed, "the connecting call gave up") : error)
                throw error
            }
        }
    }

    /// Sends one command on the next connection.
    /// - Returns: Its answer (never an error value).
    public func send(_ command: RedisCommand) async throws(RedisError) -> RESPValue {
        try await connection().send(command)
    }

    /// Sends commands back to back on one connection.
    /// - Returns: The answers in order, error answers as values.
    public func pipeline(_ commands: [RedisCommand]) async throws(RedisError) -> [RESPValue] {
        try await connection().pipeline(commands)
    }

    /// Closes every connection; later calls fail with `connection-closed`.
    public func close() async {
        let connections = state.withLockedValue { state in
            state.closed = true
            defer { state.slots = state.slots.map { _ in .empty } }
            return state.slots.compactMap { slot -> RedisConnection? in
                if case .ready(let connection) = slot { return connection }
                return nil
            }
        }
        for connection in connections { await connection.close() }
    }
}
