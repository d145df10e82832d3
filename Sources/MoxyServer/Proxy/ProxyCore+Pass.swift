// SPDX-License-Identifier: Apache-2.0

import AsyncHTTPClient
import Logging
import MoxyCache
import NIOCore
import NIOHTTP1

extension ProxyCore {
    /// Forwards a request that bypasses the cache (unsafe and other methods), streaming both bodies;
    /// a successful unsafe method invalidates the target URI and same-origin `Location` /
    /// `Content-Location` (RFC 9111 §4.4).
    func pass(
        method: HTTPMethod,
        route: RouteConfiguration,
        target: Substring,
        host: String?,
        headers: [(name: String, value: String)],
        clientAddress: String?,
        body: RequestBodyStream?,
        contentLength: Int?
    ) async -> ProxyOutcome {
        let url = route.upstreamURL(for: target)
        let outgoing = forwardedHeaders(headers, route: route, clientAddress: clientAddress).filter { $0.name.lowercased() != "expect" }
        let response: HTTPClientResponse
        do {
            response = try await forwarder.send(
                ForwardRequest(method: method, url: url, headers: outgoing, body: body, contentLength: contentLength),
                logger: logger
            )
        } catch {
            body?.finish(error)
            logger.info("upstream failed", metadata: ["route": "\(route.name)", "url": "\(url)", "error": "\(error)"])
            return .complete(errorResponse(error, profile: .moxy), CacheStatus(forward: .bypass, detail: "\(error.code)"), isError: true)
        }
        let status = Int(response.status.code)
        let fields = response.headers.map { (name: $0.name, value: $0.value) }
        if !Self.isSafe(method), (200..<400).contains(status) {
            invalidate(routeKey(route, host: host, target: target))
            for name in ["location", "content-location"] {
                guard let value = fields.first(named: name), let path = sameOriginPath(value, host: host, route: route),
                    let other = routes.match(host: host, target: path[...]), other.name == route.name
                else { continue }
                invalidate(routeKey(route, host: host, target: path[...]))
            }
        }
        return .streamed(streamThrough(response, route: route), CacheStatus(forward: .bypass, forwardStatus: status))
    }

    /// An upstream response passed to the client as it arrives, without being stored.
    func streamThrough(_ response: HTTPClientResponse, route: RouteConfiguration) -> StreamedResponse {
        let fields = response.headers.map { (name: $0.name, value: $0.value) }
        return StreamedResponse(
            status: Int(response.status.code),
            fields: routeFields(fields, withheld: [], route: route),
            contentLength: fields.first(named: "content-length").flatMap { Int($0.trimmingSpaces) },
            prefix: ByteBuffer(),
            rest: ResponseBodyReader(response.body)
        )
    }

    /// Safe methods (RFC 9110 §9.2.1) never invalidate.
    static func isSafe(_ method: HTTPMethod) -> Bool {
        switch method {
        case .GET, .HEAD, .OPTIONS, .TRACE: true
        default: false
        }
    }

    /// The path of a `Location` that points back at this route's public origin or its upstream.
    func sameOriginPath(_ value: String, host: String?, route: RouteConfiguration) -> String? {
        let text = String(value.trimmingSpaces)
        if text.hasPrefix("/") && !text.hasPrefix("//") { return text }
        guard let url = TargetURL(text) else { return nil }
        let sameAsClient = host.map { RouteTable.hostName($0) == url.host.lowercased() } ?? false
        let sameAsUpstream = url.origin == route.upstream.origin
        return sameAsClient || sameAsUpstream ? url.pathAndQuery : nil
    }

    /// The primary cache key of a route request.
    func routeKey(_ route: RouteConfiguration, host: String?, target: Substring) -> String {
        let hostPart = route.preserveHost || route.host?.hasPrefix("*.") == true ? RouteTable.hostName(host) : ""
        // Route names, hosts and request targets contain no spaces, so the key is unambiguous and printable.
        return "route:" + route.name + " " + hostPart + " " + target
    }
}
