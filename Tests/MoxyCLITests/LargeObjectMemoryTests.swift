// SPDX-License-Identifier: Apache-2.0

import AsyncHTTPClient
import Foundation
import MoxyTestSupport
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

/// Memory per request stays bounded whatever the object's size: a 200 MiB body streams through a
/// real `moxy serve` to the client and the disk tier with the process's resident memory growing
/// by less than 32 MiB, and the next request is a disk hit, streamed from the file as well.
@Suite struct LargeObjectMemoryTests {
    static let size = 200 << 20

    /// The peak resident bytes of a process so far (`VmHWM`), or its current ones (`VmRSS`).
    static func memory(_ pid: Int32, _ field: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return nil }
        return kilobytes * 1024
    }

    /// Reads a response's body, comparing it with `expected` as it arrives (nothing kept).
    static func compare(_ response: HTTPClientResponse, with expected: [UInt8]) async throws -> (length: Int, equal: Bool) {
        var offset = 0
        var equal = true
        for try await chunk in response.body {
            let count = chunk.readableBytes
            guard offset + count <= expected.count else { return (offset + count, false) }
            let same = chunk.withUnsafeReadableBytes { piece in
                expected.withUnsafeBytes { whole in memcmp(piece.baseAddress!, whole.baseAddress! + offset, count) == 0 }
            }
            equal = equal && same
            offset += count
        }
        return (offset, equal)
    }

    @Test func a200MiBBodyStreamsThroughInBoundedMemory() async throws {
        // A pattern whose length is no multiple of the disk's block size, so that no two blocks
        // of the body are alike (a block read from the wrong place would show).
        var pattern = ByteBuffer()
        for index in 0..<((1 << 20) / 8 + 3) { pattern.writeInteger(UInt64(index) &* 0x9E37_79B9_7F4A_7C15) }
        var whole = ByteBuffer()
        whole.reserveCapacity(Self.size + pattern.readableBytes)
        while whole.readableBytes < Self.size { whole.writeImmutableBuffer(pattern) }
        let body = Array(whole.readableBytesView.prefix(Self.size))
        let origin = TestOrigin()
        try await origin.start(group: MultiThreadedEventLoopGroup.singleton)
        origin.route("/big.bin", OriginRoute(headers: [("Content-Type", "application/octet-stream"), ("Cache-Control", "max-age=3600")], body: body))
        origin.route("/small.txt", OriginRoute(headers: [("Content-Type", "text/plain"), ("Cache-Control", "max-age=3600")], body: Array("warm".utf8)))
        let directory = NSTemporaryDirectory() + "moxy-large-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let config = directory + ".yaml"
        defer {
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.removeItem(atPath: config)
        }
        try """
            routes:
              files:
                upstream: \(origin.url(""))
                max_object_size: 256MiB
            cache:
              disk:
                enabled: true
                path: \(directory)
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let server = try await CLITests.startServer(["--config", config], environment: [:])
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        do {
            // Warm the paths every request takes (connections, pools, a disk write) first.
            for _ in 0..<3 { _ = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(server.port)/small.txt"), timeout: .seconds(10)).body.collect(upTo: 1 << 10) }
            let pid = server.process.processIdentifier
            let idle = try #require(Self.memory(pid, "VmRSS"))

            let first = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(server.port)/big.bin"), timeout: .seconds(60))
            #expect(first.headers.first(name: "cache-status")?.contains("detail=streamed") == true, "\(first.headers)")
            let streamed = try await Self.compare(first, with: body)
            #expect(streamed.length == Self.size && streamed.equal)
            let peak = try #require(Self.memory(pid, "VmHWM"))
            #expect(peak - idle < 32 << 20, "idle \(idle >> 10) KiB, peak \(peak >> 10) KiB: grew \((peak - idle) >> 10) KiB")

            try await waitUntil { Self.entryFiles(directory) >= 2 }
            let second = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(server.port)/big.bin"), timeout: .seconds(60))
            let status = second.headers.first(name: "cache-status") ?? ""
            #expect(status.hasPrefix("moxy; hit; ttl=") && status.hasSuffix("; detail=disk"), "\(status)")
            #expect(second.headers.first(name: "content-length") == String(Self.size))
            let fromDisk = try await Self.compare(second, with: body)
            #expect(fromDisk.length == Self.size && fromDisk.equal)
            let after = try #require(Self.memory(pid, "VmHWM"))
            #expect(after - idle < 32 << 20, "the disk hit streams too: peak \(after >> 10) KiB")
            #expect(origin.count("/big.bin") == 1)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
        try await CLITests.stop(server)
        await origin.stop()
    }

    static func entryFiles(_ directory: String) -> Int {
        (FileManager.default.enumerator(atPath: directory)?.compactMap { $0 as? String } ?? [])
            .filter { !$0.hasPrefix("tmp") && $0.split(separator: "/").count == 3 }.count
    }
}
