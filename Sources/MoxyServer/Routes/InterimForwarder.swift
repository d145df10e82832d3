// SPDX-License-Identifier: Apache-2.0

import AsyncHTTPClient
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Sends a route's body-less requests so that the upstream's interim responses (`103 Early
/// Hints`, `102 Processing`) reach the client before the final one (RFC 9110 §15.2: a proxy
/// forwards them): AsyncHTTPClient drops every 1xx but 101. Its connections are kept alive and
/// pooled per upstream origin (``InterimConnectionPool``); one the upstream closed as it was
/// reused is replaced once, as the pooled forwarder retries.
///
/// The answer is an ordinary `HTTPClientResponse` whose body streams with back-pressure, so the
/// rest of the pipeline does not know which client fetched it.
final class InterimForwarder: Sendable {
    let configuration: UpstreamConfiguration
    let group: any EventLoopGroup
    /// Made on the first `https` request (loading the trust store costs memory no plain route needs).
    private let tlsContext = NIOLockedValueBox<NIOSSLContext?>(nil)
    /// Idle keep-alive connections by upstream origin.
    let pool: InterimConnectionPool

    init(configuration: UpstreamConfiguration, eventLoopGroup: any EventLoopGroup) {
        self.configuration = configuration
        self.group = eventLoopGroup
        // Idle connections are kept as long as AsyncHTTPClient keeps those of the other routes.
        self.pool = InterimConnectionPool(idleTimeout: configuration.clientConfiguration.connectionPool.idleTimeout)
    }

    private static func amount(_ seconds: Double) -> TimeAmount { .milliseconds(Int64(seconds * 1000)) }

    /// Closes the idle connections.
    func shutdown() { pool.closeAll() }

    private func tls() throws(ProxyError) -> NIOSSLContext {
        do {
            return try tlsContext.withLockedValue { context in
                if let context { return context }
                let made = try NIOSSLContext(configuration: .makeClientConfiguration())
                context = made
                return made
            }
        } catch {
            throw ProxyError(.upstreamError, "TLS is not available: \(error)")
        }
    }

    /// Sends a request without a body; returns when the final response head has arrived, having
    /// passed each interim head to `interim` first.
    /// - Throws: ``ProxyError`` (`connect-failed`, `timeout`, `upstream-error`).
    func send(
        _ request: ForwardRequest,
        interim: @escaping @Sendable (HTTPResponseHead) -> Void
    ) async throws(ProxyError) -> HTTPClientResponse {
        guard let url = TargetURL(request.url) else { throw ProxyError(.invalidTarget, "upstream URL is not an http(s) URL") }
        let origin = url.origin
        if let pooled = await pool.take(origin) {
            do {
                return try await exchange(request, url: url, on: pooled, interim: interim)
            } catch is InterimResponseHandler.ClosedBeforeResponse {
                // The upstream closed the idle connection as it was reused: once more, on a new
                // one, for a method that may be sent twice (RFC 9110 §9.2.2).
                guard OriginForwarder.isIdempotent(request.method) else { throw ProxyError(.upstreamError, "upstream closed the connection") }
            } catch let error as ProxyError {
                throw error
            } catch {
                throw ProxyError(.upstreamError, "upstream closed the connection")
            }
        }
        let channel = try await connect(url)
        do {
            return try await exchange(request, url: url, on: channel, interim: interim)
        } catch let error as ProxyError {
            throw error
        } catch {
            throw ProxyError(.upstreamError, "upstream closed the connection")
        }
    }

    /// A new connection to the upstream, its pipeline ready for requests.
    private func connect(_ url: TargetURL) async throws(ProxyError) -> any Channel {
        let secure = url.scheme == "https"
        let tls = secure ? try self.tls() : nil
        do {
            return try await ClientBootstrap(group: group.next())
                .connectTimeout(Self.amount(configuration.connectTimeout))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        try pipeline.addHandler(QuickAckHandler())
                        if secure, let tls {
                            let name = IPAddress(parsing: url.host) == nil ? url.host : nil
                            try pipeline.addHandler(NIOSSLClientHandler(context: tls, serverHostname: name))
                        }
                        try pipeline.addHandler(HTTPRequestEncoder())
                        try pipeline.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes, informationalResponseStrategy: .forward)))
                    }
                }
                .connect(host: url.host.hasPrefix("[") ? String(url.host.dropFirst().dropLast()) : url.host, port: url.port)
                .get()
        } catch {
            throw ProxyError(.connectFailed, "cannot connect to the upstream")
        }
    }

    /// Sends the request on a connection and waits for the final head; at the end of its body the
    /// connection goes back to the pool when the upstream keeps it alive.
    private func exchange(
        _ request: ForwardRequest, url: TargetURL, on channel: any Channel, interim: @escaping @Sendable (HTTPResponseHead) -> Void
    ) async throws -> HTTPClientResponse {
        let head = channel.eventLoop.makePromise(of: HTTPResponseHead.self)
        let pool = self.pool
        let origin = url.origin
        let handler = InterimResponseHandler(
            head: head, interim: interim, readTimeout: Self.amount(configuration.readTimeout), totalTimeout: Self.amount(configuration.totalTimeout),
            release: { pool.put($0, origin: origin) })
        let requestHead = HTTPRequestHead(
            version: .http1_1, method: request.method, uri: url.pathAndQuery, headers: HTTPHeaders(request.headers.map { ($0.name, $0.value) }))
        do {
            try await channel.eventLoop.submit {
                // A pooled connection may have closed since it was taken (its close went by with
                // no handler to see it): then the handler would wait for the total timeout.
                guard channel.isActive else { throw InterimResponseHandler.ClosedBeforeResponse() }
                try channel.pipeline.syncOperations.addHandler(handler)
                // The previous request's handler may have held back a read (its reader lagged)
                // when it left: ask for one, or this response would never be read.
                channel.read()
                channel.write(HTTPClientRequestPart.head(requestHead), promise: nil)
                channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            }.get()
        } catch {
            head.fail(InterimResponseHandler.ClosedBeforeResponse())
            channel.close(promise: nil)
        }
        let response: HTTPResponseHead
        do {
            response = try await head.futureResult.get()
        } catch {
            channel.close(promise: nil)
            throw error
        }
        guard let body = handler.takeBody() else { throw ProxyError(.upstreamError, "upstream body already taken") }
        return HTTPClientResponse(version: response.version, status: response.status, headers: response.headers, body: .stream(body))
    }
}
