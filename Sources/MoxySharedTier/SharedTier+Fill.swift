// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxyRedis
import NIOCore

extension SharedTier {
    /// What a node does about a key that no tier holds.
    public enum FillTurn: Sendable, Hashable {
        /// Fetch it; `token` is this node's lock on the key (release it when nothing is stored).
        case fetch(token: String?)
        /// Another node stored it meanwhile: look it up again.
        case stored
    }

    /// Coalesces a cold miss across nodes: the first node to take the key's lock (`SET NX PX`)
    /// fetches it; the others wait (at most ``SharedTierConfiguration/coalesceWait``) until its
    /// entry appears, its lock goes (nothing was stored: fetch) or the wait ends (fetch).
    /// With Redis unavailable every node fetches, as without a shared tier.
    public func awaitFill(_ key: String) async -> FillTurn {
        guard configuration.coalesce else { return .fetch(token: nil) }
        let lock = keys.fill(key)
        let token = StoreKey.hex(UInt64.random(in: 1...UInt64.max))
        let lifetime = Int64(configuration.coalesceWait * 2000)
        let taken = await call(.fill, budget: configuration.budget) { () async throws(RedisError) -> Bool in
            try await !self.client.send(RedisCommand("SET", .string(lock), .string(token), "NX", "PX", .integer(lifetime)), key: lock).isNull
        }
        guard taken == false else { return .fetch(token: taken == true ? token : nil) }
        count(.fill, "waited")
        let metaKey = keys.meta(key)
        let deadline = ContinuousClock.now + .milliseconds(Int64(configuration.coalesceWait * 1000))
        while ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
            let state = await call(.fill, budget: configuration.budget) { () async throws(RedisError) -> (stored: Bool, locked: Bool) in
                let answers = try await self.client.pipeline(
                    [RedisCommand("EXISTS", .string(metaKey)), RedisCommand("EXISTS", .string(lock))], key: metaKey)
                return (answers[0].int == 1, answers[1].int == 1)
            }
            guard let state else { return .fetch(token: nil) }
            if state.stored { return .stored }
            if !state.locked { return .fetch(token: nil) }
        }
        count(.fill, "wait_expired")
        return .fetch(token: nil)
    }

    /// Releases this node's lock on a key whose fetch stored nothing here (a stored entry's
    /// write releases it), if it still holds it.
    public func releaseFill(_ key: String, token: String) async {
        let lock = keys.fill(key)
        _ = await call(.fill, budget: configuration.writeTimeout) { () async throws(RedisError) -> Bool in
            _ = try await self.client.send(
                RedisCommand(
                    "EVAL", "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1,
                    .string(lock), .string(token)),
                key: lock)
            return true
        }
    }
}
