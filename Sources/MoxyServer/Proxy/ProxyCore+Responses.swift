// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import NIOCore

extension ProxyCore {
    /// Builds a signed-URL response: canonical type, allow-listed upstream fields, security fields.
    func makeResponse(_ upstream: UpstreamResponse, freshness: Freshness) -> CachedResponse {
        var fields: [(name: String, value: String)] = []
        if let type = upstream.contentType { fields.append(("Content-Type", type.description)) }
        var hasCacheControl = false
        for field in upstream.headers where ProxyCore.passedFields.contains(field.name.lowercased()) {
            if field.name.lowercased() == "cache-control" { hasCacheControl = true }
            fields.append(field)
        }
        let cacheControl = CacheControl(upstream.headers.values(named: "cache-control"))
        let downstreamMaxAge = cacheControl.seconds("s-maxage") ?? cacheControl.seconds("max-age") ?? freshness.lifetime
        if !hasCacheControl && freshness.lifetime > 0 {
            fields.append(("Cache-Control", "public, max-age=\(freshness.lifetime)"))
        }
        // Ranges are served from the stored object (go-camo passes the upstream's Accept-Ranges).
        if upstream.status == 200 { fields.append(("Accept-Ranges", "bytes")) }
        fields += configuration.compatProfile.securityFields
        fields.append(("Server", configuration.serverName))
        return CachedResponse(
            status: upstream.status,
            fields: fields,
            body: upstream.body,
            responseTime: upstream.responseTime,
            freshness: freshness,
            downstreamMaxAge: downstreamMaxAge
        )
    }

    /// The fields of a route response as sent downstream and stored: end-to-end upstream fields
    /// without the ones Moxy writes itself (`Date`, `Age`, `Content-Length`) or must not store, plus `Via`.
    func routeFields(
        _ upstream: [(name: String, value: String)],
        withheld: [String],
        route: RouteConfiguration
    ) -> [(name: String, value: String)] {
        var fields = HeaderFields.endToEnd(upstream).filter {
            let name = $0.name.lowercased()
            return name != "date" && name != "age" && name != "content-length" && !withheld.contains(name)
        }
        fields.append(("Via", "1.1 \(configuration.serverName)"))
        return HeaderFields.setting(route.setResponseHeaders, in: fields)
    }

    /// The fields sent upstream for a route request: the client's end-to-end fields, the upstream's
    /// `Host` (or the client's with `preserve_host`), `Via` and `X-Forwarded-*`.
    func forwardedHeaders(
        _ client: [(name: String, value: String)],
        route: RouteConfiguration,
        clientAddress: String?
    ) -> [(name: String, value: String)] {
        let clientHost = client.first(named: "host")
        var fields = HeaderFields.endToEnd(client).filter {
            let name = $0.name.lowercased()
            return name != "host" && name != "content-length"
                && !(route.forwardedHeaders && name.hasPrefix("x-forwarded-") && name != "x-forwarded-for")
        }
        fields.insert(("Host", route.preserveHost ? (clientHost ?? route.upstream.hostHeader) : route.upstream.hostHeader), at: 0)
        fields.append(("Via", "1.1 \(configuration.serverName)"))
        if route.forwardedHeaders {
            if let clientAddress {
                if let index = fields.firstIndex(where: { $0.name.lowercased() == "x-forwarded-for" }) {
                    fields[index].value += ", " + clientAddress
                } else {
                    fields.append(("X-Forwarded-For", clientAddress))
                }
            }
            fields.append(("X-Forwarded-Proto", "http"))
            if let clientHost { fields.append(("X-Forwarded-Host", clientHost)) }
        }
        return HeaderFields.setting(route.setRequestHeaders, in: fields)
    }

    /// A `text/plain` error response that no cache keeps, as the profile answers it.
    /// - Parameters:
    ///   - error: What went wrong.
    ///   - profile: Whose behaviour to imitate; signed URLs use the configured profile, routes Moxy's own.
    func errorResponse(_ error: ProxyError, profile: CompatProfile? = nil) -> CachedResponse {
        let profile = profile ?? configuration.compatProfile
        let error = profile.adapt(error)
        var fields: [(name: String, value: String)] = [("Content-Type", "text/plain; charset=utf-8")]
        fields += profile.errorCacheFields
        if error.code == .methodNotAllowed { fields.append(("Allow", "GET, HEAD")) }
        fields += profile.securityFields
        fields.append(("Server", configuration.serverName))
        return CachedResponse(
            status: error.status,
            fields: fields,
            body: ByteBuffer(string: error.message + "\n"),
            responseTime: UnixTime.now(),
            freshness: .uncached,
            downstreamMaxAge: 0
        )
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
