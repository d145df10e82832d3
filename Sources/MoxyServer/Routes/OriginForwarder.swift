// SPDX-License-Identifier: Apache-2.0

import AsyncHTTPClient
import Logging
import MoxyCache
import NIOCore
import NIOHTTP1

/// A request on its way to a route's upstream.
struct ForwardRequest: Sendable {
    /// The method.
    var method: HTTPMethod
    /// The absolute upstream URL.
    var url: String
    /// The fields to send (already end-to-end, with `Via` and `X-Forwarded-*`).
    var headers: [(name: String, value: String)]
    /// The body, streamed from the client, if any.
    var body: RequestBodyStream?
    /// The body length when the client announced one.
    var contentLength: Int?
}

/// Sends route requests to their upstreams: keep-alive pooled, redirects passed to the client,
/// no decompression, the operator's timeouts. Upstream addresses are the operator's choice, so
/// no address policy applies here.
final class OriginForwarder: Sendable {
    let client: HTTPClient
    let configuration: UpstreamConfiguration

    init(configuration: UpstreamConfiguration, eventLoopGroup: any EventLoopGroup) {
        self.configuration = configuration
        self.client = HTTPClient(eventLoopGroup: eventLoopGroup, configuration: configuration.clientConfiguration)
    }

    func shutdown() async throws {
        try await client.shutdown()
    }

    /// Sends a request; returns when the response head has arrived (the body streams afterwards).
    /// - Parameters:
    ///   - request: The request.
    ///   - logger: Where to log.
    /// - Returns: The response.
    /// - Throws: ``ProxyError`` (`connect-failed`, `timeout`, `upstream-error`).
    func send(_ request: ForwardRequest, logger: Logger) async throws(ProxyError) -> HTTPClientResponse {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = request.method
        for field in request.headers { outgoing.headers.add(name: field.name, value: field.value) }
        if let body = request.body {
            outgoing.body = .stream(body.sequence, length: request.contentLength.map { .known(Int64($0)) } ?? .unknown)
        } else if let length = request.contentLength, length == 0, request.method != .GET, request.method != .HEAD {
            outgoing.body = .bytes(ByteBuffer())
        }
        do {
            // The head must arrive within the total timeout; the body is bounded by the read timeout.
            return try await client.execute(
                outgoing,
                timeout: .milliseconds(Int64(configuration.totalTimeout * 1000)),
                logger: logger
            )
        } catch {
            throw UpstreamFetcher.mapError(error)
        }
    }
}
