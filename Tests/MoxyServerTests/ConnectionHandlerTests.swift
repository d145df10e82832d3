// SPDX-License-Identifier: Apache-2.0

import Logging
import MoxyCache
@testable import MoxyServer
import MoxySigning
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

/// The connection's dispatcher and its one writer on an `EmbeddedChannel`: request bytes in,
/// response bytes out, no socket and no clock but the manual one. Answers that go upstream are
/// proven end to end by the other suites.
@Suite struct ConnectionHandlerTests {
    static let now: Int64 = 1_800_000_000
    static let target = "http://img.example/cat.png"

    /// A connection of a server that is built but never started, with one fresh entry stored.
    final class Connection {
        let server: MoxyServer
        let channel = EmbeddedChannel()
        let signedPath: String

        init(configure: (inout ServerConfiguration) -> Void = { _ in }) throws {
            var configuration = ServerConfiguration(port: 0, eventLoopThreads: 1)
            configuration.idleTimeout = 60
            configure(&configuration)
            let signer = try URLSigner(keys: [try SigningKey(id: "default", secret: "test-secret")], defaultKeyID: "default")
            server = MoxyServer(configuration: configuration, signer: signer, logger: Logger(label: "test"), clock: .manual(ManualClock(start: ConnectionHandlerTests.now)))
            signedPath = try signer.sign(ConnectionHandlerTests.target)
            let entry = CachedResponse(
                status: 200, fields: [("Content-Type", "image/png"), ("Cache-Control", "max-age=60"), ("ETag", "\"v1\"")],
                body: ByteBuffer(string: "0123456789"), responseTime: ConnectionHandlerTests.now - 10,
                freshness: Freshness(lifetime: 60, initialAge: 0, isExplicit: true), downstreamMaxAge: 60)
            _ = server.proxy.tier.store.put(ConnectionHandlerTests.target, entry)
            try channel.pipeline.syncOperations.addHandler(
                ConnectionHandler(proxy: server.proxy, idleTimeout: .seconds(Int64(configuration.idleTimeout)), maxHeadBytes: 80 << 10))
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40_000)).wait()
        }

        /// Sends request bytes and returns everything written back.
        func exchange(_ requests: String) throws -> String {
            try channel.writeInbound(ByteBuffer(string: requests))
            var out = ""
            while let buffer = try channel.readOutbound(as: ByteBuffer.self) { out += String(buffer: buffer) }
            return out
        }

        func close() async {
            _ = try? channel.finish()
            await server.shutdown()
        }
    }

    @Test func aFreshHitIsThePreEncodedHeadWithAgeAndCacheStatus() async throws {
        let connection = try Connection()
        let out = try connection.exchange("GET \(connection.signedPath) HTTP/1.1\r\nHost: moxy\r\n\r\n")
        #expect(out.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(out.contains("\r\nAge: 10\r\n"))
        #expect(out.contains("\r\nCache-Status: moxy; hit; ttl=50\r\n"))
        #expect(out.contains("\r\nContent-Length: 10\r\n"))
        #expect(out.hasSuffix("\r\n\r\n0123456789"))
        #expect(connection.channel.isActive)
        await connection.close()
    }

    @Test func pipelinedRequestsAreAnsweredInOrderWithConditionalsAndRanges() async throws {
        let connection = try Connection()
        let path = connection.signedPath
        let out = try connection.exchange(
            "GET \(path) HTTP/1.1\r\nHost: m\r\nIf-None-Match: \"v1\"\r\n\r\n"
                + "GET \(path) HTTP/1.1\r\nHost: m\r\nRange: bytes=2-4\r\n\r\n"
                + "HEAD \(path) HTTP/1.1\r\nHost: m\r\n\r\n"
                + "GET /nothing-here HTTP/1.1\r\nHost: m\r\n\r\n")
        let statuses = out.split(separator: "HTTP/1.1 ").map { String($0.prefix(3)) }
        #expect(statuses == ["304", "206", "200", "404"])
        #expect(out.contains("Content-Range: bytes 2-4/10\r\n"))
        #expect(out.contains("\r\n\r\n234HTTP/1.1 200"), "the 206 carries bytes 2-4 only, the HEAD no body")
        await connection.close()
    }

    @Test func refusalsAreErrorsWithTheirReasonAndAnOversizedRequestCloses() async throws {
        let connection = try Connection { $0.maxURIBytes = 100 }
        let tampered = String(connection.signedPath.dropLast()) + (connection.signedPath.hasSuffix("A") ? "B" : "A")
        var out = try connection.exchange("POST \(connection.signedPath) HTTP/1.1\r\nHost: m\r\nContent-Length: 0\r\n\r\n")
        #expect(out.hasPrefix("HTTP/1.1 405 "))
        out = try connection.exchange("GET \(tampered) HTTP/1.1\r\nHost: m\r\n\r\n")
        #expect(out.hasPrefix("HTTP/1.1 403 "))
        #expect(!out.contains("Cache-Status: moxy; hit"))
        #expect(connection.channel.isActive)
        out = try connection.exchange("GET /\(String(repeating: "a", count: 200)) HTTP/1.1\r\nHost: m\r\n\r\n")
        #expect(out.hasPrefix("HTTP/1.1 414 "))
        #expect(out.contains("Connection: close\r\n"))
        #expect(!connection.channel.isActive, "the rest of such a request cannot be trusted")
        await connection.close()
    }

    @Test func requestsSplitAcrossReadsAreFramedAsWhole() async throws {
        let connection = try Connection()
        let two = "GET \(connection.signedPath) HTTP/1.1\r\nHost: m\r\n\r\n" + "GET /nothing-here HTTP/1.1\r\nHost: m\r\n\r\n"
        var out = ""
        // One byte per read: the unread rest is kept and completed by the next read.
        for byte in two.utf8 { out += try connection.exchange(String(decoding: [byte], as: UTF8.self)) }
        let statuses = out.split(separator: "HTTP/1.1 ").map { String($0.prefix(3)) }
        #expect(statuses == ["200", "404"])
        #expect(out.contains("0123456789"))
        await connection.close()
    }

    @Test func aMalformedRequestIsRefusedAndNothingAfterItIsRead() async throws {
        let connection = try Connection()
        let out = try connection.exchange(
            "GET / HTTP/1.1\nHost: m\n\n" + "GET \(connection.signedPath) HTTP/1.1\r\nHost: m\r\n\r\n")
        #expect(out.hasPrefix("HTTP/1.1 400 "))
        #expect(!out.contains("0123456789"), "the bytes after a malformed request are not trusted")
        #expect(!connection.channel.isActive)
        await connection.close()
    }

    @Test func anHTTP10ClientIsToldTheConnectionStaysOpenOnlyWhenItAsked() async throws {
        let connection = try Connection()
        var out = try connection.exchange("GET \(connection.signedPath) HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(out.contains("\r\nConnection: keep-alive\r\n"))
        #expect(connection.channel.isActive)
        out = try connection.exchange("GET \(connection.signedPath) HTTP/1.0\r\n\r\n")
        #expect(out.contains("\r\nConnection: close\r\n"))
        #expect(!connection.channel.isActive)
        await connection.close()
    }

    @Test func theDispatcherAnswersWithOneValueAndNoChannel() async throws {
        let connection = try Connection()
        let dispatcher = RequestDispatcher(proxy: connection.server.proxy)
        var record = RequestRecord()
        func request(_ uri: String, _ fields: [(String, String)] = []) -> ClientRequest {
            let headers = HTTPHeaders([("Host", "m")] + fields)
            var bytes = 0
            return ClientRequest(
                method: .GET, uri: uri, version: .http1_1, keepAlive: true, headers: headers, flags: RequestFlags(headers, bytes: &bytes),
                headerBytes: bytes)
        }
        let loop = EmbeddedEventLoop()
        let hit = dispatcher.dispatch(request(connection.signedPath), now: Self.now, record: &record, eventLoop: loop) { _ in nil }
        guard case .hit(let entry) = hit.kind else { Issue.record("a fresh entry is a hit: \(hit.kind)"); return }
        #expect(entry.body.readableBytes == 10)
        #expect(record.target == Self.target && record.route == "signed")
        let conditional = dispatcher.dispatch(
            request(connection.signedPath, [("If-None-Match", "\"v1\"")]), now: Self.now, record: &record, eventLoop: loop) { _ in nil }
        guard case .stored = conditional.kind else { Issue.record("a conditional goes to the planner's stored answer"); return }
        #expect(conditional.cacheStatus == "moxy; hit; ttl=50")
        let missing = dispatcher.dispatch(request("/nothing-here"), now: Self.now, record: &record, eventLoop: loop) { _ in nil }
        guard case .response(let error) = missing.kind else { Issue.record("an unknown path is an error answer"); return }
        #expect(error.status == 404)
        #expect(missing.lifetimeCap == nil && !missing.forwardsBody)
        await connection.close()
    }
}
