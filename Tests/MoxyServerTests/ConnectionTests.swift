// SPDX-License-Identifier: Apache-2.0

import MoxyServer
import MoxySigning
import MoxyTestSupport
import NIOCore
import Testing

@Suite struct ConnectionTests {
    @Test func pipelinedRequestsAreAnsweredInOrderAcrossAMiss() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/slow.png", OriginRoute(body: Array("SLOW".utf8), delay: .milliseconds(200)))
            moxy.origin.route("/fast.png", OriginRoute(body: Array("FAST".utf8)))
            _ = try await moxy.get("/fast.png")  // warm: the second request will be a synchronous hit
            let slow = try moxy.path("/slow.png")
            let fast = try moxy.path("/fast.png")
            let request = "GET \(slow) HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET \(fast) HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                + "HEAD \(fast) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            let text = try await RawClient.exchange(port: moxy.port, request: request)
            let statusLines = RawClient.statusLines(text)
            #expect(statusLines == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found", "HTTP/1.1 200 OK"])
            let slowAt = try #require(text.firstRange(of: "SLOW")).lowerBound
            let fastAt = try #require(text.firstRange(of: "FAST")).lowerBound
            #expect(slowAt < fastAt)
            #expect(text.hasSuffix("\r\n\r\n"))  // the HEAD answer ends with the head: no body
            #expect(text.contains("Connection: close"))
        }
    }

    @Test func manyPipelinedRequestsForALargeObjectAllGetAnswers() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/big.png", OriginRoute(body: Array(repeating: 0x5A, count: 256 * 1024)))
            let path = try moxy.path("/big.png")
            _ = try await moxy.request(path)
            // 64 x 256 KiB is far more than the socket buffers: the server must pause and resume.
            let request = String(repeating: "GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n", count: 63)
                + "GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            let text = try await RawClient.exchange(port: moxy.port, request: request, timeout: .seconds(30))
            #expect(RawClient.statusLines(text).count == 64)
            #expect(text.utf8.count > 64 * 256 * 1024)
        }
    }

    @Test func http10ClosesUnlessKeepAliveIsAsked() async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/a.png", OriginRoute())
            let path = try moxy.path("/a.png")
            let closed = try await RawClient.exchange(port: moxy.port, request: "GET \(path) HTTP/1.0\r\n\r\n")
            #expect(closed.hasPrefix("HTTP/1.1 200 OK"))
            #expect(closed.contains("Connection: close"))
            let kept = try await RawClient.exchange(
                port: moxy.port,
                request: "GET \(path) HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET \(path) HTTP/1.0\r\n\r\n"
            )
            #expect(kept.ranges(of: "HTTP/1.1 200 OK").count == 2)
            #expect(kept.contains("Connection: keep-alive"))
        }
    }

    /// Request-smuggling shapes and framing Moxy does not decode are answered with their status and
    /// the connection closed: the request after them (a GET of a real object) is never read.
    @Test(arguments: [
        ("POST /s.png HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400 Bad Request"),
        ("POST /s.png HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nabcd", "400 Bad Request"),
        ("POST /s.png HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n Transfer-Encoding: x\r\n\r\n0\r\n\r\n", "400 Bad Request"),
        ("POST /s.png HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", "501 Not Implemented"),
        ("GET /s.png HTTP/2.0\r\nHost: x\r\n\r\n", "505 HTTP Version Not Supported"),
        ("GET /s.png HTTP/1.1\r\n\r\n", "400 Bad Request"),
    ])
    func framingMoxyCannotTrustIsRefusedAndEndsTheConnection(_ request: String, _ status: String) async throws {
        try await MoxyHarness.run { moxy in
            moxy.origin.route("/s.png", OriginRoute(body: Array("SECRET".utf8)))
            let next = "GET \(try moxy.path("/s.png")) HTTP/1.1\r\nHost: x\r\n\r\n"
            let text = try await RawClient.exchange(port: moxy.port, request: request + next)
            #expect(RawClient.statusLines(text) == ["HTTP/1.1 \(status)"], "\(text)")
            #expect(text.contains("Connection: close") && !text.contains("SECRET"))
            #expect(moxy.origin.count("/s.png") == 0)
        }
    }

    @Test func malformedRequestsGet400AndTheConnectionCloses() async throws {
        try await MoxyHarness.run { moxy in
            let text = try await RawClient.exchange(port: moxy.port, request: "THIS IS NOT HTTP\r\n\r\n")
            #expect(text.hasPrefix("HTTP/1.1 400 Bad Request"))
            #expect(text.contains("Connection: close"))
        }
    }
}

@Suite struct IdleTimeoutTests {
    @Test func idleConnectionsAreClosed() async throws {
        try await MoxyHarness.run(configure: { $0.idleTimeout = 0.3 }) { moxy in
            // No request at all: the server closes the connection after the idle timeout (the
            // client's 30 s limit only catches a server that never does).
            let (text, serverClosed) = try await RawClient.exchangeClosing(port: moxy.port, request: "", timeout: .seconds(30))
            #expect(text.isEmpty)
            #expect(serverClosed)
        }
    }
}
