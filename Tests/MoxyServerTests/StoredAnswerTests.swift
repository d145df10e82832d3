// SPDX-License-Identifier: Apache-2.0

import MoxyCache
@testable import MoxyServer
import NIOCore
import NIOHTTP1
import Testing

/// How a stored response answers conditionals and ranges, without sockets: the same decision
/// for bodies in memory and on disk.
@Suite struct StoredAnswerTests {
    static let response = CachedResponse(
        status: 200, fields: [("Content-Type", "video/mp4"), ("ETag", "\"v1\"")], body: ByteBuffer(string: "0123456789"),
        responseTime: 1_764_583_200, freshness: Freshness(lifetime: 600, initialAge: 0, isExplicit: true), downstreamMaxAge: 600)

    static func request(_ fields: [(String, String)], method: HTTPMethod = .GET) -> ClientRequest {
        let headers = HTTPHeaders(fields)
        var bytes = 0
        return ClientRequest(
            method: method, uri: "/v.mp4", version: .http1_1, keepAlive: true, headers: headers, flags: RequestFlags(headers, bytes: &bytes),
            headerBytes: bytes, body: nil, contentLength: nil)
    }

    @Test func conditionalsAndRangesAreAnsweredFromTheStoredResponse() {
        let response = Self.response
        #expect(StoredAnswer.decide(response, length: 10, for: Self.request([])) == .whole)
        #expect(StoredAnswer.decide(response, length: 10, for: Self.request([("If-None-Match", "\"v1\"")])) == .notModified)
        #expect(StoredAnswer.decide(response, length: 10, for: Self.request([("If-None-Match", "\"v2\"")])) == .whole)
        #expect(StoredAnswer.decide(response, length: 10, for: Self.request([("Range", "bytes=2-4")])) == .partial(first: 2, last: 4, length: 10))
        #expect(StoredAnswer.decide(response, length: 10, for: Self.request([("Range", "bytes=20-")])) == .unsatisfiable(length: 10))
        #expect(StoredAnswer.decide(response, length: 10, for: Self.request([("Range", "bytes=2-4")], method: .HEAD)) == .whole)
        #expect(
            StoredAnswer.decide(response, length: 10, for: Self.request([("Range", "bytes=2-4"), ("If-Range", "\"v2\"")])) == .whole,
            "If-Range names another representation")
    }

    /// A body whose length is not known yet (still arriving, no Content-Length) is sent whole;
    /// a conditional is still answered.
    @Test func aBodyOfUnknownLengthAnswersNoRange() {
        #expect(StoredAnswer.decide(Self.response, length: nil, for: Self.request([("Range", "bytes=2-4")])) == .whole)
        #expect(StoredAnswer.decide(Self.response, length: nil, for: Self.request([("If-None-Match", "\"v1\"")])) == .notModified)
    }
}
