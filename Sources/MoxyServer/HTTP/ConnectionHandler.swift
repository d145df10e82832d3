// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxySigning
import NIOCore
import NIOHTTP1

/// One client connection: parses requests (pipelined or not), answers cache hits synchronously on
/// this event loop, hands misses to the coalesced fetcher and streams pass-through requests,
/// answering strictly in request order.
final class ConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// What the handler keeps of a request until it is answered.
    struct Request {
        var method: HTTPMethod
        var uri: String
        var version: HTTPVersion
        var keepAlive: Bool
        var headers: HTTPHeaders
        var flags: RequestFlags
        /// The streamed body of a request forwarded to a route.
        var body: RequestBodyStream?
        var contentLength: Int?
        var route: RouteConfiguration?

        var isHead: Bool { method == .HEAD }
        var fields: [(name: String, value: String)] { headers.map { (name: $0.name, value: $0.value) } }
    }

    let core: ProxyCore
    private var queue = CircularBuffer<Request>(initialCapacity: 4)
    private var waitingForFetch = false
    private var readHeld = false
    var closed = false
    var dates = DateHeaderCache()
    private var remoteAddress: String?
    /// The body being received, until its `.end`.
    private var receivingBody: RequestBodyStream?
    private var bodyBytes = 0
    private var bodyLimit = Int.max
    private var bodyPaused = false

    init(core: ProxyCore) {
        self.core = core
    }

    func handlerAdded(context: ChannelHandlerContext) {
        remoteAddress = context.channel.remoteAddress?.ipAddress
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            var request = Request(
                method: head.method,
                uri: head.uri,
                version: head.version,
                keepAlive: head.isKeepAlive,
                headers: head.headers,
                flags: RequestFlags(head.headers)
            )
            startBody(&request, context: context)
            queue.append(request)
            process(context: context)
        case .body(let chunk):
            guard let body = receivingBody else { return }
            bodyBytes += chunk.readableBytes
            if bodyBytes > bodyLimit {
                body.finish(ProxyError(.requestTooLarge, "request body exceeds \(bodyLimit) bytes"))
                receivingBody = nil
                bodyPaused = false
            } else if !body.yield(chunk) {
                bodyPaused = true
            }
        case .end:
            receivingBody?.finish()
            receivingBody = nil
            bodyPaused = false
            releaseHeldRead(context: context)
        }
    }

    /// Opens a body stream for a request with a body that goes to a route with a method other than GET/HEAD.
    private func startBody(_ request: inout Request, context: ChannelHandlerContext) {
        let lengthText = request.headers.first(name: "content-length")
        request.contentLength = lengthText.flatMap { Int($0) }
        let hasBody = (request.contentLength ?? 0) > 0 || request.headers.contains(name: "transfer-encoding")
        guard request.method != .GET, request.method != .HEAD,
            case .route(let route, _) = core.resolve(Substring(request.uri), host: request.headers.first(name: "host"))
        else { return }
        request.route = route
        guard hasBody else { return }
        let loop = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let body = RequestBodyStream {
            eventLoop.execute {
                let (handler, context) = loop.value
                handler.bodyPaused = false
                handler.releaseHeldRead(context: context)
            }
        }
        request.body = body
        receivingBody = body
        bodyBytes = 0
        bodyLimit = route.maxRequestBody
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        // Back-pressure: stop reading while a fetch holds the queue (unless its body is still
        // arriving), while the upstream does not take body bytes, or while the client does not read
        // what was already written, so a client cannot make the server buffer without bound.
        if (waitingForFetch && receivingBody == nil) || bodyPaused || !context.channel.isWritable {
            readHeld = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            process(context: context)
            context.flush()
            releaseHeldRead(context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    func releaseHeldRead(context: ChannelHandlerContext) {
        if readHeld && (!waitingForFetch || receivingBody != nil) && !bodyPaused && context.channel.isWritable {
            readHeld = false
            context.read()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        for request in queue { request.body?.finish(ChannelError.ioOnClosedChannel) }
        queue.removeAll()
        receivingBody?.finish(ChannelError.ioOnClosedChannel)
        receivingBody = nil
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Idle keep-alive connections are closed, and so are clients that stall mid-request (nginx's
        // client_header_timeout / client_body_timeout); a connection waiting for an upstream answer
        // with its whole request sent is not idle.
        if event is IdleStateHandler.IdleStateEvent {
            if !waitingForFetch || receivingBody != nil { context.close(promise: nil) }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError, !closed {
            // Answer in order: anything already queued is dropped, the connection ends after the 400.
            queue.removeAll()
            let response = core.errorResponse(ProxyError(.badRequest, "malformed HTTP request"))
            let request = Request(
                method: .GET, uri: "/", version: .http1_1, keepAlive: false, headers: [:], flags: RequestFlags([:]))
            write(response, cacheStatus: "moxy; detail=bad-request", for: request, expires: nil, now: UnixTime.now(), context: context)
            context.flush()
        } else {
            context.close(promise: nil)
        }
    }

    /// Answers queued requests until one needs a fetch.
    private func process(context: ChannelHandlerContext) {
        while !waitingForFetch, !closed, context.channel.isWritable, let request = queue.popFirst() {
            handle(request, context: context)
        }
    }

    /// Called when an asynchronous answer has been written completely.
    func finishedAsync(context: ChannelHandlerContext) {
        waitingForFetch = false
        guard !closed else { return }
        context.flush()
        process(context: context)
        releaseHeldRead(context: context)
    }

    private func handle(_ request: Request, context: ChannelHandlerContext) {
        let now = UnixTime.now()
        if let error = limitError(request) {
            // The rest of such a request cannot be trusted: answer and close.
            var closing = request
            closing.keepAlive = false
            return fail(error, closing, now, context, profile: .moxy)
        }
        if request.flags.contains(.via), request.headers["via"].contains(where: { $0.contains(core.configuration.serverName) }) {
            return fail(ProxyError(.loopDetected, "request loop detected"), request, now, context)
        }
        let host = request.headers.first(name: "host")
        switch core.resolve(Substring(request.uri), host: host) {
        case .route(let route, let target):
            handleRoute(request, route: route, target: target, host: host, now: now, context: context)
        case .signed(let path):
            handleSigned(request, path: path, now: now, context: context)
        case .notFound:
            fail(ProxyError(.notFound, "no route for this path"), request, now, context)
        }
    }

    private func handleSigned(_ request: Request, path: Substring, now: Int64, context: ChannelHandlerContext) {
        let query = path.utf8.firstIndex(of: UInt8(ascii: "?")).map { path[path.index(after: $0)...] }
        let path = path.utf8.firstIndex(of: UInt8(ascii: "?")).map { path[..<$0] } ?? path
        if let answer = core.serviceAnswer(path) {
            return write(answer, cacheStatus: "moxy; detail=service", for: request, expires: nil, now: now, context: context)
        }
        guard request.method == .GET || request.method == .HEAD else {
            return fail(ProxyError(.methodNotAllowed, "only GET and HEAD are served"), request, now, context)
        }
        let target: VerifiedTarget
        do {
            if let camo = core.configuration.camoSigner, let url = try camo.verify(path: path, query: query) {
                target = VerifiedTarget(url: url, keyID: "camo", expires: nil)
            } else if let signer = core.signer {
                target = try path.utf8.withContiguousStorageIfAvailable { try signer.verify(pathBytes: $0, now: now) }
                    ?? signer.verify(path: path, now: now)
            } else {
                return fail(ProxyError(.notFound, "not a signed URL"), request, now, context)
            }
        } catch let error as SigningError {
            return fail(Self.proxyError(for: error), request, now, context)
        } catch {
            return fail(ProxyError(.badSignature, "bad signature"), request, now, context)
        }
        let entry = core.store.get(target.url)
        if let entry, request.flags.isDisjoint(with: [.directives, .conditional, .range]), entry.isFresh(at: now), !entry.freshness.alwaysRevalidate {
            // The hot path: a fresh hit for a plain request.
            writeHit(entry, for: request, expires: target.expires, now: now, context: context)
            return
        }
        let cacheRequest = CacheRequest(
            source: .signed(target),
            key: target.url,
            isHead: request.isHead,
            headers: [],
            directives: directives(request, core.configuration.signedCache),
            clientAddress: remoteAddress,
            overrides: core.configuration.signedCache
        )
        let lookup = CacheLookup(entry: entry, storeKey: target.url, forward: .uriMiss)
        answerFromCache(request, cacheRequest, lookup: lookup, expires: target.expires, now: now, context: context)
    }

    private func handleRoute(
        _ request: Request,
        route: RouteConfiguration,
        target: Substring,
        host: String?,
        now: Int64,
        context: ChannelHandlerContext
    ) {
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
            waitingForFetch = true
            let fields = request.fields
            let address = remoteAddress
            let promise = context.eventLoop.makePromise(of: ProxyOutcome.self)
            promise.completeWithTask {
                await self.core.pass(
                    method: request.method,
                    route: route,
                    target: target,
                    host: host,
                    headers: fields,
                    clientAddress: address,
                    body: request.body,
                    contentLength: request.contentLength
                )
            }
            deliver(promise.futureResult, for: request, expires: nil, context: context)
            return
        }
        let fields = request.fields
        let key = core.routeKey(route, host: host, target: target)
        let cacheRequest = CacheRequest(
            source: .route(route, url: route.upstreamURL(for: target)),
            key: key,
            isHead: request.isHead,
            headers: fields,
            directives: directives(request, route.cache),
            clientAddress: remoteAddress,
            overrides: route.cache
        )
        let lookup = core.lookup(key, headers: fields)
        answerFromCache(request, cacheRequest, lookup: lookup, expires: nil, now: now, context: context)
    }

    private func directives(_ request: Request, _ overrides: CacheOverrides) -> RequestDirectives {
        guard overrides.honorRequestDirectives, request.flags.contains(.directives) else { return .none }
        return RequestDirectives(headers: request.fields)
    }

    /// Serves a stored entry when the reuse policy allows it; otherwise goes forward.
    private func answerFromCache(
        _ request: Request,
        _ cacheRequest: CacheRequest,
        lookup: CacheLookup,
        expires: Int64?,
        now: Int64,
        context: ChannelHandlerContext
    ) {
        if let entry = lookup.entry {
            let age = entry.age(at: now)
            let ttl = entry.freshness.lifetime - age
            var status = CacheStatus(hit: true, ttl: ttl)
            if core.configuration.cacheStatusKey { status.key = cacheRequest.key }
            switch ReusePolicy.decide(entry.freshness, age: age, request: cacheRequest.directives) {
            case .serve(let stale):
                if stale { status.detail = "max-stale" }
                return writeStored(entry, cacheStatus: status.value(), for: request, expires: expires, now: now, context: context)
            case .serveAndRefresh:
                core.refreshInBackground(cacheRequest, lookup: lookup)
                status.detail = "stale-while-revalidate"
                return writeStored(entry, cacheStatus: status.value(), for: request, expires: expires, now: now, context: context)
            case .validate:
                break
            }
        }
        if cacheRequest.directives.onlyIfCached {
            return fail(ProxyError(.notCached, "not in cache (only-if-cached)"), request, now, context)
        }
        waitingForFetch = true
        var future = core.fetch(cacheRequest, lookup: lookup, on: context.eventLoop)
        if core.configuration.cacheStatusKey {
            future = future.map { outcome in
                var outcome = outcome
                outcome.cacheStatus.key = cacheRequest.key
                return outcome
            }
        }
        deliver(future, for: request, expires: expires, context: context)
    }

    /// Writes an asynchronous outcome when it arrives, then resumes the queue.
    private func deliver(
        _ future: EventLoopFuture<ProxyOutcome>,
        for request: Request,
        expires: Int64?,
        context: ChannelHandlerContext
    ) {
        future.assumeIsolated().whenSuccess { outcome in
            guard !self.closed else {
                self.waitingForFetch = false
                return
            }
            let now = UnixTime.now()
            var status = outcome.cacheStatus
            if status.hit, let response = outcome.response { status.ttl = response.freshness.lifetime - response.age(at: now) }
            if let response = outcome.response {
                let expiry = outcome.isError ? nil : expires
                if status.hit || status.stored {
                    self.writeStored(response, cacheStatus: status.value(), for: request, expires: expiry, now: now, context: context)
                } else {
                    self.write(response, cacheStatus: status.value(), for: request, expires: expiry, now: now, context: context)
                }
                self.finishedAsync(context: context)
            } else if let stream = outcome.stream {
                self.writeStream(stream, cacheStatus: status.value(), for: request, context: context)
            } else {
                self.finishedAsync(context: context)
            }
        }
    }

    func fail(
        _ error: ProxyError,
        _ request: Request,
        _ now: Int64,
        _ context: ChannelHandlerContext,
        profile: CompatProfile? = nil
    ) {
        discardBody(of: request, context: context)
        let response = core.errorResponse(error, profile: profile)
        write(response, cacheStatus: "moxy; detail=\(error.code)", for: request, expires: nil, now: now, context: context)
    }

    /// The client limits a request breaks, if any (nginx answers 414 and 400/431 likewise).
    private func limitError(_ request: Request) -> ProxyError? {
        let configuration = core.configuration
        if request.uri.utf8.count > configuration.maxURIBytes {
            return ProxyError(.uriTooLong, "request target longer than \(configuration.maxURIBytes) bytes")
        }
        if request.headers.count > configuration.maxHeaderCount {
            return ProxyError(.headersTooLarge, "more than \(configuration.maxHeaderCount) header fields")
        }
        var bytes = 0
        for (name, value) in request.headers { bytes += name.utf8.count + value.utf8.count + 4 }
        if bytes > configuration.maxHeaderBytes {
            return ProxyError(.headersTooLarge, "header fields larger than \(configuration.maxHeaderBytes) bytes")
        }
        return nil
    }

    /// Ends the body stream of a request answered without forwarding it: the rest of its body is
    /// read and dropped, so the connection neither stalls nor buffers it.
    private func discardBody(of request: Request, context: ChannelHandlerContext) {
        guard let body = request.body else { return }
        body.finish(ProxyError(.badRequest, "request answered without its body"))
        if let receiving = receivingBody, receiving.delegate === body.delegate {
            receivingBody = nil
            bodyPaused = false
            releaseHeldRead(context: context)
        }
    }

    static func proxyError(for error: SigningError) -> ProxyError {
        switch error.code {
        case .malformedPath: ProxyError(.notFound, "not a Moxy URL")
        case .expired: ProxyError(.expired, "expired")
        case .invalidTarget: ProxyError(.invalidTarget, "signed target is not a fetchable http(s) URL")
        case .unknownKey: ProxyError(.badSignature, "unknown key id")
        default: ProxyError(.badSignature, "bad signature")
        }
    }
}
