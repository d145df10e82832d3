// SPDX-License-Identifier: Apache-2.0

import NIOConcurrencyHelpers
import NIOCore

/// The open client connections, so that a graceful shutdown can ask each to finish and wait until
/// all have closed.
final class ConnectionRegistry: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var draining = false
        var drained: [CheckedContinuation<Void, Never>] = []
    }

    private let state = NIOLockedValueBox(State())

    /// Sent through a connection's pipeline when the server drains.
    struct DrainEvent: Sendable {}

    /// Adds a connection; one accepted while draining is asked to finish at once.
    func add(_ channel: any Channel) {
        let draining = state.withLockedValue { state in
            state.channels[ObjectIdentifier(channel)] = channel
            return state.draining
        }
        if draining { Self.askToFinish(channel) }
    }

    /// Removes a closed connection.
    func remove(_ channel: any Channel) {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.channels.removeValue(forKey: ObjectIdentifier(channel))
            guard state.channels.isEmpty else { return [] }
            defer { state.drained = [] }
            return state.drained
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Asks every connection to close once its requests in progress are answered.
    func drain() {
        let channels = state.withLockedValue { state in
            state.draining = true
            return Array(state.channels.values)
        }
        for channel in channels { Self.askToFinish(channel) }
    }

    /// Returns when no connection is open.
    func waitUntilClosed() async {
        await withCheckedContinuation { continuation in
            let done = state.withLockedValue { state -> Bool in
                guard !state.channels.isEmpty else { return true }
                state.drained.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Closes every connection still open.
    func closeAll() {
        let channels = state.withLockedValue { Array($0.channels.values) }
        for channel in channels { channel.close(promise: nil) }
    }

    private static func askToFinish(_ channel: any Channel) {
        channel.pipeline.fireUserInboundEventTriggered(DrainEvent())
    }
}
