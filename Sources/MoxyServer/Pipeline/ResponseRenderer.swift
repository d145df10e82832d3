// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import MoxyCache
import NIOCore

/// Turns upstream answers and Moxy's own errors into the responses clients get: which fields a
/// source keeps, the signed-URL security fields, `Via`, `Server`, and the compat profiles' errors.
struct ResponseRenderer: Sendable {
    /// The `Server` and `Via` token.
    let serverName: String
    /// The configured compat profile (signed URLs' errors and security fields).
    let profile: CompatProfile
    /// camo's `Camo-Host` value.
    var camoHost = "unknown"
    /// The clock for the response time of Moxy's own answers.
    let clock: MoxyClock

    /// A complete answer as stored (or passed on uncached with `freshness` `.uncached`).
    /// - Parameter withholding: Whether the fields the freshness withholds are left out (`false`
    ///   for the answer sent to the request that fetched it).
    /// - Parameter transformed: What the route's ``BodyTransform`` made of the body (its tags, its
    ///   rewritten body), when it has one.
    func response(
        _ answer: UpstreamAnswer, body: ByteBuffer, freshness: Freshness, source: CacheSource, withholding: Bool = true,
        transformed: BodyTransform.Outcome? = nil
    ) -> CachedResponse {
        let withheld = withholding ? freshness.withheldFields : []
        var fields: [(name: String, value: String)]
        let downstreamMaxAge: Int64
        if let route = source.route {
            fields = [Self.date(answer.fields, responseTime: answer.responseTime)] + routeFields(answer.fields, withheld: withheld, route: route)
            downstreamMaxAge = freshness.lifetime
        } else {
            (fields, downstreamMaxAge) = signedFields(answer, freshness: freshness, withheld: withheld)
        }
        // Tags come from what the upstream sent, whatever of it goes downstream (and the route's
        // own, when it has tag rules).
        let tags = transformed?.tags ?? SurrogateKeys.parse(answer.fields)
        var body = body
        if let transformed, transformed.rewrittenStrings > 0 {
            body = transformed.body
            fields = BodyTransform.weakened(fields)
        }
        // Only what is stored gets its encodings (once); the answer with withheld fields is for one client.
        guard withholding else {
            return CachedResponse(
                status: answer.status, fields: fields, body: body, responseTime: answer.responseTime, freshness: freshness,
                downstreamMaxAge: downstreamMaxAge, surrogateKeys: tags)
        }
        return Self.stored(
            status: answer.status, fields: fields, body: body, responseTime: answer.responseTime, freshness: freshness,
            downstreamMaxAge: downstreamMaxAge, isSigned: source.isSigned, compress: source.overrides.compress, surrogateKeys: tags)
    }

    /// A response about to be stored, with the names it is stored under and, when worth it, its
    /// gzip, brotli and zstd forms, each encoded once. The cache fetched the identity form whatever
    /// the client accepts, so the entry does not vary on `Accept-Encoding` (signed URLs vary on
    /// nothing); downstream it says `Vary: Accept-Encoding` when it has an encoded form.
    static func stored(
        status: Int,
        fields: [(name: String, value: String)],
        body: ByteBuffer,
        responseTime: Int64,
        freshness: Freshness,
        downstreamMaxAge: Int64,
        isSigned: Bool,
        compress: Bool,
        surrogateKeys: [String]? = nil
    ) -> CachedResponse {
        let varyNames = isSigned ? [] : (VaryKey.names(fields.values(named: "vary")) ?? ["*"]).filter { $0 != "accept-encoding" }
        var fields = fields
        var encoded: [CachedResponse] = []
        if compress, ResponseCompression.isWorthIt(status: status, fields: fields, bodyLength: body.readableBytes) {
            let forms = ResponseCompression.forms(body)
            if !forms.isEmpty { fields = ResponseCompression.varyingOnEncoding(fields) }
            encoded = forms.map { coding, bytes in
                CachedResponse(
                    status: status, fields: ResponseCompression.encodedFields(fields, coding), body: bytes, responseTime: responseTime,
                    freshness: freshness, downstreamMaxAge: downstreamMaxAge, varyNames: varyNames, coding: coding,
                    surrogateKeys: surrogateKeys)
            }
        }
        return CachedResponse(
            status: status, fields: fields, body: body, responseTime: responseTime, freshness: freshness,
            downstreamMaxAge: downstreamMaxAge, varyNames: varyNames, encoded: encoded, surrogateKeys: surrogateKeys)
    }

