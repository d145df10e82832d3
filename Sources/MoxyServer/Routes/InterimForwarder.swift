// SPDX-License-Identifier: Apache-2.0

import AsyncHTTPClient
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Sends a route's body-less requests on a connection of its own so that the upstream's interim
/// responses (`103 Early Hints`, `102 Processing`) reach the client before the final one: the
/// pooled HTTP client drops every 1xx but 101. Used only for routes with `interim_responses` (off
/// by default, as nginx's `early_hints`); one connection per request, closed after the body.
///
/// The answer is an ordinary `HTTPClientResponse` whose body streams with back-pressure, so the
/// rest of the pipeline does not know which client fetched it.
final class InterimForwarder: Sendable {
    let configuration: UpstreamConfiguration
    let group: any EventLoopGroup
    /// Made on the first `https` request (loading the trust store costs memory no plain route needs).
    private let tlsContext = NIOLockedValueBox<NIOSSLContext?>(nil)

    init(configuration: UpstreamConfiguration, eventLoopGroup: any EventLoopGroup) {
        self.configuration = configuration
        self.group = eventLoopGroup
    }

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
        let secure = url.scheme == "https"
        let tls = secure ? try self.tls() : nil
        let eventLoop = group.next()
        let head = eventLoop.makePromise(of: HTTPResponseHead.self)
        let handler = InterimResponseHandler(head: head, interim: interim, totalTimeout: .milliseconds(Int64(configuration.totalTimeout * 1000)))
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(.milliseconds(Int64(configuration.connectTimeout * 1000)))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        if secure, let tls {
                            let name = IPAddress(parsing: url.host) == nil ? url.host : nil
                            try pipeline.addHandler(NIOSSLClientHandler(context: tls, serverHostname: name))
                        }
                        try pipeline.addHandler(HTTPRequestEncoder())
                        try pipeline.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes, informationalResponseStrategy: .forward)))
                        try pipeline.addHandler(IdleStateHandler(readTimeout: .milliseconds(Int64(self.configuration.readTimeout * 1000))))
                        try pipeline.addHandler(handler)
                    }
                }
                .connect(host: url.host.hasPrefix("[") ? String(url.host.dropFirst().dropLast()) : url.host, port: url.port)
                .get()
        } catch {
            let failure = ProxyError(.connectFailed, "cannot connect to the upstream")
            head.fail(failure)  // the handler never ran: nothing else completes the promise
            throw failure
        }
        var headers = HTTPHeaders(request.headers.map { ($0.name, $0.value) })
        headers.replaceOrAdd(name: "Connection", value: "close")
        let requestHead = HTTPRequestHead(version: .http1_1, method: request.method, uri: url.pathAndQuery, headers: headers)
        channel.write(HTTPClientRequestPart.head(requestHead), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let response: HTTPResponseHead
        do {
            response = try await head.futureResult.get()
        } catch let error as ProxyError {
            channel.close(promise: nil)
            throw error
        } catch {
            channel.close(promise: nil)
            throw ProxyError(.upstreamError, "upstream closed the connection")
        }
        guard let body = handler.takeBody() else { throw ProxyError(.upstreamError, "upstream body already taken") }
        return HTTPClientResponse(version: response.version, status: response.status, headers: response.headers, body: .stream(body))
    }
}
