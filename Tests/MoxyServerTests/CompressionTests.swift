// SPDX-License-Identifier: Apache-2.0

import CompressNIO
import Foundation
import MoxyCache
import MoxyHTTP
@testable import MoxyServer
import MoxyTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// gzip, brotli and zstd computed once per stored entry, for the clients that accept them.
@Suite struct CompressionTests {
    @Test func acceptEncodingIsReadAsRFC9110Says() {
        let cases: [(String, RequestFlags)] = [
            ("gzip", [.gzip]), ("GZIP", [.gzip]), ("x-gzip", [.gzip]), ("deflate, gzip ; q=1.0", [.gzip]),
            ("br, gzip;q=0.5", [.brotli, .gzip]), ("*", [.gzip, .brotli, .zstd]), ("br, *;q=0.1", [.gzip, .brotli, .zstd]),
            ("gzip, deflate, br, zstd", [.gzip, .brotli, .zstd]), ("*;q=1, gzip;q=0", [.brotli, .zstd]), ("zstd;q=0.001", [.zstd]),
            ("", []), ("identity", []), ("gzip;q=0", []), ("gzip; q=0.0, *", [.brotli, .zstd]), ("*;q=0", []), ("deflate, compress", []),
        ]
        for (value, expected) in cases {
            #expect(RequestFlags.accepted(value) == expected, "\(value)")
        }
    }

    @Test func whatIsWorthCompressing() {
        func worth(_ type: String, _ extra: [(name: String, value: String)] = [], length: Int = 4096, status: Int = 200) -> Bool {
            ResponseCompression.isWorthIt(status: status, fields: [("Content-Type", type)] + extra, bodyLength: length)
        }
        #expect(worth("application/json; charset=utf-8") && worth("text/html") && worth("image/svg+xml") && worth("application/ld+json"))
        #expect(!worth("image/png") && !worth("font/woff2") && !worth("video/mp4") && !worth("application/zip"))
        #expect(!worth("text/plain", length: 100), "too small to gain")
        #expect(!worth("text/plain", [("Content-Encoding", "br")]), "already encoded")
        #expect(!worth("text/plain", [("Cache-Control", "max-age=60, no-transform")]), "RFC 9110 §7.7")
        #expect(!worth("text/plain", status: 404))
        #expect(ResponseCompression.suffixed("\"a\"", .gzip) == "\"a-gzip\"" && ResponseCompression.suffixed("W/\"a\"", .brotli) == "W/\"a-br\"")
    }

    static let json = "{\"items\":[" + (0..<200).map { "{\"id\":\($0),\"title\":\"Hello world number \($0)\"}" }.joined(separator: ",") + "]}"

    static func gunzip(_ bytes: [UInt8]) throws -> String {
        var buffer = ByteBuffer(bytes: bytes)
        return String(buffer: try buffer.decompress(with: .gzip()))
    }

