// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import AsyncHTTPClient
import MoxyCache
import NIOCore

/// The upstream's answer to one cache fetch, the same for both modes: the head, and the body as a
/// stream (the signed-URL fetcher's checked for size as it arrives).
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
/// streaming the rest; the HTTP client allows one iterator per body, so it is kept here. For
/// signed URLs it also enforces the size limit and the total timeout as the bytes arrive.
///
/// Used by one task at a time (the fetch, then the writer or download it hands over to), hence
/// `@unchecked`.
public final class ResponseBodyReader: @unchecked Sendable {
    private var iterator: HTTPClientResponse.Body.AsyncIterator
    private let limit: Int?
    private let deadline: NIODeadline?
    private var received = 0

    /// A reader of `body`.
    /// - Parameters:
    ///   - limit: The most bytes accepted; more fail the read with `too-large`.
    ///   - deadline: When reading fails with `timeout` (checked before each chunk; a stalled read
    ///     ends by the HTTP client's read timeout).
    init(_ body: HTTPClientResponse.Body, limit: Int? = nil, deadline: NIODeadline? = nil) {
        self.iterator = body.makeAsyncIterator()
        self.limit = limit
        self.deadline = deadline
    }

    /// The next chunk, or `nil` at the end.
    /// - Throws: The HTTP client's errors, or ``ProxyError`` `too-large` / `timeout`.
    public func next() async throws -> ByteBuffer? {
        if let deadline, NIODeadline.now() > deadline { throw ProxyError(.timeout, "upstream did not send the whole body in time") }
        guard let chunk = try await iterator.next() else { return nil }
        received += chunk.readableBytes
        if let limit, received > limit { throw ProxyError(.tooLarge, "object exceeds the limit of \(limit) bytes") }
        return chunk
    }
}
