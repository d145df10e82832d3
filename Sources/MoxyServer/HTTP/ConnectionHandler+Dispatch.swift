// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxyHTTP
import MoxySigning
import NIOCore
import NIOHTTP1

extension ConnectionHandler {
    func handleSigned(_ request: consuming Request, path: Substring, now: Int64, context: ChannelHandlerContext) {
        let query = path.utf8.firstIndex(of: UInt8(ascii: "?")).map { path[path.index(after: $0)...] }
        let path = path.utf8.firstIndex(of: UInt8(ascii: "?")).map { path[..<$0] } ?? path
        let settings = self.settings
        recordSource(settings.signedSource, target: nil)
        if let answer = proxy.serviceAnswer(path) {
            return write(answer, cacheStatus: CacheStatus(.answered("service")).value(), for: request, now: now, context: context)
        }
        guard request.method == .GET || request.method == .HEAD else {
            return fail(ProxyError(.methodNotAllowed, "only GET and HEAD are served"), request, now, context)
        }
        let target: VerifiedTarget
        do {
            if let camo = settings.configuration.camoSigner, let url = try camo.verify(path: path, query: query) {
                target = VerifiedTarget(url: url, keyID: "camo", expires: nil)
            } else if let signer = settings.signer {
                target = try path.utf8.withContiguousStorageIfAvailable { try signer.verify(pathBytes: $0, now: now) }
                    ?? signer.verify(path: path, now: now)
            } else {
                return fail(notSigned(ProxyError(.notFound, "not a signed URL"), path: path, query: query), request, now, context)
            }
        } catch let error as SigningError {
            proxy.metrics.count(
                "moxy_signature_failures_total", [("reason", error.code.description)], help: "Signed URLs refused, by reason.")
            let refusal = Self.proxyError(for: error)
            return fail(error.code == .malformedPath ? notSigned(refusal, path: path, query: query) : refusal, request, now, context)
        } catch {
            return fail(ProxyError(.badSignature, "bad signature"), request, now, context)
        }
        var request = request
        request.lifetimeCap = target.expires
        record.target = target.url
        let entry = proxy.tier.store.get(target.url)
        if answeredFreshHit(entry, for: request, now: now, context: context) { return }
        let source = settings.signedSource
        let cacheRequest = CacheRequest(
            source: source,
            url: target.url,
            key: target.url,
            headers: [],
            directives: directives(request, source.overrides),
            clientAddress: remoteAddress,
            trace: traced()
        )
        // A memory miss looks where a route's lookup looks too: a large entry still arriving or
        // whose file is open answers (or is revalidated) as a route's does.
        let lookup = entry != nil ? CacheLookup(entry: entry, storeKey: target.url, forward: .uriMiss) : proxy.tier.lookup(target.url, headers: [])
        answerFromCache(request, cacheRequest, lookup: lookup, now: now, context: context)
    }

    /// The answer to a path that is no signed URL Moxy can read: a bad signature when it has the
    /// shape of a camo-family URL (a digest of the wrong length or form), as the originals answer
    /// it (go-camo: 403), else `error`.
    private func notSigned(_ error: ProxyError, path: Substring, query: Substring?) -> ProxyError {
        guard let camo = settings.configuration.camoSigner, camo.hasSignedShape(path: path, query: query) else { return error }
        return ProxyError(.badSignature, "bad signature")
    }

