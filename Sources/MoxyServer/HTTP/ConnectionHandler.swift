// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxySigning
import NIOCore
import NIOHTTP1

/// One client connection: parses requests (pipelined or not), answers memory hits synchronously on
/// this event loop, and hands misses to the coalesced fetcher, answering strictly in request order.
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
        var via: [String]

        var isHead: Bool { method == .HEAD }
    }

    private let core: ProxyCore
    private var partial: Request?
    private var queue = CircularBuffer<Request>(initialCapacity: 4)
    private var waitingForFetch = false
    private var readHeld = false
    private var closed = false
    private var dates = DateHeaderCache()

    init(core: ProxyCore) {
        self.core = core
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            partial = Request(
                method: head.method,
                uri: head.uri,
                version: head.version,
                keepAlive: head.isKeepAlive,
                via: head.headers["via"]
            )
        case .body:
            break  // GET and HEAD bodies are ignored; other methods are refused.
        case .end:
            if let request = partial {
                partial = nil
                queue.append(request)
                process(context: context)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        // Back-pressure: stop reading while a fetch holds the queue or the client does not read
        // what was already written, so a pipelining client cannot make the server buffer without bound.
        if waitingForFetch || !context.channel.isWritable {
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

    private func releaseHeldRead(context: ChannelHandlerContext) {
        if readHeld && !waitingForFetch && context.channel.isWritable {
            readHeld = false
            context.read()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        queue.removeAll()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Idle keep-alive connections are closed; a connection waiting for a fetch is not idle.
        if event is IdleStateHandler.IdleStateEvent {
            if !waitingForFetch && partial == nil { context.close(promise: nil) }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError, !closed {
            // Answer in order: anything already queued is dropped, the connection ends after the 400.
            queue.removeAll()
            let response = core.errorResponse(ProxyError(.badRequest, "malformed HTTP request"))
            let request = Request(method: .GET, uri: "/", version: .http1_1, keepAlive: false, via: [])
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

    private func handle(_ request: Request, context: ChannelHandlerContext) {
        let now = UnixTime.now()
        guard request.method == .GET || request.method == .HEAD else {
            return fail(ProxyError(.methodNotAllowed, "only GET and HEAD are served"), request, now, context)
        }
        if request.via.contains(where: { $0.contains(core.configuration.serverName) }) {
            return fail(ProxyError(.loopDetected, "request loop detected"), request, now, context)
        }
        let path = request.uri.utf8.firstIndex(of: UInt8(ascii: "?")).map { request.uri[..<$0] } ?? Substring(request.uri)
        let target: VerifiedTarget
        do {
            target = try path.utf8.withContiguousStorageIfAvailable { try core.signer.verify(pathBytes: $0, now: now) }
                ?? core.signer.verify(path: path, now: now)
        } catch let error as SigningError {
            return fail(Self.proxyError(for: error), request, now, context)
        } catch {
            return fail(ProxyError(.badSignature, "bad signature"), request, now, context)
        }
        let entry = core.store.get(target.url)
        if let entry, entry.isFresh(at: now) {
            write(entry, cacheStatus: "moxy; hit", for: request, expires: target.expires, now: now, context: context)
            return
        }
        waitingForFetch = true
        core.fetch(target, hadStale: entry != nil, on: context.eventLoop).assumeIsolated().whenSuccess { outcome in
            self.waitingForFetch = false
            guard !self.closed else { return }
            self.write(
                outcome.response,
                cacheStatus: outcome.cacheStatus,
                for: request,
                expires: outcome.isError ? nil : target.expires,
                now: UnixTime.now(),
                context: context
            )
            context.flush()
            self.process(context: context)
            self.releaseHeldRead(context: context)
        }
    }

    private func fail(_ error: ProxyError, _ request: Request, _ now: Int64, _ context: ChannelHandlerContext) {
        write(core.errorResponse(error), cacheStatus: "moxy; detail=\(error.code)", for: request, expires: nil, now: now, context: context)
    }

    /// Writes a response: pre-encoded head, the per-request fields, the body (not for HEAD).
    private func write(
        _ response: CachedResponse,
        cacheStatus: String,
        for request: Request,
        expires: Int64?,
        now: Int64,
        context: ChannelHandlerContext
    ) {
        let age = response.age(at: now)
        let head = expires == nil ? response.head : response.headWithoutLifetime
        // The pre-encoded head and the per-request fields go out in one buffer, the body as the
        // cached buffer itself (never copied): two iovecs in one writev.
        var buffer = context.channel.allocator.buffer(capacity: head.readableBytes + 192)
        buffer.writeImmutableBuffer(head)
        if let expires {
            // No cache downstream may keep the response past the URL's expiry.
            let remaining = max(0, min(response.downstreamMaxAge - age, expires - now))
            buffer.writeStaticString("Cache-Control: public, max-age=")
            buffer.writeString(String(remaining + age))
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("Age: ")
        buffer.writeString(String(age))
        buffer.writeStaticString("\r\n")
        dates.write(into: &buffer, now: now)
        buffer.writeStaticString("Cache-Status: ")
        buffer.writeString(cacheStatus)
        buffer.writeStaticString("\r\n")
        if !request.keepAlive {
            buffer.writeStaticString("Connection: close\r\n")
        } else if request.version.minor == 0 {
            buffer.writeStaticString("Connection: keep-alive\r\n")
        }
        buffer.writeStaticString("\r\n")
        context.write(wrapOutboundOut(buffer), promise: nil)
        if !request.isHead && response.body.readableBytes > 0 {
            context.write(wrapOutboundOut(response.body), promise: nil)
        }
        if !request.keepAlive {
            closed = true
            queue.removeAll()
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).assumeIsolated()
                .whenComplete { _ in context.close(promise: nil) }
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
