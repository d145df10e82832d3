// SPDX-License-Identifier: Apache-2.0

import AsyncHTTPClient
import Logging
import MoxyCache
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
    /// Where the upstream's interim responses go (routes with `interim_responses`), if anywhere.
    var interim: (@Sendable (HTTPResponseHead) -> Void)? = nil
}

/// Sends route requests to their upstreams: keep-alive pooled, redirects passed to the client,
/// no decompression, the operator's timeouts. Upstream addresses are the operator's choice, so
/// no address policy applies here.
final class OriginForwarder: Sendable {
    let client: HTTPClient
    let configuration: UpstreamConfiguration
    let interimForwarder: InterimForwarder

    init(configuration: UpstreamConfiguration, eventLoopGroup: any EventLoopGroup) {
        self.configuration = configuration
        var clientConfiguration = configuration.clientConfiguration
        // A refused or failed connect is answered at once (502, or stale-if-error), as nginx does:
        // the client's own retries would hold the request for seconds against a down upstream.
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        clientConfiguration.http1_1ConnectionDebugInitializer = { QuickAckHandler.install(on: $0) }
        self.client = HTTPClient(eventLoopGroup: eventLoopGroup, configuration: clientConfiguration)
        self.interimForwarder = InterimForwarder(configuration: configuration, eventLoopGroup: eventLoopGroup)
    }

    func shutdown() async throws {
        interimForwarder.shutdown()
        try await client.shutdown()
    }

    /// Sends a request; returns when the response head has arrived (the body streams afterwards).
    ///
    /// A request that failed because the connection closed before any response byte arrived is
    /// sent once more when it is idempotent and has no streamed body to replay (nginx's
    /// `proxy_next_upstream error`): the origin closing an idle keep-alive connection just as it
    /// is reused is a race, not an answer.
    /// - Parameters:
    ///   - request: The request.
    ///   - logger: Where to log.
    /// - Returns: The response.
    /// - Throws: ``ProxyError`` (`connect-failed`, `timeout`, `upstream-error`).
    func send(_ request: ForwardRequest, logger: Logger) async throws(ProxyError) -> HTTPClientResponse {
        // The pooled client drops 1xx: a request whose interim responses are wanted takes a connection of its own.
        if let interim = request.interim, request.body == nil { return try await interimForwarder.send(request, interim: interim) }
        do {
            return try await execute(request, logger: logger)
        } catch {
            guard Self.mayRetry(request, after: error) else { throw UpstreamFetcher.mapError(error) }
            logger.debug("connection closed before the response; retrying once", metadata: ["url": "\(request.url)"])
            do {
                return try await execute(request, logger: logger)
            } catch {
                throw UpstreamFetcher.mapError(error)
            }
        }
    }

    private func execute(_ request: ForwardRequest, logger: Logger) async throws -> HTTPClientResponse {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = request.method
        for field in request.headers { outgoing.headers.add(name: field.name, value: field.value) }
        if let body = request.body {
            outgoing.body = .stream(body.sequence, length: request.contentLength.map { .known(Int64($0)) } ?? .unknown)
        } else if let length = request.contentLength, length == 0, request.method != .GET, request.method != .HEAD {
            outgoing.body = .bytes(ByteBuffer())
        }
        // The head must arrive within the total timeout; the body is bounded by the read timeout.
        return try await client.execute(outgoing, timeout: .milliseconds(Int64(configuration.totalTimeout * 1000)), logger: logger)
    }

    /// Whether a failed request may be sent again: idempotent (RFC 9110 §9.2.2), nothing to replay,
    /// and the connection closed before any response (not a timeout or a refused connection).
    static func mayRetry(_ request: ForwardRequest, after error: any Error) -> Bool {
        request.body == nil && isIdempotent(request.method) && closedBeforeResponse(error)
    }

    /// Methods that may be sent twice (RFC 9110 §9.2.2).
    static func isIdempotent(_ method: HTTPMethod) -> Bool {
        switch method {
        case .GET, .HEAD, .PUT, .DELETE, .OPTIONS, .TRACE: true
        default: false
        }
    }

    /// Whether a request failed because the connection closed before any response arrived.
    static func closedBeforeResponse(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError { return error == .remoteConnectionClosed }
        if let error = error as? ChannelError { return error == .ioOnClosedChannel || error == .eof || error == .outputClosed }
        if let error = error as? IOError { return [ECONNRESET, EPIPE].contains(error.errnoCode) }
        return false
    }
}