    @Test func aStoredJSONIsSentGzippedToClientsThatAcceptItAndWholeToOthers() async throws {
        try await MoxyHarness.run(routes: { [try originRoute($0)] }) { moxy in
            moxy.origin.route(
                "/posts",
                OriginRoute(headers: [("Content-Type", "application/json"), ("Cache-Control", "max-age=60"), ("ETag", "\"p1\"")], body: Array(Self.json.utf8))
            )
            let gzip = [("Accept-Encoding", "gzip, deflate")]
            let first = try await moxy.request("/posts", headers: gzip)
            #expect(first.header("cache-status")?.hasSuffix("stored") == true)
            // The upstream was asked for the identity form, which the rules see and the cache keeps.
            #expect(moxy.origin.headers("/posts")?.first(name: "accept-encoding") == nil)
            #expect(first.header("content-encoding") == "gzip" && first.header("etag") == "\"p1-gzip\"")
            #expect(first.header("vary") == "Accept-Encoding")
            #expect(first.body.count < Self.json.utf8.count / 4 && first.header("content-length") == String(first.body.count))
            #expect(try Self.gunzip(first.body) == Self.json)
            let hit = try await moxy.request("/posts", headers: gzip)
            #expect(hit.header("cache-status")?.hasPrefix("moxy; hit") == true && hit.header("content-encoding") == "gzip")
            #expect(hit.body == first.body)
            let plain = try await moxy.request("/posts")
            #expect(plain.header("cache-status")?.hasPrefix("moxy; hit") == true)
            #expect(plain.header("content-encoding") == nil && plain.text == Self.json && plain.header("etag") == "\"p1\"")
            #expect(plain.header("vary") == "Accept-Encoding")
            // Ranges are of the identity form; conditionals name the form they were given.
            let range = try await moxy.request("/posts", headers: gzip + [("Range", "bytes=0-9")])
            #expect(range.status == 206 && range.header("content-encoding") == nil && range.text == String(Self.json.prefix(10)))
            let notModified = try await moxy.request("/posts", headers: gzip + [("If-None-Match", "\"p1-gzip\"")])
            #expect(notModified.status == 304 && notModified.header("etag") == "\"p1-gzip\"")
            let head = try await moxy.request("/posts", method: .HEAD, headers: gzip)
            #expect(head.header("content-encoding") == "gzip" && head.header("content-length") == String(first.body.count))
            #expect(moxy.origin.count("/posts") == 1)
        }
    }

    @Test func whatIsNotWorthItOrAlreadyEncodedIsSentAsItIs() async throws {
        try await MoxyHarness.run(routes: { [try originRoute($0)] }) { moxy in
            let gzip = [("Accept-Encoding", "gzip")]
            moxy.origin.route("/img", OriginRoute(headers: [("Content-Type", "image/png"), ("Cache-Control", "max-age=60")], body: Array(repeating: 7, count: 5000)))
            let image = try await moxy.request("/img", headers: gzip)
            #expect(image.header("content-encoding") == nil && image.body.count == 5000 && image.header("vary") == nil)
            var compressed = ByteBuffer(string: Self.json)
            let upstreamGzip = Array(buffer: try compressed.compress(with: .gzip()))
            moxy.origin.route(
                "/pre",
                OriginRoute(headers: [("Content-Type", "application/json"), ("Content-Encoding", "gzip"), ("Cache-Control", "max-age=60")], body: upstreamGzip)
            )
            let pre = try await moxy.request("/pre", headers: gzip)
            #expect(pre.header("content-encoding") == "gzip" && pre.body == upstreamGzip, "never encoded twice")
        }
        // The operator can turn it off.
        try await MoxyHarness.run(routes: { [try originRoute($0) { $0.cache.compress = false }] }) { moxy in
            moxy.origin.route("/posts", OriginRoute(headers: [("Content-Type", "application/json"), ("Cache-Control", "max-age=60")], body: Array(Self.json.utf8)))
            let off = try await moxy.request("/posts", headers: [("Accept-Encoding", "gzip")])
            #expect(off.header("content-encoding") == nil && off.text == Self.json && off.header("vary") == nil)
        }
    }

    @Test func aSignedSVGIsGzippedOnceAndAPNGIsNot() async throws {
        try await MoxyHarness.run(configure: { $0.upstream.contentTypes = ["image/*"] }) { moxy in
            let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\">" + String(repeating: "<rect width=\"10\" height=\"10\"/>", count: 50) + "</svg>"
            moxy.origin.route("/a.svg", OriginRoute(headers: [("Content-Type", "image/svg+xml")], body: Array(svg.utf8)))
            let first = try await moxy.request(try moxy.path("/a.svg"), headers: [("Accept-Encoding", "gzip")])
            #expect(first.header("content-encoding") == "gzip" && first.header("vary") == "Accept-Encoding")
            #expect(try Self.gunzip(first.body) == svg)
            let plain = try await moxy.get("/a.svg")
            #expect(plain.header("content-encoding") == nil && plain.text == svg)
            #expect(plain.header("cache-status")?.hasPrefix("moxy; hit") == true)
            #expect(moxy.origin.count("/a.svg") == 1)
        }
    }

