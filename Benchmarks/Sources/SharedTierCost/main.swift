// SPDX-License-Identifier: Apache-2.0

// The shared tier's costs against a redis-server on a loopback port (bench/shared-tier.sh starts
// one and runs redis-benchmark beside it):
//   swift run -c release --package-path Benchmarks shared-tier-cost PORT [GETS]
// 1. MoxyRedis' pipelined GET throughput (4 connections, 16 commands per pipeline), the shape of
//    `redis-benchmark -t get -c 4 -P 16`;
// 2. one shared-tier hit against one disk-tier hit of the same entry (10 KiB and 1 MiB bodies),
//    read one after another.

#if canImport(Glibc)
import Glibc
#endif
import Logging
import MoxyCache
import MoxyRedis
import MoxySharedTier
import MoxyStorage
import NIOCore
import NIOPosix

let arguments = CommandLine.arguments.dropFirst()
guard let port = arguments.first.flatMap({ Int($0) }) else {
    print("usage: shared-tier-cost PORT [GETS]")
    exit(2)
}
let gets = arguments.dropFirst().first.flatMap { Int($0) } ?? 200_000
let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
let configuration = RedisConfiguration(port: port, commandTimeout: 10)

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func nowMilliseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}

// 1. Throughput.
let setup = try await RedisConnection.connect(configuration, on: group)
_ = try await setup.send(RedisCommand("SET", "bench:key", .bytes(ByteBuffer(repeating: 0x61, count: 3))))
let connections = 4
let depth = 16
let started = ContinuousClock.now
try await withThrowingTaskGroup(of: Void.self) { tasks in
    for _ in 0..<connections {
        tasks.addTask {
            let connection = try await RedisConnection.connect(configuration, on: group)
            let batch = Array(repeating: RedisCommand("GET", "bench:key"), count: depth)
            for _ in 0..<(gets / connections / depth) { _ = try await connection.pipeline(batch) }
            await connection.close()
        }
    }
    try await tasks.waitForAll()
}
let elapsed = seconds(ContinuousClock.now - started)
print("moxy-redis pipelined GET: \(Int(Double(gets) / elapsed)) requests per second (\(connections) connections, pipelines of \(depth))")

// 2. Hit latency, shared against disk.
var shared = SharedTierConfiguration(redis: configuration)
shared.budget = 5
shared.writeTimeout = 10
let tier = SharedTier(
    configuration: shared, client: RedisPool(configuration, group: group), logger: Logger(label: "bench"), nowMilliseconds: nowMilliseconds)
var template = Array("/tmp/moxy-shared-bench-XXXXXX".utf8CString)
let directory = String(cString: mkdtemp(&template)!)
let disk = DiskStore(directory: directory, maxSize: 1 << 30)
for size in [10 << 10, 1 << 20] {
    let response = CachedResponse(
        status: 200, fields: [("Content-Type", "application/octet-stream")], body: ByteBuffer(repeating: 0x62, count: size),
        responseTime: nowMilliseconds() / 1000, freshness: Freshness(lifetime: 3600, initialAge: 0, isExplicit: true), downstreamMaxAge: 3600)
    let entry = StoredEntry(key: "https://bench.example/\(size)", response: response)
    guard await tier.write(entry), await disk.put(entry) else {
        print("could not store the entry")
        exit(1)
    }
    let rounds = size > 100_000 ? 500 : 5_000
    var clock = ContinuousClock.now
    for _ in 0..<rounds {
        let found = await tier.read(entry.key, inMemoryLimit: 8 << 20)
        precondition(found != nil)
    }
    let sharedMicros = seconds(ContinuousClock.now - clock) / Double(rounds) * 1e6
    clock = ContinuousClock.now
    for _ in 0..<rounds {
        let found = await disk.read(entry.key, inMemoryLimit: 8 << 20)
        precondition(found != nil)
    }
    let diskMicros = seconds(ContinuousClock.now - clock) / Double(rounds) * 1e6
    print("\(size >> 10) KiB entry: shared-tier hit \(Int(sharedMicros)) µs, disk-tier hit \(Int(diskMicros)) µs (mean of \(rounds), one after another)")
}
await tier.close()
await setup.close()
try await group.shutdownGracefully()
