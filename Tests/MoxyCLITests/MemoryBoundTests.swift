// SPDX-License-Identifier: Apache-2.0

import Foundation
import MoxyTestSupport
import NIOCore
import NIOPosix
import Testing

/// The memory tier's byte bound means memory: a `moxy serve` whose tier is full of tiny objects
/// stays within 10 % of its idle resident memory plus `cache.memory_size` (RSS read from /proc).
@Suite struct MemoryBoundTests {
    /// Resident bytes of a process.
    static func residentBytes(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return nil }
        return kilobytes * 1024
    }

    @Test func aTierFullOfTinyObjectsStaysWithinItsBound() async throws {
        let origin = TestOrigin()
        try await origin.start(group: MultiThreadedEventLoopGroup.singleton)
        origin.routeEverythingElse(OriginRoute(
            headers: [("Content-Type", "image/png"), ("Cache-Control", "public, max-age=86400"), ("Last-Modified", "Mon, 30 Nov 2026 08:00:00 GMT")],
            body: Array(repeating: 7, count: 200)))
        let size = 8 << 20
        let server = try await CLITests.startServer(["--route", "/=\(origin.url(""))", "--memory-cache-size", "8MiB"], environment: [:])
        // Warm the paths every request takes (connections, pools) before the idle figure.
        _ = try await RawClient.exchange(port: server.port, request: Self.requests(0..<50, closing: true))
        let idle = try #require(Self.residentBytes(server.process.processIdentifier))
        // 8,000 distinct objects of 200 bytes (charged about 1,900 bytes each): nearly twice what
        // the tier holds, so it is full and evicting. Four connections at a time, pipelined.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for connection in 0..<4 {
                group.addTask {
                    // Batches of 100 on a connection each, so that no exchange is long even on a
                    // loaded machine (the client's bound is for a server that stopped answering).
                    for batch in 0..<20 {
                        let first = 100 + connection * 2_000 + batch * 100
                        let answer = try await RawClient.exchange(
                            port: server.port, request: Self.requests(first..<(first + 100), closing: true), timeout: .seconds(60))
                        #expect(answer.components(separatedBy: "HTTP/1.1 200 OK").count == 102, "every request answered (and the closing one)")
                    }
                }
            }
            try await group.waitForAll()
        }
        let full = try #require(Self.residentBytes(server.process.processIdentifier))
        let bound = Double(idle + size) * 1.1
        #expect(Double(full) <= bound, "idle \(idle >> 10) KiB, full \(full >> 10) KiB, bound \(Int(bound) >> 10) KiB")
        #expect(full - idle > size / 2, "the tier filled: grew \((full - idle) >> 10) KiB")
        try await CLITests.stop(server)
        await origin.stop()
    }

    static func requests(_ range: Range<Int>, closing: Bool) -> String {
        var text = ""
        for index in range { text += "GET /uploads/2026/11/photo-\(index).png HTTP/1.1\r\nHost: images.example.com\r\n\r\n" }
        return text + (closing ? "GET /uploads/last.png HTTP/1.1\r\nHost: images.example.com\r\nConnection: close\r\n\r\n" : "")
    }
}
