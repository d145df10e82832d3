// SPDX-License-Identifier: Apache-2.0

import AsyncHTTPClient
import Logging
import MoxyCache
import MoxyValidation
import NIOCore
import NIOHTTP1

extension ProxyCore {
    /// An upstream body read up to a bound: all of it, or the bytes read so far and the rest.
    enum BodyRead {
        /// The whole body.
        case complete(ByteBuffer)
        /// More than the bound: what was read, and a reader for the rest.
        case partial(ByteBuffer, ResponseBodyReader)
    }

    /// Goes forward for a route request once and decides what to store.
    func exchangeRoute(
        _ request: CacheRequest,
        route: RouteConfiguration,
        url: String,
        lookup: CacheLookup,
        forward: CacheStatus.Forward,
        validators: [(name: String, value: String)]
    ) async -> ProxyOutcome {
        let started = UnixTime.nowMilliseconds()
        // The cache asks for the whole representation; the client's own conditionals and ranges
        // are answered from it.
        let dropped: Set<String> = ["if-none-match", "if-modified-since", "if-range", "range", "if-match", "if-unmodified-since"]
        let headers =
            forwardedHeaders(request.headers, route: route, clientAddress: request.clientAddress).filter {
                !dropped.contains($0.name.lowercased())
            } + validators
        let response: HTTPClientResponse
        do {
            response = try await forwarder.send(
                ForwardRequest(method: .GET, url: url, headers: headers, body: nil, contentLength: nil),
                logger: logger
            )
        } catch {
            logger.info("upstream failed", metadata: ["route": "\(route.name)", "url": "\(url)", "error": "\(error)"])
            if let stale = staleOnError(lookup.entry, status: nil, forward: forward, detail: "\(error.code)") { return stale }
            return .complete(errorResponse(error, profile: .moxy), CacheStatus(forward: forward, detail: "\(error.code)"), isError: true)
        }
        let responseTime = UnixTime.now()
        let requestTime = UnixTime.requestTime(startedAt: started, responseTime: responseTime)
        let status = Int(response.status.code)
        let upstreamFields = response.headers.map { (name: $0.name, value: $0.value) }
        let times = (requestTime: requestTime, responseTime: responseTime)
        if status == 304, let entry = lookup.entry {
            // A 304 confirms the stored entry: valid by construction.
            if let etag = upstreamFields.first(named: "etag"), let stored = entry.etag, !Validators.weakMatch(etag, stored) {
                // The 304 is for another representation (§4.3.4): fetch the whole one instead.
                var unconditional = lookup
                unconditional.entry = nil
                return await exchangeRoute(request, route: route, url: url, lookup: unconditional, forward: forward, validators: [])
            }
            clearBackoff(lookup.storeKey)
            return freshen(entry, with: upstreamFields, request: request, lookup: lookup, forward: forward, times: times) {
                self.routeFields($0, withheld: [], route: route)
            }
        }
        let decision = StoragePolicy(overrides: route.cache).evaluate(
            requestHeaders: request.headers,
            status: status,
            headers: upstreamFields,
            requestTime: requestTime,
            responseTime: responseTime
        )
        // Rules apply to what would be stored or would replace (or remove) the stored entry.
        let validation = route.validation.flatMap { decision.isStore || lookup.entry != nil ? $0 : nil }
        var cacheStatus = CacheStatus(forward: forward, forwardStatus: status)
        if let validation, let failure = validation.validateHead(status: status, headers: upstreamFields) {
            recordInvalid(failure, request: request, url: url, status: status, body: nil)
            return invalidOutcome(failure, validation: validation, request: request, lookup: lookup, forward: forward, status: status) {
                .streamed(streamThrough(response, route: route), cacheStatus)
            }
        }
        if status >= 500, lookup.entry != nil {
            if let stale = staleOnError(lookup.entry, status: status, forward: forward, detail: "upstream-status") {
                return stale
            }
            // A server error never replaces a stored response, whatever its own freshness says:
            // pass it on uncached and keep the entry for the next attempt.
            cacheStatus.detail = "kept-stored"
            return .streamed(streamThrough(response, route: route), cacheStatus)
        }
        if case .doNotStore(let reason) = decision { cacheStatus.detail = reason }
        if validation == nil, !decision.isStore {
            if status < 500 { invalidate(request.key) }
            markHitForMiss(request.key, now: responseTime, seconds: request.overrides.hitForMiss)
            return .streamed(streamThrough(response, route: route), cacheStatus)
        }
        let fields = routeFields(upstreamFields, withheld: decision.freshness?.withheldFields ?? [], route: route)
        let contentLength = upstreamFields.first(named: "content-length").flatMap { Int($0.trimmingSpaces) }
        let storeLimit = decision.isStore ? min(route.maxObjectSize, store.maxEntrySize) : 0
        let read: BodyRead
        do {
            // Buffer what may be stored, and what the rules need to see (nothing when they only
            // look at the status and fields).
            let validationLimit = validation.map { $0.needsBody ? $0.validateMaxBytes : 0 } ?? 0
            read = try await readBody(response, contentLength: contentLength, bound: max(storeLimit, validationLimit))
        } catch {
            // An incomplete body is never stored as complete (§3.3).
            let failure = UpstreamFetcher.mapError(error)
            logger.info("upstream body failed", metadata: ["route": "\(route.name)", "url": "\(url)", "error": "\(failure)"])
            if let stale = staleOnError(lookup.entry, status: nil, forward: forward, detail: "\(failure.code)") { return stale }
            return .complete(errorResponse(failure, profile: .moxy), CacheStatus(forward: forward, detail: "\(failure.code)"), isError: true)
        }
        if case .complete(let body) = read, let contentLength, contentLength != body.readableBytes {
            return .complete(
                errorResponse(ProxyError(.upstreamError, "upstream body was incomplete"), profile: .moxy),
                CacheStatus(forward: forward, detail: "incomplete"),
                isError: true
            )
        }
        // The response passed on uncached, from what was read so far and the rest.
        let streamed = { (reported: CacheStatus) -> ProxyOutcome in
            switch read {
            case .complete(let body):
                .streamed(StreamedResponse(status: status, fields: fields, contentLength: body.readableBytes, prefix: body, rest: nil), reported)
            case .partial(let prefix, let rest):
                .streamed(StreamedResponse(status: status, fields: fields, contentLength: contentLength, prefix: prefix, rest: rest), reported)
            }
        }
        if let validation {
            var whole: ByteBuffer? = nil
            if case .complete(let body) = read, body.readableBytes <= validation.validateMaxBytes { whole = body }
            if let failure = validation.validate(status: status, headers: upstreamFields, body: whole, headChecked: true) {
                var excerpt: ByteBuffer
                switch read {
                case .complete(let body): excerpt = body
                case .partial(let prefix, _): excerpt = prefix
                }
                recordInvalid(failure, request: request, url: url, status: status, body: excerpt)
                return invalidOutcome(failure, validation: validation, request: request, lookup: lookup, forward: forward, status: status) {
                    streamed(cacheStatus)
                }
            }
            clearBackoff(lookup.storeKey)
        }
        guard let freshness = decision.freshness else {
            if status < 500 { invalidate(request.key) }
            markHitForMiss(request.key, now: responseTime, seconds: request.overrides.hitForMiss)
            return streamed(cacheStatus)
        }
        guard case .complete(let body) = read, body.readableBytes <= storeLimit else {
            cacheStatus.detail = "too-large"
            return streamed(cacheStatus)
        }
        let stored = CachedResponse(
            status: status,
            fields: fields,
            body: ByteBuffer.exact(body),
            responseTime: responseTime,
            freshness: freshness,
            downstreamMaxAge: freshness.lifetime
        )
        cacheStatus.stored = save(request.key, stored, requestHeaders: request.headers)
        if !cacheStatus.stored { cacheStatus.detail = "too-large-for-memory" }
        return .complete(stored, cacheStatus)
    }

    /// Reads a body until its end or until more than `bound` bytes arrived (at once when
    /// `Content-Length` already says so).
    func readBody(_ response: HTTPClientResponse, contentLength: Int?, bound: Int) async throws -> BodyRead {
        let reader = ResponseBodyReader(response.body)
        if let contentLength, contentLength > bound { return .partial(ByteBuffer(), reader) }
        var body = ByteBuffer()
        while let chunk = try await reader.next() {
            var chunk = chunk
            body.writeBuffer(&chunk)
            if body.readableBytes > bound { return .partial(body, reader) }
        }
        return .complete(body)
    }
}
