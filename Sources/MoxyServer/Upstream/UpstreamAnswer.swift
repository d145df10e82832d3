// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import AsyncHTTPClient
import MoxyCache
import NIOCore

/// The upstream's answer to one cache fetch, the same for both modes: the signed-URL fetcher
/// delivers the whole checked body, a route's forwarder a stream.
struct UpstreamAnswer: Sendable {
    /// The body: whole, or still arriving.
    enum Body: Sendable {
        /// The whole body.
        case complete(ByteBuffer)
        /// A body to read in order.
        case stream(ResponseBodyReader)
    }

    /// The final status.
    var status: Int
    /// The response fields as received.
    var fields: [(name: String, value: String)]
    /// The canonical content type, when the fetcher checked it (signed URLs).
    var contentType: MediaType?
    /// The body.
    var body: Body
    /// Unix seconds when the request was sent (RFC 9111 §4.2.3).
    var requestTime: Int64
    /// Unix seconds when the response head arrived.
    var responseTime: Int64

    /// The `Content-Length` the upstream announced, if valid.
    var contentLength: Int? {
        if case .complete(let body) = body { return body.readableBytes }
        return fields.first(named: "content-length").flatMap { Int($0.trimmingSpaces) }
    }

    /// Reads the body until its end or until more than `bound` bytes arrived (at once when
    /// `Content-Length` already says so). A complete body is returned whole whatever the bound.
    /// - Returns: What was read, and the reader of the rest when the body is longer than `bound`.
    func read(upTo bound: Int) async throws -> (read: ExchangeMachine.BodyRead, rest: ResponseBodyReader?) {
        switch body {
        case .complete(let body):
            return (.complete(body), nil)
        case .stream(let reader):
            if let length = contentLength, length > bound { return (.partial(ByteBuffer()), reader) }
            var body = ByteBuffer()
            while let chunk = try await reader.next() {
                var chunk = chunk
                body.writeBuffer(&chunk)
                if body.readableBytes > bound { return (.partial(body), reader) }
            }
            return (.complete(body), nil)
        }
    }
}

/// Reads an upstream response body in order, first while deciding whether to store it, then while
/// streaming the rest; the HTTP client allows one iterator per body, so it is kept here.
///
/// Used by one task at a time (the fetch, then the writer it hands over to), hence `@unchecked`.
final class ResponseBodyReader: @unchecked Sendable {
    private var iterator: HTTPClientResponse.Body.AsyncIterator

    init(_ body: HTTPClientResponse.Body) {
        self.iterator = body.makeAsyncIterator()
    }

    /// The next chunk, or `nil` at the end.
    func next() async throws -> ByteBuffer? {
        try await iterator.next()
    }
}