    /// An answer passed on uncached, streamed: what was read so far, then the rest.
    func passed(
        _ answer: UpstreamAnswer,
        read: ExchangeMachine.BodyRead?,
        rest: ResponseBodyReader?,
        source: CacheSource,
        status: CacheStatus
    ) -> ProxyOutcome {
        // Passed on as it came: the upstream's Date and Age (when valid) stay; the writer adds a
        // Date only when there is none.
        let fields: [(name: String, value: String)]
        var downstreamMaxAge: Int64? = nil
        if let route = source.route {
            fields = passedFields(answer.fields, route: route)
        } else {
            let signed = signedFields(answer, freshness: .uncached, passingAge: true)
            fields = signed.fields
            downstreamMaxAge = signed.downstreamMaxAge
        }
        let prefix = read?.bytes ?? ByteBuffer()
        var contentLength = answer.contentLength
        var rest = rest
        switch (read, answer.body) {
        case (.complete(let body), _): contentLength = body.readableBytes
        case (nil, .stream(let reader)): rest = reader
        default: break
        }
        let stream = StreamedResponse(
            status: answer.status, fields: fields, contentLength: contentLength, prefix: prefix, rest: rest,
            downstreamMaxAge: downstreamMaxAge)
        return .streamed(stream, status)
    }

    /// An upstream's answer to a `HEAD`, passed on: its fields as the source keeps them, and its
    /// `Content-Length` (the length the `GET` would have), with no body.
    func passedHead(_ answer: UpstreamAnswer, source: CacheSource, status: CacheStatus) -> ProxyOutcome {
        let length = answer.fields.first(named: "content-length").flatMap { Int($0.trimmingSpaces) }
        let fields: [(name: String, value: String)]
        if let route = source.route {
            fields = passedFields(answer.fields, route: route)
        } else {
            fields = signedFields(answer, freshness: .uncached, passingAge: true).fields
        }
        return .streamed(StreamedResponse(status: answer.status, fields: fields, contentLength: length, prefix: ByteBuffer(), rest: nil), status)
    }

    /// The fields of a `304` that update a stored response of this source.
    func updateFields(_ update: [(name: String, value: String)], source: CacheSource) -> [(name: String, value: String)] {
        let endToEnd = HeaderFields.endToEnd(update)
        guard let route = source.route else { return endToEnd.filter { CacheSource.signedFields.contains($0.name.lowercased()) } }
        return routeFields(endToEnd, withheld: [], route: route)
    }

    /// The fields of a signed-URL response (canonical type, allow-listed upstream fields, security
    /// fields) and the `max-age` they announce downstream.
    /// - Parameters:
    ///   - withheld: Lowercase names of fields not to keep.
    ///   - passingAge: Whether the upstream's `Age` is passed on (a response not stored, whose age
    ///     the writer does not compute).
    func signedFields(
        _ upstream: UpstreamAnswer,
        freshness: Freshness,
        withheld: [String] = [],
        passingAge: Bool = false
    ) -> (fields: [(name: String, value: String)], downstreamMaxAge: Int64) {
        var fields = passingAge
            ? Self.timing(upstream.fields, responseTime: upstream.responseTime)
            : [Self.date(upstream.fields, responseTime: upstream.responseTime)]
        if let type = upstream.contentType { fields.append(("Content-Type", type.description)) }
        var hasCacheControl = false
        for field in upstream.fields where CacheSource.signedFields.contains(field.name.lowercased()) && !withheld.contains(field.name.lowercased()) {
            if field.name.lowercased() == "cache-control" { hasCacheControl = true }
            fields.append(field)
        }
        let cacheControl = CacheControl(upstream.fields.values(named: "cache-control"))
        let downstreamMaxAge = cacheControl.seconds("s-maxage") ?? cacheControl.seconds("max-age") ?? freshness.lifetime
        if !hasCacheControl, let value = profile.defaultCacheControl(lifetime: freshness.lifetime) {
            fields.append(("Cache-Control", value))
        }
        // Ranges are served from the stored object (go-camo passes the upstream's Accept-Ranges).
        if upstream.status == 200 { fields.append(("Accept-Ranges", "bytes")) }
        if profile == .camo { fields.append(("Camo-Host", camoHost)) }
        fields += profile.securityFields
        if profile.sendsServerField { fields.append(("Server", serverName)) }
        return (fields, downstreamMaxAge)
    }

    /// The fields of a route response passed on as it came: the upstream's valid `Date` and `Age`
    /// (the writer adds a `Date` when there is none) and the route's fields.
    func passedFields(_ upstream: [(name: String, value: String)], route: RouteConfiguration) -> [(name: String, value: String)] {
        Self.timing(upstream, responseTime: nil) + routeFields(upstream, withheld: [], route: route)
    }

