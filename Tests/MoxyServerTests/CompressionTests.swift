// SPDX-License-Identifier: Apache-2.0

import CompressNIO
import MoxyCache
import MoxyHTTP
@testable import MoxyServer
import MoxyTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// gzip computed once per stored entry, for the clients that accept it.
@Suite struct CompressionTests {
    @Test func acceptEncodingIsReadAsRFC9110Says() {
        for yes in ["gzip", "GZIP", "br, gzip;q=0.5", "x-gzip", "*", "br, *;q=0.1", "deflate, gzip ; q=1.0"] {
            #expect(ResponseCompression.acceptsGzip(yes), "\(yes)")
        }
        for no in ["", "identity", "br", "gzip;q=0", "gzip; q=0.0, *", "*;q=0", "deflate, br"] {
            #expect(!ResponseCompression.acceptsGzip(no), "\(no)")
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
        #expect(ResponseCompression.suffixed("\"a\"") == "\"a-gzip\"" && ResponseCompression.suffixed("W/\"a\"") == "W/\"a-gzip\"")
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
            let gzip = [("Accept-Encoding", "gzip, deflate, br")]
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
}
