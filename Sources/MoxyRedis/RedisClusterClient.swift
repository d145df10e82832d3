// SPDX-License-Identifier: Apache-2.0

import NIOConcurrencyHelpers
import NIOCore

/// A Redis Cluster: the slot map read from `CLUSTER SLOTS` (from any node that answers, the
/// seeds first), a pool per node, each command sent to the node of its key's slot. A `MOVED`
/// answer updates the map for its slot, sends the command again there and reads the whole map
/// again in the background; an `ASK` answer (a slot being migrated) sends that command once to
/// the other node after `ASKING`; `TRYAGAIN` (keys of one command split by a migration) waits a
/// moment and tries again.
public final class RedisClusterClient: RedisClient {
    /// Settings shared by every node's connections (host and port are each node's).
    public let configuration: RedisConfiguration
    private let seeds: [Endpoint]
    let group: any EventLoopGroup
    private let state = NIOLockedValueBox(State())

    struct Endpoint: Hashable, Sendable {
        var host: String
        var port: Int
    }

    private struct State {
        /// The node of each slot (nil: not known yet).
        var slots: [Endpoint?] = Array(repeating: nil, count: RedisClusterSlot.count)
        var pools: [Endpoint: RedisPool] = [:]
        var refreshing = false
        var closed = false
        var moved = 0
        var asked = 0
    }

    /// Redirections followed so far (`MOVED`, `ASK`).
    public var redirects: (moved: Int, asked: Int) { state.withLockedValue { ($0.moved, $0.asked) } }

    /// A client for the cluster these nodes (`host:port`) belong to; nothing connects until the first command.
    public init(seeds: [(host: String, port: Int)], configuration: RedisConfiguration, group: any EventLoopGroup) {
        self.seeds = seeds.map { Endpoint(host: $0.host, port: $0.port) }
        self.configuration = configuration
        self.group = group
    }

    public func pipeline(_ commands: [RedisCommand], key: String) async throws(RedisError) -> [RESPValue] {
        let slot = RedisClusterSlot.of(key)
        var node = try await endpoint(for: slot)
        var answers: [RESPValue]
        do {
            answers = try await pool(node).pipeline(commands)
        } catch where error.code == .connectFailed || error.code == .connectionClosed {
            // The node is gone (a failover, a node replaced): read the map again, once.
            try await refresh()
            node = try await endpoint(for: slot)
            answers = try await pool(node).pipeline(commands)
        }
        // At most a few redirects: a map that keeps moving is an error, not a loop.
        for _ in 0..<5 {
            var redirected: [(index: Int, redirect: RedisRedirect)] = []
            var retry = false
            for (index, answer) in answers.enumerated() {
                guard case .error(let message) = answer else { continue }
                if let redirect = RedisRedirect(message) { redirected.append((index, redirect)) }
                if message.hasPrefix("TRYAGAIN") { retry = true }
            }
            if redirected.isEmpty && !retry { return answers }
            if let moved = redirected.first(where: { $0.redirect.isMoved })?.redirect {
                node = Endpoint(host: moved.host, port: moved.port)
                state.withLockedValue {
                    $0.slots[moved.slot] = node
                    $0.moved += 1
                }
                answers = try await pool(node).pipeline(commands)
                // The whole map is read again once the answer is here (one caller at a time):
                // a slot moved in a resharding, and its neighbours are likely to follow.
                await refreshUnlessRunning()
                continue
            }
            if retry {
                try? await Task.sleep(for: .milliseconds(25))
                answers = try await pool(node).pipeline(commands)
                continue
            }
            // ASK: each command the source no longer has goes to the target, after ASKING.
            for (index, redirect) in redirected {
                let target = try pool(Endpoint(host: redirect.host, port: redirect.port))
                state.withLockedValue { $0.asked += 1 }
                let asked = try await target.pipeline([RedisCommand("ASKING"), commands[index]])
                answers[index] = asked[1]
            }
        }
        return answers
    }

    public func dedicatedConnection(forKey key: String, commandTimeout: Double) async throws(RedisError) -> RedisConnection {
        let node = try await endpoint(for: RedisClusterSlot.of(key))
        var configuration = self.configuration
        configuration.host = node.host
        configuration.port = node.port
        configuration.commandTimeout = commandTimeout
        return try await RedisConnection.connect(configuration, on: group)
    }

    public func close() async {
        let pools = state.withLockedValue { state -> [RedisPool] in
            state.closed = true
            defer { state.pools = [:] }
            return Array(state.pools.values)
        }
        for pool in pools { await pool.close() }
    }

    /// The node serving a slot, reading the map first when it is not known.
    private func endpoint(for slot: Int) async throws(RedisError) -> Endpoint {
        if let known = state.withLockedValue({ $0.slots[slot] }) { return known }
        try await refresh()
        guard let known = state.withLockedValue({ $0.slots[slot] }) else {
            throw RedisError(.server, "CLUSTERDOWN no node serves slot \(slot)")
        }
        return known
    }

    private func pool(_ node: Endpoint) throws(RedisError) -> RedisPool {
        let pool = state.withLockedValue { state -> RedisPool? in
            guard !state.closed else { return nil }
            if let pool = state.pools[node] { return pool }
            var configuration = self.configuration
            configuration.host = node.host
            configuration.port = node.port
            let pool = RedisPool(configuration, group: group)
            state.pools[node] = pool
            return pool
        }
        guard let pool else { throw RedisError(.connectionClosed, "the cluster client is closed") }
        return pool
    }

    /// Reads the slot map from the first node that answers (known nodes, then the seeds).
    func refresh() async throws(RedisError) {
        let known = state.withLockedValue { Array($0.pools.keys) }
        var lastError = RedisError(.connectFailed, "no cluster node answered")
        for node in seeds + known.filter({ !seeds.contains($0) }) {
            do throws(RedisError) {
                let answer = try await pool(node).send(RedisCommand("CLUSTER", "SLOTS"))
                let map = Self.slotMap(answer)
                guard !map.isEmpty else { continue }
                state.withLockedValue { state in
                    for (range, endpoint) in map { for slot in range { state.slots[slot] = endpoint } }
                }
                return
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    private func refreshUnlessRunning() async {
        let start = state.withLockedValue { state -> Bool in
            guard !state.refreshing, !state.closed else { return false }
            state.refreshing = true
            return true
        }
        guard start else { return }
        // Bounded by the connect and command timeouts, and by the caller's budget (cancellation).
        try? await refresh()
        state.withLockedValue { $0.refreshing = false }
    }

    /// `CLUSTER SLOTS`: `[[start, end, [host, port, id], replica…], …]` → the masters' ranges. Pure.
    static func slotMap(_ answer: RESPValue) -> [(ClosedRange<Int>, Endpoint)] {
        (answer.elements ?? []).compactMap { range -> (ClosedRange<Int>, Endpoint)? in
            guard let parts = range.elements, parts.count >= 3, let start = parts[0].int, let end = parts[1].int,
                start >= 0, end >= start, end < RedisClusterSlot.count,
                let master = parts[2].elements, master.count >= 2, let host = master[0].string, let port = master[1].int
            else { return nil }
            return (Int(start)...Int(end), Endpoint(host: host.isEmpty ? "127.0.0.1" : host, port: Int(port)))
        }
    }
}
