// SPDX-License-Identifier: Apache-2.0

import Logging
import MoxyCache
import MoxyRedis
import MoxySharedTier
import MoxyTestSupport
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Key slots without a server, then a real three-master Redis Cluster on loopback ports:
/// entries spread over every node, and a slot migrated during traffic costs no failed request.
@Suite struct RedisClusterTests {
    @Test func slotsFollowRedisClusterCRC16AndHashTags() {
        #expect(RedisClusterSlot.crc16(Array("123456789".utf8)) == 0x31C3)
        // Values from the Redis Cluster specification and CLUSTER KEYSLOT.
        #expect(RedisClusterSlot.of("foo") == 12_182)
        #expect(RedisClusterSlot.of("{user1000}.following") == RedisClusterSlot.of("{user1000}.followers"))
        #expect(RedisClusterSlot.of("foo{}{bar}") == RedisClusterSlot.of("foo{}{bar}"), "an empty tag: the whole key")
        #expect(RedisClusterSlot.of("foo{{bar}}zap") == RedisClusterSlot.of("{bar"))
        #expect(RedisRedirect("MOVED 3999 127.0.0.1:6381") == RedisRedirect("MOVED 3999 127.0.0.1:6381"))
        #expect(RedisRedirect("ASK 3999 127.0.0.1:6381")?.isMoved == false)
        #expect(RedisRedirect("ERR wrong") == nil)
    }

    /// Three masters, all slots assigned, state ok; stopped on every path.
    static func withCluster(_ body: ([RedisServer]) async throws -> Void) async throws {
        var nodes: [RedisServer] = []
        do {
            for _ in 0..<3 {
                nodes.append(try await RedisServer.start(["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000"]))
            }
            let create = try await Spawn.run(
                "/usr/bin/redis-cli", ["--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" } + ["--cluster-replicas", "0", "--cluster-yes"],
                environment: [:])
            #expect(create.status == 0, "\(create.out) \(create.err)")
            try await waitUntil(timeout: .seconds(30)) {
                var ok = true
                for node in nodes {
                    let info = try? await Self.send(node, RedisCommand("CLUSTER", "INFO")).string
                    ok = ok && info?.contains("cluster_state:ok") == true
                }
                return ok
            }
            try await body(nodes)
        } catch {
            for node in nodes { await node.stop() }
            throw error
        }
        for node in nodes { await node.stop() }
    }

    static func send(_ node: RedisServer, _ command: RedisCommand) async throws -> RESPValue {
        let connection = try await RedisConnection.connect(RedisConfiguration(port: node.port, connectTimeout: 10, commandTimeout: 10), on: MultiThreadedEventLoopGroup.singleton)
        do {
            let answer = try await connection.send(command)
            await connection.close()
            return answer
        } catch {
            await connection.close()
            throw error
        }
    }

    static func tier(_ nodes: [RedisServer]) -> SharedTier { tierAndClient(nodes).tier }

    static func tierAndClient(_ nodes: [RedisServer]) -> (tier: SharedTier, client: RedisClusterClient) {
        var configuration = SharedTierConfiguration(redis: RedisConfiguration(connectTimeout: 10, commandTimeout: 10))
        configuration.budget = 5
        configuration.writeTimeout = 10
        configuration.chunkSize = 4 << 10
        let client = RedisClusterClient(
            seeds: [("127.0.0.1", nodes[0].port)], configuration: configuration.redis, group: MultiThreadedEventLoopGroup.singleton)
        return (SharedTier(configuration: configuration, client: client, logger: Logger(label: "test"), nowMilliseconds: { SharedTierTests.nowMilliseconds() }), client)
    }

