// SPDX-License-Identifier: Apache-2.0

import AsyncHTTPClient
import Foundation
import MoxyRedis
import MoxyTestSupport
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

/// Two real `moxy serve` processes and one real `redis-server`: what one node stores the other
/// serves, a purge on one is honoured by the other, a fresh node gets the last good answer.
@Suite(.serialized) struct SharedTierCLITests {
    /// Two nodes on one Redis, each with its own working directory (its own disk tier).
    struct Nodes {
        let a: CLITests.Server
        let b: CLITests.Server
        let adminA: Int
        let adminB: Int

        func url(_ node: CLITests.Server, _ path: String) -> String { "http://127.0.0.1:\(node.port)\(path)" }

        func stop() async {
            await CLITests.kill(a.process)
            await CLITests.kill(b.process)
        }
    }

    /// The environment of a node: the shared tier with limits a loaded test machine keeps.
    static func environment(_ redis: RedisServer, _ extra: [String: String] = [:]) -> [String: String] {
        [
            "MOXY_ALLOW_LOOPBACK": "true", "MOXY_ADMIN_TOKEN": adminToken, "MOXY_SHARED_URL": "redis://127.0.0.1:\(redis.port)",
            "MOXY_SHARED_TIMEOUT": "5s", "MOXY_SHARED_WRITE_TIMEOUT": "10s",
        ].merging(extra) { $1 }
    }

    static func startNode(_ arguments: [String], _ redis: RedisServer, _ extra: [String: String] = [:]) async throws -> (CLITests.Server, Int) {
        let server = try await CLITests.startServer(arguments + ["--admin-listen", "127.0.0.1:0"], environment: environment(redis, extra))
        return (server, try await OperationsCLITests.adminPort(server))
    }

    /// Runs `body` with two nodes, stopped (and awaited) on every path: a node left running
    /// would load the machine for the tests that follow.
    static func withNodes(_ arguments: [String], _ redis: RedisServer, _ body: (Nodes) async throws -> Void) async throws {
        let (a, adminA) = try await startNode(arguments, redis)
        let b: CLITests.Server
        let adminB: Int
        do {
            (b, adminB) = try await startNode(arguments, redis)
        } catch {
            await CLITests.kill(a.process)
            throw error
        }
        let nodes = Nodes(a: a, b: b, adminA: adminA, adminB: adminB)
        do {
            try await body(nodes)
        } catch {
            await nodes.stop()
            throw error
        }
        await nodes.stop()
    }

    /// Whether a `Cache-Status` is a hit from this tier (`detail=`; nil: memory, no detail).
    static func isHit(_ status: String?, from tier: String?) -> Bool {
        guard let status, status.hasPrefix("moxy; hit") else { return false }
        return tier.map { status.contains("detail=" + $0) } ?? !status.contains("detail=")
    }

    /// Entries' metadata keys in Redis right now.
    static func storedEntries(_ redis: RedisServer) async throws -> Int {
        let connection = try await RedisConnection.connect(RedisConfiguration(port: redis.port, connectTimeout: 10, commandTimeout: 10), on: MultiThreadedEventLoopGroup.singleton)
        defer { Task { await connection.close() } }
        return try await connection.send(RedisCommand("KEYS", "moxy:{*}:m")).elements?.count ?? 0
    }

    /// Waits until Redis holds `count` entries (the write behind the first node's answer).
    static func waitForEntries(_ redis: RedisServer, _ count: Int) async throws {
        try await waitUntil(timeout: .seconds(20)) { (try? await storedEntries(redis)) ?? 0 >= count }
    }

    @Test func aMissOnOneNodeIsAHitOnTheOtherAndPurgesReachEveryNode() async throws {
        let origin = try await CLITests.pixelOrigin()
        defer { Task { await origin.stop() } }
        let fields = [("Content-Type", "text/plain"), ("Cache-Control", "max-age=600")]
        origin.route("/doc", OriginRoute(headers: fields + [("Surrogate-Key", "docs")], body: Array("doc".utf8)))
        origin.route("/keep", OriginRoute(headers: fields, body: Array("keep".utf8)))
        try await RedisServer.with { redis in
            try await Self.withNodes(["--route", "/=\(origin.url(""))"], redis) { nodes in
                #expect(try await OperationsCLITests.get(nodes.url(nodes.a, "/doc")).cacheStatus?.contains("fwd=uri-miss") == true)
                try await Self.waitForEntries(redis, 1)
                let shared = try await OperationsCLITests.get(nodes.url(nodes.b, "/doc"))
                #expect(shared.body == "doc" && Self.isHit(shared.cacheStatus, from: "shared"), "\(shared.cacheStatus ?? "")")
                let again = try await OperationsCLITests.get(nodes.url(nodes.b, "/doc")).cacheStatus
                #expect(Self.isHit(again, from: nil), "promoted to memory: \(again ?? "")")
                #expect(origin.count("/doc") == 1, "no upstream request from the second node")

                // Purge by tag on A: B misses at its next request, within a second of the answer.
                let purged = try await adminCall(port: nodes.adminA, .POST, "/purge", body: "tag=docs")
                #expect(purged.status == 200, "\(purged.text)")
                let answered = ContinuousClock.now
                try await waitUntil(timeout: .seconds(10)) {
                    (try? await OperationsCLITests.get(nodes.url(nodes.b, "/doc")).cacheStatus?.contains("hit")) == false
                }
                let elapsed = ContinuousClock.now - answered
                #expect(origin.count("/doc") == 2, "B fetched it again")
                // A second on an idle machine; the suite shares two cores with a hundred others.
                #expect(elapsed < .seconds(5), "\(elapsed)")

                // Purge by URL on A of an entry B stored.
                _ = try await OperationsCLITests.get(nodes.url(nodes.b, "/keep"))
                try await Self.waitForEntries(redis, 2)
                #expect(Self.isHit(try await OperationsCLITests.get(nodes.url(nodes.a, "/keep")).cacheStatus, from: "shared"))
                #expect(try await adminCall(port: nodes.adminA, .POST, "/purge", body: "url=/keep").status == 200)
                try await waitUntil(timeout: .seconds(10)) {
                    (try? await OperationsCLITests.get(nodes.url(nodes.b, "/keep")).cacheStatus?.contains("hit")) == false
                }
                #expect(origin.count("/keep") == 2)
                // A node with a shared tier stops at one SIGTERM, cleanly.
                try await CLITests.stop(nodes.a, removingDirectory: false)
            }
        }
    }

