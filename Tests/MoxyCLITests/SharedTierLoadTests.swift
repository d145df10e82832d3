// SPDX-License-Identifier: Apache-2.0

import AsyncHTTPClient
import MoxyRedis
import MoxyTestSupport
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Two real `moxy serve` processes under concurrent load: one upstream fetch for a cold key
/// across the cluster, and a Redis killed mid-load costing no request.
@Suite(.serialized) struct SharedTierLoadTests {
    static func client(connections: Int) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connections
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }

    /// Sends `count` GETs at once to each URL; returns their statuses.
    static func concurrently(_ urls: [String], count: Int, client: HTTPClient) async -> [Int] {
        await withTaskGroup(of: Int.self) { group in
            for url in urls {
                for _ in 0..<count {
                    group.addTask {
                        guard let response = try? await client.execute(HTTPClientRequest(url: url), timeout: .seconds(30)),
                            (try? await response.body.collect(upTo: 1 << 20)) != nil
                        else { return 0 }
                        return Int(response.status.code)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
    }

    @Test func fiftyColdRequestsOnEachOfTwoNodesMakeOneUpstreamFetch() async throws {
        let origin = try await CLITests.pixelOrigin()
        defer { Task { await origin.stop() } }
        // Slow enough that both nodes' requests arrive while the first fetch runs.
        origin.route("/cold", OriginRoute(headers: [("Cache-Control", "max-age=600")], body: Array("cold".utf8), delay: .milliseconds(500)))
        try await RedisServer.with { redis in
            try await SharedTierCLITests.withNodes(["--route", "/=\(origin.url(""))"], redis) { nodes in
                let client = Self.client(connections: 64)
                defer { _ = client.shutdown() }
                let statuses = await Self.concurrently([nodes.url(nodes.a, "/cold"), nodes.url(nodes.b, "/cold")], count: 50, client: client)
                #expect(statuses.count == 100 && statuses.allSatisfy { $0 == 200 }, "\(statuses.filter { $0 != 200 })")
                #expect(origin.count("/cold") == 1, "one upstream fetch for the cluster")
            }
        }
    }

    @Test func aRedisKilledUnderLoadFailsNoRequestAndTheTierComesBackAfterARestart() async throws {
        let origin = try await CLITests.pixelOrigin()
        defer { Task { await origin.stop() } }
        for index in 0..<20 {
            origin.route("/k\(index)", OriginRoute(headers: [("Cache-Control", "max-age=600")], body: Array("k\(index)".utf8)))
        }
        origin.route("/after", OriginRoute(headers: [("Cache-Control", "max-age=600")], body: Array("after".utf8)))
        let redis = try await RedisServer.start()
        let port = redis.port
        var restarted: RedisServer?
        do {
            try await SharedTierCLITests.withNodes(["--route", "/=\(origin.url(""))"], redis) { nodes in
                let client = Self.client(connections: 32)
                defer { _ = client.shutdown() }
                // Half the keys cached before, half cold when Redis goes.
                for index in 0..<10 { _ = try await OperationsCLITests.get(nodes.url(nodes.a, "/k\(index)")) }
                let failures = NIOLockedValueBox(0)
                let sent = NIOLockedValueBox(0)
                let load = Task {
                    // Bounded: 16 clients × 40 requests, over both nodes and all keys.
                    await withTaskGroup(of: Void.self) { group in
                        for worker in 0..<16 {
                            group.addTask {
                                for round in 0..<40 {
                                    let node = (worker + round) % 2 == 0 ? nodes.a : nodes.b
                                    let url = nodes.url(node, "/k\((worker * 7 + round) % 20)")
                                    let status = try? await client.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
                                    let body = try? await status?.body.collect(upTo: 1 << 20)
                                    sent.withLockedValue { $0 += 1 }
                                    if status?.status.code != 200 || body == nil { failures.withLockedValue { $0 += 1 } }
                                }
                            }
                        }
                    }
                }
                try await waitUntil { sent.withLockedValue { $0 } >= 100 }
                await redis.kill()
                await load.value
                #expect(sent.withLockedValue { $0 } == 640)
                #expect(failures.withLockedValue { $0 } == 0, "no client request fails while Redis is gone")
                // Local hits go on without Redis.
                #expect(SharedTierCLITests.isHit(try await OperationsCLITests.get(nodes.url(nodes.a, "/k0")).cacheStatus, from: nil))

                // Redis comes back (empty, on its port): the breaker's probe finds it and the tier serves again.
                let back = try await RedisServer.start(port: port)
                restarted = back
                try await waitUntil(timeout: .seconds(60)) {
                    _ = try? await OperationsCLITests.get(nodes.url(nodes.a, "/after"))
                    return (try? await SharedTierCLITests.storedEntries(back)) ?? 0 >= 1
                }
                let after = try await OperationsCLITests.get(nodes.url(nodes.b, "/after"))
                #expect(SharedTierCLITests.isHit(after.cacheStatus, from: "shared"), "\(after.cacheStatus ?? "")")
            }
        } catch {
            await redis.stop()
            await restarted?.stop()
            throw error
        }
        await redis.stop()
        await restarted?.stop()
    }
}
