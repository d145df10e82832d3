// SPDX-License-Identifier: Apache-2.0

import Logging
import MoxyCache
import MoxyRedis
import MoxySharedTier
import MoxySimulation
import MoxyTestSupport
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The shared tier against a real `redis-server`: entries whole or not at all, purges by tag
/// without `SCAN` and through the feed to other nodes, cluster-wide fill locks, and a Redis that
/// stops answering costing a miss within the budget.
@Suite struct SharedTierTests {
    static func nowMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    /// Generous limits unless a test is about them: the suite runs beside a hundred others on two cores.
    static func tier(_ redis: RedisServer, budget: Double = 5, cursorPath: String? = nil, configure: (inout SharedTierConfiguration) -> Void = { _ in })
        -> SharedTier
    {
        var configuration = SharedTierConfiguration(redis: RedisConfiguration(port: redis.port, connectTimeout: 10, commandTimeout: 10))
        configuration.budget = budget
        configuration.writeTimeout = 10
        configuration.chunkSize = 64 << 10
        configure(&configuration)
        return SharedTier(
            configuration: configuration, client: RedisPool(configuration.redis, group: MultiThreadedEventLoopGroup.singleton),
            logger: Logger(label: "test"), cursorPath: cursorPath, nowMilliseconds: { nowMilliseconds() })
    }

    static func entry(_ key: String, body: Int, tags: [String] = []) -> StoredEntry {
        var entry = StoredEntry(key: key, response: SampleResponse.make(String(repeating: "b", count: body)))
        entry.surrogateKeys = tags
        return entry
    }

    static func command(_ redis: RedisServer, _ command: RedisCommand) async throws -> RESPValue {
        let connection = try await RedisConnection.connect(RedisConfiguration(port: redis.port, connectTimeout: 10, commandTimeout: 10), on: MultiThreadedEventLoopGroup.singleton)
        defer { Task { await connection.close() } }
        return try await connection.send(command)
    }

