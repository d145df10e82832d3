// SPDX-License-Identifier: Apache-2.0

@testable import MoxyServer
import NIOCore
import NIOHPACK
import NIOHTTP2
import Testing

/// The HTTP/1.1 response bytes a handler writes, read back into HTTP/2 frames whatever their
/// split: a pure decision, without a channel.
@Suite struct HTTP2ResponseParserTests {
    /// Feeds the bytes in pieces of `piece` bytes; returns what the frames say.
    static func frames(_ text: String, piece: Int, head: Bool = false) throws -> (heads: [HPACKHeaders], body: String, ends: [Bool]) {
        var parser = ResponseParser()
        parser.isHeadRequest = head
        let bytes = Array(text.utf8)
        var heads: [HPACKHeaders] = []
        var body = ""
        var ends: [Bool] = []
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + piece)
            for frame in try parser.feed(ByteBuffer(bytes: bytes[start..<end])) {
                switch frame {
                case .headers(let headers):
                    heads.append(headers.headers)
                    ends.append(headers.endStream)
                case .data(let data):
                    if case .byteBuffer(let buffer) = data.data { body += String(buffer: buffer) }
                    ends.append(data.endStream)
                default: Issue.record("unexpected frame \(frame)")
                }
            }
            start = end
        }
        return (heads, body, ends)
    }

    @Test(arguments: [1, 3, 7, 1000])
    func lengthChunkedAndInterimAnswersInAnySplit(_ piece: Int) throws {
        let sized = try Self.frames("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\nETag: \"a\"\r\n\r\nhello", piece: piece)
        #expect(sized.heads.count == 1 && sized.heads[0].first(name: ":status") == "200" && sized.heads[0].first(name: "etag") == "\"a\"")
        #expect(sized.heads[0].first(name: "connection") == nil && sized.body == "hello" && sized.ends.last == true)
        #expect(sized.ends.dropLast().allSatisfy { !$0 }, "END_STREAM only on the last frame")

        let chunked = try Self.frames(
            "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n",
            piece: piece)
        #expect(chunked.heads.map { $0.first(name: ":status") } == ["103", "200"])
        #expect(chunked.heads[1].first(name: "transfer-encoding") == nil && chunked.body == "hello world")
        #expect(chunked.ends.last == true && chunked.ends.dropLast().allSatisfy { !$0 })

        let head = try Self.frames("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", piece: piece, head: true)
        #expect(head.ends == [true] && head.heads[0].first(name: "content-length") == "5", "a HEAD answer ends with its head")
        let notModified = try Self.frames("HTTP/1.1 304 Not Modified\r\nETag: \"a\"\r\n\r\n", piece: piece)
        #expect(notModified.ends == [true])
    }

    @Test func aBodyUpToTheCloseEndsThere() throws {
        var parser = ResponseParser()
        let frames = try parser.feed(ByteBuffer(string: "HTTP/1.0 200 OK\r\n\r\nsome bytes"))
        #expect(frames.count == 2)
        guard case .data(let last)? = parser.finishAtClose() else {
            Issue.record("no END_STREAM at the close")
            return
        }
        #expect(last.endStream)
        #expect(parser.finishAtClose() == nil)
    }

    @Test func bytesThatAreNotAResponseAreRefused() {
        var parser = ResponseParser()
        #expect(throws: HTTP2StreamAdapterError.self) { try parser.feed(ByteBuffer(string: "garbage\r\n\r\n")) }
        var chunks = ResponseParser()
        #expect(throws: HTTP2StreamAdapterError.self) {
            try chunks.feed(ByteBuffer(string: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"))
        }
    }
}
