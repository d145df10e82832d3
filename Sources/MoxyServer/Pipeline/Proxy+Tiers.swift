// SPDX-License-Identifier: Apache-2.0

import Logging
import MoxyCache
import MoxyRedis
import MoxySharedTier
import MoxyStorage
import NIOCore

extension Proxy {
    /// The tiers behind memory, fastest first, as configured: the disk (the embedded default),
    /// then the shared tier on Redis.
    static func slowerTiers(
        _ configuration: ServerConfiguration, group: any EventLoopGroup, clock: MoxyClock, logger: Logger
    ) -> [any SlowerTier] {
        var tiers: [any SlowerTier] = []
        if let path = configuration.diskCachePath {
            tiers.append(DiskTier(store: diskStore(path, configuration, logger: logger)))
        }
        if let shared = configuration.shared {
            var redis = shared.redis
            redis.commandTimeout = max(redis.commandTimeout, shared.writeTimeout)
            let client: any RedisClient
            if shared.cluster.isEmpty {
                client = RedisPool(redis, group: group)
            } else {
                let seeds = shared.cluster.compactMap { node -> (host: String, port: Int)? in
                    guard let colon = node.lastIndex(of: ":"), let port = Int(node[node.index(after: colon)...]) else { return nil }
                    return (String(node[..<colon]), port)
                }
                client = RedisClusterClient(seeds: seeds, configuration: redis, group: group)
            }
            tiers.append(
                SharedTier(
                    configuration: shared, client: client, logger: logger,
                    // The feed's position belongs with what the disk holds: a new disk replays the feed.
                    cursorPath: configuration.diskCachePath.map { $0 + "/shared-feed.position" },
                    nowMilliseconds: { clock.nowMilliseconds() }))
        }
        return tiers
    }

    private static func diskStore(_ path: String, _ configuration: ServerConfiguration, logger: Logger) -> DiskStore {
        DiskStore(
            directory: path, maxSize: configuration.diskCacheMaxSize, minFree: configuration.diskCacheMinFree,
            // The largest object any source stores, its header and block checksums.
            maxFileSize: StoredBlocks.storedLength(ofBody: configuration.routes.reduce(configuration.upstream.maxObjectSize) { max($0, $1.maxObjectSize) })
                + StoredEntry.maxHeaderBytes,
            onSpaceChange: { low, free in
                if low {
                    logger.warning("disk cache stops writing: free space below min_free", metadata: ["free": "\(free)"])
                } else {
                    logger.info("disk cache writes again: free space above min_free", metadata: ["free": "\(free)"])
                }
            },
            onWritesFailing: { failing, error in
                if failing {
                    logger.warning("disk cache writes fail: serving goes on, writes are retried every 10 s", metadata: ["error": "\(error)"])
                } else {
                    logger.info("disk cache writes again")
                }
            })
    }
}