    @Test func entriesSmallAndChunkedReadBackWholeAndAMissingChunkIsAMiss() async throws {
        try await RedisServer.with { redis in
            let tier = Self.tier(redis)
            defer { Task { await tier.close() } }
            let small = Self.entry("https://a.example/small", body: 100)
            let large = Self.entry("https://a.example/large", body: 300_000)
            #expect(await tier.write(small))
            #expect(await tier.write(large))
            #expect(await tier.read(small.key, inMemoryLimit: 1 << 20)?.entry.body == small.body)
            let read = try #require(await tier.read(large.key, inMemoryLimit: 1 << 20))
            #expect(read.entry.body == large.body && read.entry.fields.map(\.name) == large.fields.map(\.name))
            #expect(await tier.read("https://a.example/none", inMemoryLimit: 1 << 20) == nil)
            // Five chunks of 64 KiB and the metadata, each with a lifetime.
            let names = try await Self.command(redis, RedisCommand("KEYS", .string("moxy:" + tier.keys.tag(large.key) + "*"))).elements?.compactMap(\.string) ?? []
            #expect(names.count == 6, "\(names)")
            for name in names { #expect(try await Self.command(redis, RedisCommand("PTTL", .string(name))).int ?? -1 > 0) }
            // Written again: the previous write's chunks go.
            #expect(await tier.write(large))
            let after = try await Self.command(redis, RedisCommand("KEYS", .string("moxy:" + tier.keys.tag(large.key) + "*"))).elements ?? []
            #expect(after.count == 6)
            // One chunk gone (evicted by Redis): a miss, never a torn body.
            let chunk = try #require(after.compactMap(\.string).first { $0.contains(":c:") })
            _ = try await Self.command(redis, RedisCommand("DEL", .string(chunk)))
            #expect(await tier.read(large.key, inMemoryLimit: 1 << 20) == nil)
        }
    }

    @Test func aHardPurgeByTagRemovesItsEntriesAndReachesTheOtherNodesFeed() async throws {
        try await RedisServer.with { redis in
            let a = Self.tier(redis)
            let b = Self.tier(redis)
            defer { Task { await a.close(); await b.close() } }
            #expect(await a.write(Self.entry("https://a.example/1", body: 10, tags: ["post-1"])))
            #expect(await a.write(Self.entry("https://a.example/2", body: 10, tags: ["post-2"])))
            let received = NIOLockedValueBox<[PurgeRecord]>([])
            a.onPurge { record in Issue.record("a node applies its own purge twice: \(record)") }
            b.onPurge { record in received.withLockedValue { $0.append(record) } }
            let feeds = Task {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await a.run() }
                    group.addTask { await b.run() }
                }
            }
            defer { feeds.cancel() }
            let purge = PurgeRecord(selector: .tag("post-1"), soft: false, time: Self.nowMilliseconds() / 1000)
            _ = await a.apply(purge)
            #expect(await a.read("https://a.example/1", inMemoryLimit: 1 << 20) == nil)
            #expect(await a.read("https://a.example/2", inMemoryLimit: 1 << 20) != nil)
            try await waitUntil { received.withLockedValue { $0 } == [purge] }
            #expect(b.stats.purgesApplied == 1)
        }
    }

    @Test func aNodeAwayFromTheFeedCatchesUpAndOneThatFellBehindItsLengthMarksAllStale() async throws {
        let cursor = "/tmp/moxy-feed-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(cursor) }
        try await RedisServer.with { redis in
            let a = Self.tier(redis)
            defer { Task { await a.close() } }
            let received = NIOLockedValueBox<[PurgeRecord]>([])
            func runB() -> (SharedTier, Task<Void, Never>) {
                let b = Self.tier(redis, cursorPath: cursor)
                b.onPurge { record in received.withLockedValue { $0.append(record) } }
                return (b, Task { await b.run() })
            }
            let first = PurgeRecord(selector: .keys(["https://a.example/x"]), soft: true, time: 100)
            _ = await a.apply(first)
            var (b, running) = runB()
            // No position yet: the feed is replayed.
            try await waitUntil { received.withLockedValue { $0 } == [first] }
            running.cancel()
            await running.value
            await b.close()
            // Away: a purge is made meanwhile; back, it is applied.
            let second = PurgeRecord(selector: .prefixes(["https://a.example/"]), soft: false, time: 200)
            _ = await a.apply(second)
            (b, running) = runB()
            try await waitUntil { received.withLockedValue { $0 } == [first, second] }
            running.cancel()
            await running.value
            await b.close()
            // Away while the feed is trimmed past its position: it marks everything stale.
            let third = PurgeRecord(selector: .tag("t"), soft: false, time: 300)
            _ = await a.apply(third)
            _ = try await Self.command(redis, RedisCommand("XTRIM", .string(a.keys.purges), "MAXLEN", 0))
            (b, running) = runB()
            try await waitUntil { received.withLockedValue { $0 }.count == 3 }
            let last = try #require(received.withLockedValue { $0 }.last)
            #expect(last.selector == .all && last.soft)
            #expect(b.stats.feedGaps == 1)
            running.cancel()
            await running.value
            await b.close()
        }
    }

    @Test func oneNodeFillsAColdKeyWhileTheOthersWaitForItsEntry() async throws {
        try await RedisServer.with { redis in
            let a = Self.tier(redis)
            // B's wait starts before the test sees it waiting and has A write: 30 s, since with 5 s
            // a CI run whose suites held the shared event loops busy gave up before A's write came.
            let b = Self.tier(redis) { $0.coalesceWait = 30 }
            defer { Task { await a.close(); await b.close() } }
            let key = "https://a.example/cold"
            guard case .fetch(let token?) = await a.awaitFill(key) else {
                Issue.record("the first node takes the lock")
                return
            }
            async let waiting = b.awaitFill(key)
            // Only once B found the lock taken (a fixed pause raced B's first connection on a
            // loaded machine: the entry and the lock's release came first, and B took the lock).
            try await waitUntil { b.stats.operations["fill_waited"] == 1 }
            #expect(await a.write(Self.entry(key, body: 10)))
            #expect(await waiting == .stored)
            // A fetch that stores nothing releases the lock: the waiter fetches at once.
            let other = "https://a.example/uncacheable"
            guard case .fetch(let second?) = await a.awaitFill(other) else {
                Issue.record("the first node takes the lock")
                return
            }
            async let next = b.awaitFill(other)
            try await waitUntil { b.stats.operations["fill_waited"] == 2 }
            await a.releaseFill(other, token: second)
            #expect(await next == .fetch(token: nil))
            _ = token
        }
    }

    @Test func aRedisThatStopsAnsweringCostsAMissWithinTheBudgetThenTheBreakerOpens() async throws {
        try await RedisServer.with { redis in
            let tier = Self.tier(redis, budget: 0.05) { $0.breakerFailures = 3; $0.breakerOpenSeconds = 5 }
            // The write before the stop has time (the budget is for lookups).
            defer { Task { await tier.close() } }
            #expect(await tier.write(Self.entry("https://a.example/k", body: 10)))
            redis.process.signal(SIGSTOP)
            // Each lookup ends at its budget (50 ms), not at the connection's 10 s command
            // timeout; the three failures open the breaker.
            let started = ContinuousClock.now
            for _ in 0..<3 { #expect(await tier.read("https://a.example/k", inMemoryLimit: 1 << 20) == nil) }
            #expect(ContinuousClock.now - started < .seconds(9), "three lookups within their budgets")
            #expect(tier.stats.breaker == 1)
            #expect(tier.stats.operations["read_timeout", default: 0] >= 1)
            // Open: refused at once, without a call.
            let refused = tier.stats.operations["read_refused", default: 0]
            #expect(await tier.read("https://a.example/k", inMemoryLimit: 1 << 20) == nil)
            #expect(tier.stats.operations["read_refused", default: 0] == refused + 1)
            redis.process.signal(SIGCONT)
            // After the open period one probe goes out; it succeeds and the tier is back.
            try await waitUntil(timeout: .seconds(30)) {
                await tier.read("https://a.example/k", inMemoryLimit: 1 << 20) != nil
            }
            #expect(tier.stats.breaker == 0)
        }
    }

    /// The ACL of docs/scaling.md is enough for everything the tier does, and confines it to its keys.
    @Test func theDocumentedACLUserCanDoEverythingTheTierDoes() async throws {
        try await RedisServer.with { redis in
            _ = try await Self.command(
                redis,
                RedisCommand(
                    "ACL", "SETUSER", "moxy", "on", ">pw", "~moxy:*", "+@read", "+@write", "+@stream", "+@scripting", "+ping", "+hello",
                    "+auth", "+select", "+cluster|slots", "+asking", "-@dangerous"))
            let tier = Self.tier(redis) { $0.redis.username = "moxy"; $0.redis.password = "pw" }
            let other = Self.tier(redis) { $0.redis.username = "moxy"; $0.redis.password = "pw" }
            defer { Task { await tier.close(); await other.close() } }
            let received = NIOLockedValueBox<[PurgeRecord]>([])
            other.onPurge { record in received.withLockedValue { $0.append(record) } }
            let feed = Task { await other.run() }
            defer { feed.cancel() }
            #expect(await tier.write(Self.entry("https://a.example/acl", body: 200_000, tags: ["t"])))
            #expect(await tier.read("https://a.example/acl", inMemoryLimit: 1 << 20) != nil)
            guard case .fetch(let token?) = await tier.awaitFill("https://a.example/cold") else {
                Issue.record("the fill lock")
                return
            }
            await tier.releaseFill("https://a.example/cold", token: token)
            let purge = PurgeRecord(selector: .tag("t"), soft: false, time: Self.nowMilliseconds() / 1000)
            _ = await tier.apply(purge)
            #expect(await tier.read("https://a.example/acl", inMemoryLimit: 1 << 20) == nil)
            try await waitUntil { received.withLockedValue { $0 } == [purge] }
            #expect(tier.stats.operations.keys.filter { $0.hasSuffix("_error") }.isEmpty, "\(tier.stats.operations)")
        }
    }
}
