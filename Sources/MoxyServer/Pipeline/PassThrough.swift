// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import AsyncHTTPClient
import Logging
import MoxyCache
import NIOCore
import NIOHTTP1

/// Forwards route requests that bypass the cache (unsafe and other methods), streaming both
/// bodies; a successful unsafe method invalidates the target URI and same-origin `Location` /
/// `Content-Location` (RFC 9111 §4.4).
struct PassThrough: Sendable {
    let forwarder: OriginForwarder
    let renderer: ResponseRenderer
    let exchange: CacheExchange
    /// The current settings (whose router finds the route of a `Location`).
    let settings: @Sendable () -> ProxySettings
    let clock: MoxyClock
    let logger: Logger

    /// What the connection knows of a request that passes through.
    struct Request: Sendable {
        var method: HTTPMethod
        var source: CacheSource
        var target: Substring
        var host: String?
        var headers: [(name: String, value: String)]
        var clientAddress: String?
        var clientSecure = false
        var body: RequestBodyStream?
        var contentLength: Int?
        var interim: (@Sendable (HTTPResponseHead) -> Void)? = nil
        /// For a `GET` or `HEAD` that bypasses the cache because it names another method
        /// (`X-HTTP-Method-Override`): that method when it is unsafe, so a success invalidates as
        /// it would.
        var overriddenAs: HTTPMethod? = nil
        /// Whether the request bypasses the cache for a method override (said in `Cache-Status`).
        var isOverride = false
        /// Where the upstream's status and time are noted, for the access log.
        var trace: UpstreamTrace? = nil
    }

    func pass(_ request: Request) async -> ProxyOutcome {
        guard let route = request.source.route else { preconditionFailure("only routes pass through") }
        let url = route.upstreamURL(for: request.target)
        let outgoing = UpstreamClient.forwardedFields(
            request.headers, route: route, clientAddress: request.clientAddress, secure: request.clientSecure, serverName: renderer.serverName
        ).filter { $0.name.lowercased() != "expect" }
        let response: HTTPClientResponse
        let started = NIODeadline.now()
        do {
            response = try await forwarder.send(
                ForwardRequest(
                    method: request.method, url: url, headers: outgoing, body: request.body, contentLength: request.contentLength,
                    interim: request.interim),
                logger: logger
            )
        } catch {
            exchange.metrics.upstream(.route, status: nil, error: error, started: started)
            request.trace?.record(status: nil, nanoseconds: (NIODeadline.now() - started).nanoseconds)
            request.body?.finish(error)
            logger.info("upstream failed", metadata: ["route": "\(route.name)", "url": "\(url)", "error": "\(error)"])
            return .complete(renderer.error(error, profile: .moxy), CacheStatus(.notStored(.error("\(error.code)")), forward: .bypass), isError: true)
        }
        let status = Int(response.status.code)
        exchange.metrics.upstream(.route, status: status, error: nil, started: started)
        request.trace?.record(status: status, nanoseconds: (NIODeadline.now() - started).nanoseconds)
        let fields = response.headers.map { (name: $0.name, value: $0.value) }
        if !Self.isSafe(request.overriddenAs ?? request.method), (200..<400).contains(status) {
            exchange.invalidate(Router.routeKey(route, host: request.host, target: request.target))
            for name in ["location", "content-location"] {
                guard let value = fields.first(named: name), let path = Router.sameOriginPath(value, host: request.host, route: route),
                    let other = settings().router.table.match(host: request.host, target: path[...]), other.name == route.name
                else { continue }
                exchange.invalidate(Router.routeKey(route, host: request.host, target: path[...]))
            }
        }
        let answer = UpstreamAnswer(
            status: status,
            fields: fields,
            contentType: nil,
            body: .stream(ResponseBodyReader(response.body)),
            requestTime: clock.now(),
            responseTime: clock.now()
        )
        let cacheStatus = CacheStatus(.notStored(request.isOverride ? .methodOverride : nil), forward: .bypass, forwardStatus: status)
        return renderer.passed(answer, read: nil, rest: nil, source: request.source, status: cacheStatus)
    }

    /// Safe methods (RFC 9110 §9.2.1, and those the IANA method registry marks safe: WebDAV's
    /// `PROPFIND` and `REPORT`, `SEARCH`, `QUERY`) never invalidate; every other method, known or
    /// not, invalidates on success as `POST` does (RFC 9111 §4.4).
    static func isSafe(_ method: HTTPMethod) -> Bool {
        switch method {
        case .GET, .HEAD, .OPTIONS, .TRACE, .PROPFIND, .REPORT, .SEARCH: true
        case .RAW(let value): value == "QUERY"
        default: false
        }
    }
}
