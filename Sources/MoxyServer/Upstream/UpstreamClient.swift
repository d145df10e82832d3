// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import AsyncHTTPClient
import Logging
import MoxyCache
import NIOCore
import NIOHTTP1

/// How a cache fetch reaches the upstream of its source: signed URLs through the SSRF-checked
/// fetcher, routes through the pooled forwarder. Both return one ``UpstreamAnswer`` whose body
/// streams.
struct UpstreamClient: Sendable {
    /// The signed-URL fetcher.
    let fetcher: UpstreamFetcher
    /// The route forwarder.
    let forwarder: OriginForwarder
    /// The clock for request and response times.
    let clock: MoxyClock
    /// The `Via` token.
    let serverName: String
    /// Where to log.
    let logger: Logger
    /// Where upstream exchanges are counted.
    let metrics: MoxyMetrics

    /// Request fields a cache fetch never forwards: the cache asks for the whole representation and
    /// answers the client's own conditionals and ranges from it. `Accept-Encoding` is not forwarded
    /// either: the cache stores the identity form (which its rules validate) and encodes it itself.
    static let clientConditionals: Set<String> = [
        "if-none-match", "if-modified-since", "if-range", "range", "if-match", "if-unmodified-since",
    ]

    /// Fetches a request's response, conditionally when `validators` are given (`method` is `GET`,
    /// or `HEAD` for a `HEAD` the store cannot answer).
    /// - Throws: ``ProxyError`` when the upstream cannot answer (or, for signed URLs, answers an
    ///   error status, a refused type or too large a body).
    func fetch(
        _ request: CacheRequest,
        validators: [(name: String, value: String)],
        method: HTTPMethod = .GET
    ) async throws(ProxyError) -> UpstreamAnswer {
        let started = NIODeadline.now()
        let mode: RequestMode = request.source.isSigned ? .signed : .route
        do {
            let answer = try await exchange(request, validators: validators, method: method)
            metrics.upstream(mode, status: answer.status, error: nil, started: started)
            request.trace?.record(status: answer.status, nanoseconds: (NIODeadline.now() - started).nanoseconds)
            return answer
        } catch {
            metrics.upstream(mode, status: error.upstreamStatus, error: error, started: started)
            request.trace?.record(status: error.upstreamStatus, nanoseconds: (NIODeadline.now() - started).nanoseconds)
            throw error
        }
    }

    private func exchange(
        _ request: CacheRequest,
        validators: [(name: String, value: String)],
        method: HTTPMethod
    ) async throws(ProxyError) -> UpstreamAnswer {
        switch request.source.kind {
        case .signed:
            let response = try await fetcher.fetch(
                request.url,
                method: method,
                validators: validators,
                forwardedFor: fetcher.configuration.forwardClientAddress ? request.clientAddress : nil,
                logger: logger
            )
            return UpstreamAnswer(
                status: response.status,
                fields: response.headers,
                contentType: response.contentType,
                body: .stream(response.body),
                requestTime: response.requestTime,
                responseTime: response.responseTime
            )
        case .route(let route):
            let startedMilliseconds = clock.nowMilliseconds()
            let headers =
                Self.forwardedFields(
                    request.headers, route: route, clientAddress: request.clientAddress, secure: request.clientSecure, serverName: serverName)
                .filter { !Self.clientConditionals.contains($0.name.lowercased()) && $0.name.lowercased() != "accept-encoding" } + validators
            let response = try await forwarder.send(
                ForwardRequest(method: method, url: request.url, headers: headers, body: nil, contentLength: nil, interim: request.interim),
                logger: logger
            )
            let responseTime = clock.now()
            return UpstreamAnswer(
                status: Int(response.status.code),
                fields: response.headers.map { (name: $0.name, value: $0.value) },
                contentType: nil,
                body: .stream(ResponseBodyReader(response.body)),
                requestTime: clock.requestTime(startedAt: startedMilliseconds, responseTime: responseTime),
                responseTime: responseTime
            )
        }
    }

    /// The fields sent upstream for a route request: the client's end-to-end fields, the upstream's
    /// `Host` (or the client's with `preserve_host`), `Via` and `X-Forwarded-*`.
    static func forwardedFields(
        _ client: [(name: String, value: String)],
        route: RouteConfiguration,
        clientAddress: String?,
        secure: Bool = false,
        serverName: String
    ) -> [(name: String, value: String)] {
        let clientHost = client.first(named: "host")
        var fields = HeaderFields.endToEnd(client).filter {
            let name = $0.name.lowercased()
            return name != "host" && name != "content-length"
                && !(route.forwardedHeaders && name.hasPrefix("x-forwarded-") && name != "x-forwarded-for")
        }
        fields.insert(("Host", route.preserveHost ? (clientHost ?? route.upstream.hostHeader) : route.upstream.hostHeader), at: 0)
        fields.append(("Via", "1.1 \(serverName)"))
        if route.forwardedHeaders {
            if let clientAddress {
                if let index = fields.firstIndex(where: { $0.name.lowercased() == "x-forwarded-for" }) {
                    fields[index].value += ", " + clientAddress
                } else {
                    fields.append(("X-Forwarded-For", clientAddress))
                }
            }
            fields.append(("X-Forwarded-Proto", secure ? "https" : "http"))
            if let clientHost { fields.append(("X-Forwarded-Host", clientHost)) }
        }
        return HeaderFields.setting(route.setRequestHeaders, in: fields)
    }
}

extension TargetURL {
    /// The `Host` field for this URL (port only when not the default).
    var hostHeader: String {
        let hostText = host.contains(":") ? "[\(host)]" : host
        let isDefault = (scheme == "http" && port == 80) || (scheme == "https" && port == 443)
        return isDefault ? hostText : "\(hostText):\(port)"
    }
}