    /// Decodes a body with Debian's `brotli` or `zstd` tool (a real decoder, not this project's).
    static func decode(_ bytes: [UInt8], with tool: String) async throws -> [UInt8] {
        let directory = try TLSFiles.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/in"))
        let result = try await Spawn.run(
            "/bin/sh", ["-c", "\(tool) -d -c \(directory)/in > \(directory)/out"], environment: ["PATH": "/usr/bin:/bin"], timeout: 30)
        #expect(result.status == 0, "\(tool): \(result.err)")
        return Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/out")))
    }

    @Test func theSmallestAcceptedFormIsSentAndEachDecodesToTheIdentityBody() async throws {
        try await MoxyHarness.run(routes: { [try originRoute($0)] }) { moxy in
            moxy.origin.route(
                "/posts",
                OriginRoute(headers: [("Content-Type", "application/json"), ("Cache-Control", "max-age=60"), ("ETag", "\"p1\"")], body: Array(Self.json.utf8))
            )
            var sizes: [String: Int] = [:]
            for (accept, coding, tool) in [("br", "br", "brotli"), ("zstd", "zstd", "zstd"), ("gzip", "gzip", "gzip")] {
                let response = try await moxy.request("/posts", headers: [("Accept-Encoding", accept)])
                #expect(response.header("content-encoding") == coding && response.header("etag") == "\"p1-\(coding)\"", "\(accept)")
                #expect(response.header("vary") == "Accept-Encoding" && response.header("content-length") == String(response.body.count))
                #expect(String(decoding: try await Self.decode(response.body, with: tool), as: UTF8.self) == Self.json, "\(coding)")
                sizes[coding] = response.body.count
            }
            // A client that accepts all three gets the smallest; q=0 refuses one.
            let smallest = try #require(sizes.min { $0.value < $1.value })
            let all = try await moxy.request("/posts", headers: [("Accept-Encoding", "gzip, deflate, br, zstd")])
            #expect(all.header("content-encoding") == smallest.key && all.body.count == smallest.value)
            let notThat = try await moxy.request("/posts", headers: [("Accept-Encoding", "*, \(smallest.key);q=0")])
            #expect(notThat.header("content-encoding") != smallest.key && notThat.header("content-encoding") != nil)
            #expect(sizes["br"]! < sizes["gzip"]!, "brotli is smaller than gzip on JSON: \(sizes)")
            // A conditional names the form it was given; ranges are of the identity form.
            let notModified = try await moxy.request("/posts", headers: [("Accept-Encoding", "br"), ("If-None-Match", "\"p1-br\"")])
            #expect(notModified.status == 304 && notModified.header("etag") == "\"p1-br\"")
            let range = try await moxy.request("/posts", headers: [("Accept-Encoding", "br"), ("Range", "bytes=0-9")])
            #expect(range.status == 206 && range.header("content-encoding") == nil && range.text == String(Self.json.prefix(10)))
            #expect(moxy.origin.count("/posts") == 1)
        }
    }

    @Test func theEncodersRoundTripEveryShapeOfBody() async throws {
        let bodies: [[UInt8]] = [
            Array(Self.json.utf8), Array(repeating: 0, count: 300), (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) },
            Array(String(repeating: "é😀 <p>text</p>\n", count: 5000).utf8),
        ]
        for body in bodies {
            let forms = ResponseCompression.forms(ByteBuffer(bytes: body))
            #expect(forms.map(\.1.readableBytes) == forms.map(\.1.readableBytes).sorted(), "smallest first")
            for (coding, encoded) in forms {
                #expect(encoded.readableBytes < body.count)
                let tool = coding == .brotli ? "brotli" : coding == .zstd ? "zstd" : "gzip"
                let decoded = try await Self.decode(Array(buffer: encoded), with: tool)
                #expect(decoded == body, "\(coding) of \(body.count) bytes")
            }
        }
        // Random bytes do not shrink: no form is kept.
        #expect(ResponseCompression.forms(ByteBuffer(bytes: (0..<4096).map { _ in UInt8.random(in: 0...255) })).isEmpty)
    }
}
