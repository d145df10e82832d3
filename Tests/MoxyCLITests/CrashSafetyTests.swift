// SPDX-License-Identifier: Apache-2.0

import AsyncHTTPClient
import Foundation
import MoxyTestSupport
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

/// Crash safety of the disk tier: a `moxy serve` writing entries is killed with SIGKILL at random
/// moments, 20 times, and restarted on the same directory each time; every body it ever serves is
/// compared byte for byte with the origin's. Not one may differ.
@Suite struct CrashSafetyTests {
    static let objects = 40

    /// Object `index`'s body: ASCII lines naming the object, 1 to 640 KiB: with a 1 MiB memory
    /// tier, those over 128 KiB stream to disk (up to three blocks), the others are written whole.
    static func body(_ index: Int) -> [UInt8] {
        let line = Array("object \(index) of the crash test, line ".utf8)
        var bytes: [UInt8] = []
        // 600 and up: the slow bodies, 300 KiB (streamed to disk).
        let size = index >= 600 ? 300 << 10 : 1_024 + (index * 37_337) % (640 << 10)
        var number = 0
        while bytes.count < size {
            bytes += line + Array("\(number)\n".utf8)
            number += 1
        }
        return Array(bytes.prefix(size))
    }

    /// One GET; nil when the kill cut it (or it took over a second: some requests cut by the kill
    /// only end by timing out on the client, and a slow answer proves nothing either way).
    static func get(_ index: Int, port: Int, client: HTTPClient) async -> (Int, [UInt8]?, String?) {
        do {
            let response = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/o/\(index)"), timeout: .seconds(1))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            return (index, Array(bytes.readableBytesView), response.headers.first(name: "cache-status"))
        } catch {
            return (index, nil, nil)
        }
    }

    @Test func killedWhileWritingItNeverServesACorruptByte() async throws {
        let directory = NSTemporaryDirectory() + "moxy-crash-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let origin = TestOrigin()
        try await origin.start(group: MultiThreadedEventLoopGroup.singleton)
        for index in 0..<Self.objects {
            origin.route("/o/\(index)", OriginRoute(headers: [("Content-Type", "text/plain"), ("Cache-Control", "max-age=3600")], body: Self.body(index)))
        }
        // A body that stops halfway (its origin never resumes it): streamed to disk (over the
        // memory tier's object limit), so each round's kill lands while its file is being written.
        for round in 0..<20 {
            var slow = OriginRoute(headers: [("Content-Type", "text/plain"), ("Cache-Control", "max-age=3600")], body: Self.body(600 + round))
            slow.chunks = 10
            slow.pauseAfterPieces = 5
            origin.route("/o/\(600 + round)", slow)
        }
        let environment = ["MOXY_CACHE_DISK_ENABLED": "true", "MOXY_CACHE_DISK_PATH": directory]
        let arguments = ["--route", "/=\(origin.url(""))", "--memory-cache-size", "1MiB"]
        try await withHTTPClient { client in
            var random = SystemRandomNumberGenerator()
            var served = 0
            var fromDisk = 0
            var killedMidWrite = 0
            var missed: [String] = []

            for round in 0..<20 {
                let server = try await CLITests.startServer(arguments, environment: environment)
                // A few whole requests (their entries are written in the background), then a burst in
                // flight while the kill comes: some complete, some are cut, some writes are torn.
                var results: [(Int, [UInt8]?, String?)] = []
                let order = (0..<Self.objects).shuffled(using: &random)
                for index in order.prefix(3) { results.append(await Self.get(index, port: server.port, client: client)) }
                let killAfter = Int.random(in: 0...60, using: &random)
                let writing = await withTaskGroup(of: (Int, [UInt8]?, String?).self) { group in
                    // The slow body's temporary file exists before the burst starts.
                    group.addTask { await Self.get(600 + round, port: server.port, client: client) }
                    // Once the origin holds the body at its pause, Moxy has read past what memory
                    // keeps and is writing the file; it stays unfinished until the kill.
                    var writing = false
                    for _ in 0..<2_000 where !writing {
                        writing = origin.pausedBodyCount > round
                        if !writing { try? await Task.sleep(for: .milliseconds(5)) }
                    }
                    for index in order.dropFirst(3).prefix(10) {
                        group.addTask { await Self.get(index, port: server.port, client: client) }
                    }
                    try? await Task.sleep(for: .milliseconds(killAfter))
                    // A file is being written when the kill comes (the paused download's stays
                    // unfinished once it exists; until then, wait for it).
                    var stillWriting = false
                    for _ in 0..<2_000 where !stillWriting {
                        stillWriting = !((try? FileManager.default.contentsOfDirectory(atPath: directory + "/tmp")) ?? []).isEmpty
                        if !stillWriting { try? await Task.sleep(for: .milliseconds(5)) }
                    }
                    kill(server.process.processIdentifier, SIGKILL)
                    for await result in group { results.append(result) }
                    if !writing || !stillWriting { missed.append("round \(round): paused \(writing), writing at the kill \(stillWriting)") }
                    return writing && stillWriting
                }
                if writing { killedMidWrite += 1 }
                await server.process.waitForExit(seconds: 60)
                CLITests.removeWorkingDirectory(server.process)
                for (index, bytes, status) in results {
                    guard let bytes else { continue }
                    served += 1
                    if status?.contains("detail=disk") == true { fromDisk += 1 }
                    #expect(bytes == Self.body(index), "round \(round): /o/\(index) differs (\(status ?? ""))")
                }
            }
            // A last start: everything on disk is whole, whatever the kills interrupted.
            let server = try await CLITests.startServer(arguments, environment: environment)
            for index in 0..<Self.objects {
                let response = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(server.port)/o/\(index)"), timeout: .seconds(10))
                let bytes = try await response.body.collect(upTo: 1 << 20)
                #expect(Array(bytes.readableBytesView) == Self.body(index), "/o/\(index) after the last restart")
                served += 1
            }
            try await CLITests.stop(server)
            // After a graceful stop, which lets the last server's own writes end: listed while it
            // ran, a loaded machine once caught one of them still being written.
            let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/tmp")) ?? []
            #expect(leftovers.isEmpty, "interrupted writes are cleaned up at start: \(leftovers)")
            #expect(served > Self.objects && fromDisk > 0, "served \(served), of which \(fromDisk) from disk after a kill")
            // Every round's kill landed while a file was being written (its temporary file was there).
            #expect(killedMidWrite == 20, "kills during a write: \(killedMidWrite) of 20; \(missed)")
        }
        await origin.stop()
    }
}