    @Test func aNodeDisconnectedDuringAPurgeCatchesUpWhenItReconnects() async throws {
        let origin = try await CLITests.pixelOrigin()
        defer { Task { await origin.stop() } }
        origin.route("/doc", OriginRoute(headers: [("Cache-Control", "max-age=600"), ("Surrogate-Key", "docs")], body: Array("doc".utf8)))
        try await RedisServer.with { redis in
            try await Self.withNodes(["--route", "/=\(origin.url(""))"], redis) { nodes in
                _ = try await OperationsCLITests.get(nodes.url(nodes.b, "/doc"))
                #expect(Self.isHit(try await OperationsCLITests.get(nodes.url(nodes.b, "/doc")).cacheStatus, from: nil))
                // B stops (as a node that hangs or loses the network) and its connections are cut
                // (A's too: it reconnects); the purge is made on A while B has no connection; B comes
                // back, reconnects and reads the feed from its position.
                nodes.b.process.signal(SIGSTOP)
                let connection = try await RedisConnection.connect(RedisConfiguration(port: redis.port, connectTimeout: 10, commandTimeout: 10), on: MultiThreadedEventLoopGroup.singleton)
                _ = try await connection.send(RedisCommand("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"))
                try await Task.sleep(for: .milliseconds(200))
                let purge = try await adminCall(port: nodes.adminA, .POST, "/purge", body: "tag=docs")
                #expect(purge.status == 200)
                let feed = try await connection.send(RedisCommand("XLEN", "moxy:{purges}:feed")).int
                #expect(feed == 1, "the purge is in the feed while B is away")
                await connection.close()
                nodes.b.process.signal(SIGCONT)
                try await waitUntil(timeout: .seconds(10)) {
                    (try? await OperationsCLITests.get(nodes.url(nodes.b, "/doc")).cacheStatus?.contains("hit")) == false
                }
                #expect(origin.count("/doc") == 2)
            }
        }
    }

    @Test func aFreshNodeServesTheLastGoodAnswerStoredByAnotherWhileTheUpstreamSendsErrorsAs200() async throws {
        let origin = try await CLITests.pixelOrigin()
        defer { Task { await origin.stop() } }
        let json = [("Content-Type", "application/json"), ("Cache-Control", "max-age=1")]
        origin.route("/api/posts", OriginRoute(headers: json, body: Array(#"{"items":[1,2]}"#.utf8)))
        let directory = try OperationsCLITests.configDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/moxy.yaml"
        try """
        routes:
          api:
            path_prefix: /api
            upstream: \(origin.url(""))
            validate:
              keep_last_good: 1h
              rules:
                - {name: has-items, pointer: /items, exists: true}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        try await RedisServer.with { redis in
            let (a, _) = try await Self.startNode(["--config", file], redis)
            defer { Task { await CLITests.kill(a.process) } }
            #expect(try await OperationsCLITests.get("http://127.0.0.1:\(a.port)/api/posts").body == #"{"items":[1,2]}"#)
            try await Self.waitForEntries(redis, 1)
            // The upstream breaks (an error page sent as 200), and a node with an empty disk starts.
            origin.route("/api/posts", OriginRoute(headers: json, body: Array(#"{"error":"database down"}"#.utf8)))
            // Past max-age=1 with whole seconds to spare (ages are counted in whole seconds from
            // the Date field): every node must ask the upstream.
            try await Task.sleep(for: .milliseconds(2100))
            let (b, _) = try await Self.startNode(["--config", file], redis)
            defer { Task { await CLITests.kill(b.process) } }
            let answer = try await OperationsCLITests.get("http://127.0.0.1:\(b.port)/api/posts")
            #expect(answer.body == #"{"items":[1,2]}"#, "the last good answer, from the shared tier")
            #expect(answer.cacheStatus?.contains("INVALID-BODY") == true || answer.cacheStatus?.contains("invalid") == true, "\(answer.cacheStatus ?? "")")
            #expect(origin.count("/api/posts") == 2, "B asked the upstream once and kept the shared answer")
        }
    }
}