    @Test func entriesSpreadOverEveryMasterAndReadBackWhole() async throws {
        try await Self.withCluster { nodes in
            let tier = Self.tier(nodes)
            for index in 0..<30 {
                #expect(await tier.write(SharedTierTests.entry("https://a.example/\(index)", body: 10_000, tags: ["t\(index % 3)"])))
            }
            for index in 0..<30 {
                #expect(await tier.read("https://a.example/\(index)", inMemoryLimit: 1 << 20)?.entry.body.readableBytes == 10_000)
            }
            // Every master holds some (each entry's chunks and metadata on one).
            for node in nodes {
                let size = try await Self.send(node, RedisCommand("DBSIZE")).int ?? 0
                #expect(size > 0)
            }
            // A purge by tag: the set lives on one node, its entries on all three.
            _ = await tier.apply(PurgeRecord(selector: .tag("t1"), soft: false, time: SharedTierTests.nowMilliseconds() / 1000))
            for index in 0..<30 {
                let found = await tier.read("https://a.example/\(index)", inMemoryLimit: 1 << 20) != nil
                #expect(found == (index % 3 != 1))
            }
            await tier.close()
        }
    }

    @Test func aSlotMigratedDuringTrafficFailsNoRequest() async throws {
        try await Self.withCluster { nodes in
            let (tier, client) = Self.tierAndClient(nodes)
            let key = "https://a.example/moving"
            let slot = RedisClusterSlot.of(tier.keys.meta(key))
            #expect(await tier.write(SharedTierTests.entry(key, body: 20_000)))
            // Who serves the slot, and who gets it.
            var ids: [Int: String] = [:]
            for (index, node) in nodes.enumerated() {
                ids[index] = try await Self.send(node, RedisCommand("CLUSTER", "MYID")).string
            }
            let owner = try #require(try await nodes.indices.asyncFirst { index in
                let keys = try await Self.send(nodes[index], RedisCommand("CLUSTER", "COUNTKEYSINSLOT", .integer(Int64(slot)))).int ?? 0
                return keys > 0
            })
            let target = (owner + 1) % nodes.count
            let failures = NIOLockedValueBox(0)
            let reads = NIOLockedValueBox(0)
            let traffic = Task {
                for round in 0..<400 {
                    if round % 4 == 0 {
                        if !(await tier.write(SharedTierTests.entry(key, body: 20_000))) { failures.withLockedValue { $0 += 1 } }
                    } else if await tier.read(key, inMemoryLimit: 1 << 20) == nil {
                        failures.withLockedValue { $0 += 1 }
                    }
                    reads.withLockedValue { $0 += 1 }
                }
            }
            try await waitUntil { reads.withLockedValue { $0 } >= 50 }
            // The migration, as redis-cli --cluster reshard makes it.
            _ = try await Self.send(nodes[target], RedisCommand("CLUSTER", "SETSLOT", .integer(Int64(slot)), "IMPORTING", .string(ids[owner]!)))
            _ = try await Self.send(nodes[owner], RedisCommand("CLUSTER", "SETSLOT", .integer(Int64(slot)), "MIGRATING", .string(ids[target]!)))
            while true {
                let keys = try await Self.send(nodes[owner], RedisCommand("CLUSTER", "GETKEYSINSLOT", .integer(Int64(slot)), 100)).elements ?? []
                if keys.isEmpty { break }
                _ = try await Self.send(
                    nodes[owner],
                    RedisCommand(
                        "MIGRATE",
                        ["127.0.0.1", .integer(Int64(nodes[target].port)), "", 0, 5000, "REPLACE", "KEYS"] + keys.compactMap(\.string).map { .string($0) }))
                try await Task.sleep(for: .milliseconds(5))
            }
            for node in nodes {
                _ = try await Self.send(node, RedisCommand("CLUSTER", "SETSLOT", .integer(Int64(slot)), "NODE", .string(ids[target]!)))
            }
            await traffic.value
            #expect(failures.withLockedValue { $0 } == 0, "no read or write failed while the slot moved")
            #expect(reads.withLockedValue { $0 } == 400)
            #expect(client.redirects.moved >= 1, "the traffic met the new owner through MOVED")
            let moved = try await Self.send(nodes[target], RedisCommand("CLUSTER", "COUNTKEYSINSLOT", .integer(Int64(slot)))).int ?? 0
            #expect(moved > 0)
            #expect(await tier.read(key, inMemoryLimit: 1 << 20) != nil)
            await tier.close()
        }
    }
}

extension Range where Element == Int {
    func asyncFirst(_ predicate: (Int) async throws -> Bool) async rethrows -> Int? {
        for index in self where try await predicate(index) { return index }
        return nil
    }
}