    func handleRoute(
        _ request: Request,
        source: CacheSource,
        target: Substring,
        host: String?,
        now: Int64,
        context: ChannelHandlerContext
    ) {
        guard let route = source.route else { return }
        recordSource(source, target: nil)
        record.host = route.upstream.host
        guard request.method == .GET || request.method == .HEAD else {
            if let length = request.contentLength, length > route.maxRequestBody {
                request.body?.finish(ProxyError(.requestTooLarge, "request body too large"))
                var closing = request
                closing.keepAlive = false
                return fail(
                    ProxyError(.requestTooLarge, "request body exceeds \(route.maxRequestBody) bytes"), closing, now, context, profile: .moxy)
            }
            if request.body != nil, request.headers.first(name: "expect")?.lowercased() == "100-continue" {
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "HTTP/1.1 100 Continue\r\n\r\n")), promise: nil)
            }
            return pass(request, source: source, route: route, target: target, host: host, context: context)
        }
        let key = Router.routeKey(route, host: host, target: target)
        guard request.flags.contains(.methodOverride) else {
            // Request fields are read only when the entry varies on some.
            let lookup = proxy.tier.lookup(key, headers: { request.fields })
            if answeredFreshHit(lookup.entry, for: request, now: now, context: context) { return }
            return answerRoute(request, fields: request.fields, source: source, route: route, target: target, key: key, lookup: lookup, now: now, context: context)
        }
        var fields = request.fields
        switch route.methodOverride.plan(fields) {
        case .cache: break
        case .strip: fields = MethodOverride.stripped(fields)
        case .bypass(let method):
            return pass(request, source: source, route: route, target: target, host: host, context: context, override: true, invalidatingAs: method)
        }
        let lookup = proxy.tier.lookup(key, headers: { fields })
        answerRoute(request, fields: fields, source: source, route: route, target: target, key: key, lookup: lookup, now: now, context: context)
    }

    /// A route's request that is no fresh hit: the planner decides between the stored entry and
    /// the upstream.
    private func answerRoute(
        _ request: Request,
        fields: [(name: String, value: String)],
        source: CacheSource,
        route: RouteConfiguration,
        target: Substring,
        key: String,
        lookup: CacheLookup,
        now: Int64,
        context: ChannelHandlerContext
    ) {
        let cacheRequest = CacheRequest(
            source: source,
            url: route.upstreamURL(for: target),
            key: key,
            headers: fields,
            directives: directives(request, route.cache),
            clientAddress: remoteAddress,
            trace: traced()
        )
        answerFromCache(request, cacheRequest, lookup: lookup, now: now, context: context)
    }

    /// The one hit path of both modes (signed URLs and routes): a fresh entry in memory for a
    /// plain request is written at once (pre-encoded head, `Age`, `Cache-Status`), before any
    /// upstream work is prepared. Anything else (a condition, a range, request directives, a
    /// stale or disk entry, `Cache-Status` with the key) goes to the planner.
    /// - Returns: Whether it answered.
    private func answeredFreshHit(_ entry: CachedResponse?, for request: Request, now: Int64, context: ChannelHandlerContext) -> Bool {
        guard let entry, entry.externalBody == nil, request.flags.isDisjoint(with: [.directives, .conditional, .range]),
            entry.isFresh(at: now), !entry.freshness.alwaysRevalidate, !settings.configuration.cacheStatusKey
        else { return false }
        writeHit(entry, for: request, now: now, context: context)
        return true
    }

    /// Forwards a request that bypasses the cache (other methods, or a method override), with
    /// both bodies streamed.
    private func pass(
        _ request: Request,
        source: CacheSource,
        route: RouteConfiguration,
        target: Substring,
        host: String?,
        context: ChannelHandlerContext,
        override: Bool = false,
        invalidatingAs: HTTPMethod? = nil
    ) {
        connection.startWaiting()
        let passing = PassThrough.Request(
            method: request.method,
            source: source,
            target: target,
            host: host,
            headers: request.fields,
            clientAddress: remoteAddress,
            body: request.body,
            contentLength: request.contentLength,
            interim: interimSink(for: request, route: route, context: context),
            overriddenAs: invalidatingAs,
            isOverride: override,
            trace: traced()
        )
        let promise = context.eventLoop.makePromise(of: ProxyOutcome.self)
        let proxy = self.proxy
        proxy.background.submit {
            promise.succeed(await proxy.passThrough.pass(passing))
        } refused: {
            passing.body?.finish(ResponseRenderer.stopped)
            promise.succeed(proxy.renderer.stoppedOutcome(profile: .moxy))
        }
        deliver(promise.futureResult, for: request, context: context)
    }

    /// Where a route's interim responses go: written to this connection at once, while it still
    /// waits for the request's answer (HTTP/1.1 clients only: RFC 9110 §15.2 forbids 1xx to 1.0).
    func interimSink(for request: Request, route: RouteConfiguration, context: ChannelHandlerContext) -> (@Sendable (HTTPResponseHead) -> Void)? {
        guard route.interimResponses, request.version.major == 1, request.version.minor >= 1 else { return nil }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        return { head in
            bound.eventLoop.execute {
                let (handler, context) = bound.value
                guard handler.connection.isWaiting, !handler.connection.isClosing else { return }
                let fields = HeaderFields.endToEnd(head.headers.map { (name: $0.name, value: $0.value) })
                var buffer = ResponseHead.encode(status: Int(head.status.code), fields: fields, allocator: context.channel.allocator)
                buffer.writeStaticString("\r\n")
                context.writeAndFlush(handler.wrapOutboundOut(buffer), promise: nil)
            }
        }
    }

    func directives(_ request: Request, _ overrides: CacheOverrides) -> RequestDirectives {
        guard overrides.honorRequestDirectives, request.flags.contains(.directives) else { return .none }
        return RequestDirectives(headers: request.fields)
    }

    /// Serves a stored entry when the planner allows it; otherwise goes forward.
    func answerFromCache(
        _ request: Request,
        _ cacheRequest: CacheRequest,
        lookup: CacheLookup,
        now: Int64,
        context: ChannelHandlerContext
    ) {
        // The key's backoff (a lock) is read only for an entry that would go forward.
        let keys = proxy.keys
        let clock = proxy.clock
        let plan = RequestPlanner.plan(
            entry: lookup.entry,
            directives: cacheRequest.directives,
            validation: cacheRequest.source.validation,
            backoff: { keys.backoff(lookup.storeKey, nowMilliseconds: clock.nowMilliseconds()) },
            now: now
        )
        switch plan {
        case .serve(let entry, var status):
            if settings.configuration.cacheStatusKey { status.key = cacheRequest.key }
            if entry.externalBody != nil, case .hit = status.outcome { status.outcome = .hit(.disk) }
            recordCacheStatus(status)
            return serveStored(entry, cacheStatus: status.value(), for: request, now: now, context: context)
        case .serveAndRefresh(let entry, var status):
            proxy.exchange.refreshInBackground(cacheRequest, lookup: lookup)
            if settings.configuration.cacheStatusKey { status.key = cacheRequest.key }
            recordCacheStatus(status)
            return serveStored(entry, cacheStatus: status.value(), for: request, now: now, context: context)
        case .fail(let error):
            return fail(error, request, now, context)
        case .fetch:
            break
        }
        // Made only when the request goes upstream: a hit needs no sink for interim responses.
        var forwarded = cacheRequest
        if let route = forwarded.source.route { forwarded.interim = interimSink(for: request, route: route, context: context) }
        let cacheRequest = forwarded
        connection.startWaiting()
        var future =
            request.isHead
            ? proxy.exchange.fetchHead(cacheRequest, lookup: lookup, on: context.eventLoop)
            : proxy.exchange.fetch(cacheRequest, lookup: lookup, on: context.eventLoop)
        if settings.configuration.cacheStatusKey {
            future = future.map { outcome in
                var outcome = outcome
                outcome.cacheStatus.key = cacheRequest.key
                return outcome
            }
        }
        deliver(future, for: request, context: context)
    }

    /// Writes a stored entry found at once: from memory, or (a large entry whose file is open)
    /// streamed from disk, which makes the answer asynchronous.
    private func serveStored(_ entry: CachedResponse, cacheStatus: String, for request: Request, now: Int64, context: ChannelHandlerContext) {
        guard let body = entry.externalBody else { return writeStored(entry, cacheStatus: cacheStatus, for: request, now: now, context: context) }
        connection.startWaiting()
        writeExternal(entry, body: body, cacheStatus: cacheStatus, for: request, now: now, context: context)
    }

    /// Writes an asynchronous outcome when it arrives, then resumes the queue.
    func deliver(
        _ future: EventLoopFuture<ProxyOutcome>,
        for request: Request,
        context: ChannelHandlerContext
    ) {
        future.assumeIsolated().whenSuccess { outcome in
            // The client left before its answer (nginx logs these as 499).
            guard !self.connection.isClosing else { return self.finishRecord(status: 499) }
            let now = self.proxy.clock.now()
            var status = outcome.cacheStatus
            if status.hit, let response = outcome.response { status.ttl = response.freshness.lifetime - response.age(at: now) }
            self.recordCacheStatus(status)
            if let response = outcome.response {
                // Moxy's own errors are never capped: they carry no-store.
                var request = request
                if outcome.isError { request.lifetimeCap = nil }
                if let body = response.externalBody {
                    // Read from disk as it is sent; the answer finishes when the body is written.
                    return self.writeExternal(response, body: body, cacheStatus: status.value(), for: request, now: now, context: context)
                }
                if status.hit || status.stored {
                    self.writeStored(response, cacheStatus: status.value(), for: request, now: now, context: context)
                } else {
                    self.write(response, cacheStatus: status.value(), for: request, now: now, context: context)
                }
                self.finishedAsync(context: context)
            } else if let stream = outcome.stream {
                self.writeStream(stream, cacheStatus: status.value(), for: request, context: context)
            } else {
                self.finishedAsync(context: context)
            }
        }
    }
}
