// SPDX-License-Identifier: Apache-2.0

import Foundation
import MoxyServer
import MoxyTestSupport
import NIOHTTP1
import Testing

/// The disk tier behind the memory tier, in one process.
@Suite struct DiskTierTests {
    static func directory() -> String {
        NSTemporaryDirectory() + "moxy-tier-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    static func entryFiles(_ directory: String) -> Int {
        (FileManager.default.enumerator(atPath: directory)?.compactMap { $0 as? String } ?? [])
            .filter { !$0.hasPrefix("tmp") && $0.split(separator: "/").count == 3 }.count
    }

    /// An object over the memory tier's object limit lives on disk only and is served from there.
    @Test func objectsTooLargeForMemoryAreServedFromDisk() async throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await MoxyHarness.run(
            configure: {
                $0.diskCachePath = directory
                $0.memoryMaxObjectSize = 16 << 10
            },
            routes: { [try originRoute($0)] }
        ) { moxy in
            let big = Array(repeating: UInt8(ascii: "b"), count: 100_000)
            moxy.origin.route("/big.bin", OriginRoute(headers: [("Content-Type", "application/octet-stream"), ("Cache-Control", "max-age=600")], body: big))
            moxy.origin.route("/small.txt", text("small", [("Cache-Control", "max-age=600")]))
            let first = try await moxy.request("/big.bin")
            #expect(first.body == big)
            _ = try await moxy.request("/small.txt")
            try await moxy.waitForUpstreamWork()
            for _ in 0..<100 where Self.entryFiles(directory) < 2 { try await Task.sleep(for: .milliseconds(20)) }
            let again = try await moxy.request("/big.bin")
            #expect(again.body == big)
            #expect(again.header("cache-status") == "moxy; hit; ttl=600; detail=disk", "\(again.header("cache-status") ?? "")")
            let small = try await moxy.request("/small.txt")
            #expect(small.header("cache-status")?.hasPrefix("moxy; hit; ttl=") == true, "small objects stay in memory")
            #expect(moxy.origin.count("/big.bin") == 1)
        }
    }

    /// A disk that cannot be written (here: a file where the directory should be) changes nothing
    /// for clients: small objects are served from memory, large ones pass through uncached.
    @Test func aDiskThatCannotBeWrittenKeepsServing() async throws {
        let blocker = Self.directory()
        FileManager.default.createFile(atPath: blocker, contents: Data("not a directory".utf8))
        defer { try? FileManager.default.removeItem(atPath: blocker) }
        try await MoxyHarness.run(
            configure: {
                $0.diskCachePath = blocker + "/cache"
                $0.memoryMaxObjectSize = 16 << 10
            },
            routes: { [try originRoute($0)] }
        ) { moxy in
            let big = Array(repeating: UInt8(ascii: "b"), count: 600_000)
            moxy.origin.route("/big.bin", OriginRoute(headers: [("Content-Type", "application/octet-stream"), ("Cache-Control", "max-age=600")], body: big))
            moxy.origin.route("/small.txt", text("small", [("Cache-Control", "max-age=600")]))
            for _ in 0..<2 {
                let small = try await moxy.request("/small.txt")
                #expect(small.text == "small")
                let large = try await moxy.request("/big.bin")
                #expect(large.body == big)
                try await moxy.waitForUpstreamWork()
            }
            let again = try await moxy.request("/small.txt")
            #expect(again.header("cache-status")?.hasPrefix("moxy; hit;") == true)
            #expect(moxy.origin.count("/small.txt") == 1 && moxy.origin.count("/big.bin") == 2)
        }
    }

    /// An entry read back from disk gets its gzip form again (only the identity body is stored).
    @Test func anEntryReadBackFromDiskIsServedCompressedAgain() async throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let page = String(repeating: "<p>the same paragraph, many times over</p>\n", count: 100)
        let route: (TestOrigin) throws -> [RouteConfiguration] = { origin in
            origin.route("/page.html", text(page, [("Content-Type", "text/html"), ("Cache-Control", "max-age=600")]))
            return [try originRoute(origin)]
        }
        try await MoxyHarness.run(configure: { $0.diskCachePath = directory }, routes: route) { moxy in
            _ = try await moxy.request("/page.html")
            for _ in 0..<100 where Self.entryFiles(directory) < 1 { try await Task.sleep(for: .milliseconds(20)) }
        }
        // A second server on the same directory: its memory is empty, the entry is on disk.
        try await MoxyHarness.run(configure: { $0.diskCachePath = directory }, routes: route) { moxy in
            let compressed = try await moxy.request("/page.html", headers: [("Accept-Encoding", "gzip")])
            #expect(compressed.header("cache-status")?.contains("detail=disk") == true, "\(compressed.header("cache-status") ?? "")")
            #expect(compressed.header("content-encoding") == "gzip" && compressed.body.count < page.utf8.count)
            let identity = try await moxy.request("/page.html")
            #expect(identity.header("content-encoding") == nil && identity.text == page)
            #expect(identity.header("cache-status")?.hasPrefix("moxy; hit; ttl=") == true, "promoted to memory")
            #expect(moxy.origin.count("/page.html") == 0)
        }
    }

    /// An unsafe method that invalidates a URI removes its file too, so a restart cannot bring it back.
    @Test func invalidationRemovesTheFile() async throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await MoxyHarness.run(configure: { $0.diskCachePath = directory }, routes: { [try originRoute($0)] }) { moxy in
            moxy.origin.respond("/doc") { request in request.method == .GET ? text("v1", [("Cache-Control", "max-age=600")]) : text("ok") }
            _ = try await moxy.request("/doc")
            for _ in 0..<100 where Self.entryFiles(directory) < 1 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(Self.entryFiles(directory) == 1)
            let posted = try await moxy.request("/doc", method: .POST)
            #expect(posted.status == 200)
            for _ in 0..<100 where Self.entryFiles(directory) > 0 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(Self.entryFiles(directory) == 0)
        }
    }
}