    /// The fields of a route response as sent downstream and stored: end-to-end upstream fields
    /// without the ones Moxy writes itself (`Date`, `Age`, `Content-Length`) or must not store, plus `Via`.
    func routeFields(
        _ upstream: [(name: String, value: String)],
        withheld: [String],
        route: RouteConfiguration
    ) -> [(name: String, value: String)] {
        // The field that targets Moxy is Moxy's alone (RFC 9213 §2.1); CDN-Cache-Control goes on
        // to the CDN in front.
        let targeted = route.cache.targetedCacheControl == "cdn-cache-control" ? "" : route.cache.targetedCacheControl
        var fields = HeaderFields.endToEnd(upstream).filter {
            let name = $0.name.lowercased()
            return name != "date" && name != "age" && name != "content-length" && name != targeted && !withheld.contains(name)
        }
        fields.append(("Via", "1.1 \(serverName)"))
        return HeaderFields.setting(route.setResponseHeaders, in: fields)
    }

    /// The `Date` a response is stored and reused with (RFC 9110 §6.6.1): the upstream's when it
    /// is a valid HTTP-date, otherwise the time the response arrived.
    static func date(_ upstream: [(name: String, value: String)], responseTime: Int64) -> (name: String, value: String) {
        ("Date", validDate(upstream) ?? HTTPDate.format(responseTime))
    }

    /// The upstream's `Date` when it is a valid HTTP-date.
    static func validDate(_ upstream: [(name: String, value: String)]) -> String? {
        upstream.first(named: "date").flatMap { HTTPDate.parse($0) == nil ? nil : $0 }
    }

    /// The upstream's `Date` and `Age` for a response passed on uncached: each when valid (an
    /// invalid `Age` is ignored, RFC 9111 §5.1); a missing `Date` is made from `responseTime`, or
    /// left to the writer when that is `nil`.
    static func timing(_ upstream: [(name: String, value: String)], responseTime: Int64?) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        if let responseTime {
            fields.append(date(upstream, responseTime: responseTime))
        } else if let value = validDate(upstream) {
            fields.append(("Date", value))
        }
        if let age = upstream.first(named: "age").flatMap({ DeltaSeconds.parseAge($0) }) { fields.append(("Age", String(age))) }
        return fields
    }

    /// A `text/plain` error response that no cache keeps, as the profile answers it.
    /// - Parameters:
    ///   - error: What went wrong.
    ///   - profile: Whose behaviour to imitate; `nil` for the configured profile.
    func error(_ error: ProxyError, profile: CompatProfile? = nil) -> CachedResponse {
        let profile = profile ?? self.profile
        let error = profile.adapt(error)
        let now = clock.now()
        var fields: [(name: String, value: String)] = [("Date", HTTPDate.format(now)), ("Content-Type", "text/plain; charset=utf-8")]
        fields += profile.errorCacheFields
        if error.code == .methodNotAllowed { fields.append(("Allow", "GET, HEAD")) }
        fields += profile.securityFields
        if profile.sendsServerField { fields.append(("Server", serverName)) }
        return CachedResponse(
            status: error.status,
            fields: fields,
            // camo's bodies are the bare text (`Not Found`, 9 bytes); Go's http.Error ends with a newline.
            body: ByteBuffer(string: profile == .camo ? error.message : error.message + "\n"),
            responseTime: now,
            freshness: .uncached,
            downstreamMaxAge: 0
        )
    }

    /// The error that work refused after the server stopped answers with (503 `busy`).
    static let stopped = ProxyError(.busy, "server is shutting down")

    /// The outcome of work refused because the server stopped.
    func stoppedOutcome(profile: CompatProfile?) -> ProxyOutcome {
        .complete(error(Self.stopped, profile: profile), CacheStatus(.answered("busy")), isError: true)
    }

    /// A `200 text/plain` answer of a compat profile's service path, never cached.
    func serviceAnswer(_ body: String) -> CachedResponse {
        let now = clock.now()
        var fields: [(name: String, value: String)] = [
            ("Date", HTTPDate.format(now)), ("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store"),
        ]
        fields += profile.securityFields
        if profile.sendsServerField { fields.append(("Server", serverName)) }
        return CachedResponse(
            status: 200,
            fields: fields,
            body: ByteBuffer(string: body),
            responseTime: now,
            freshness: .uncached,
            downstreamMaxAge: 0
        )
    }
}
