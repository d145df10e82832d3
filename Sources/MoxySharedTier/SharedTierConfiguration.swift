// SPDX-License-Identifier: Apache-2.0

public import MoxyRedis

/// The shared tier's settings (`shared.*`): where Redis is, and how much a call may cost.
public struct SharedTierConfiguration: Sendable, Hashable {
    /// The server (`shared.url`), or the first of ``cluster``'s nodes.
    public var redis: RedisConfiguration
    /// Redis Cluster seed nodes (`shared.cluster`, `host:port` each); empty for one server.
    public var cluster: [String] = []
    /// What every key starts with (`shared.key_prefix`), so that an ACL can confine Moxy
    /// (`~moxy:*`) and several caches can share one Redis.
    public var keyPrefix = "moxy:"
    /// The largest body stored (`shared.max_object_size`); larger entries stay on the node.
    public var maxObjectSize = 8 << 20
    /// Bytes per value the body is cut into (about 128 KiB: large values block Redis' one thread).
    public var chunkSize = 128 << 10
    /// Seconds a lookup may take before it counts as a miss (`shared.timeout`): the shared tier
    /// must never be slower than the upstream it saves.
    public var budget = 0.02
    /// Seconds a write, removal or purge may take (it runs behind the client's answer).
    public var writeTimeout = 1.0
    /// Seconds an entry without an end of use (one with a validator) is kept.
    public var maxTTL: Int64 = 7 * 24 * 3600
    /// Whether nodes coalesce cold misses across the cluster (`shared.coalesce`): one node fetches
    /// a key while the others wait for its entry.
    public var coalesce = true
    /// Seconds a node waits for another node's fetch before it fetches itself.
    public var coalesceWait = 3.0
    /// Purges kept in the cluster's purge feed (a Redis Stream, trimmed to about this many; as
    /// many as a node's purge log keeps). A node that starts without a position replays them.
    public var purgeFeedLength = 1_000
    /// Failures in a row that open the circuit breaker.
    public var breakerFailures = 5
    /// Seconds the breaker stays open before one probe call (doubling up to 30 s while probes fail).
    public var breakerOpenSeconds = 1.0

    /// Settings for one Redis server.
    public init(redis: RedisConfiguration) {
        self.redis = redis
    }
}
