// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxySigning
import NIOCore
import NIOHTTP1

/// One client connection: parses requests (pipelined or not), answers cache hits synchronously on
/// this event loop, hands misses to the coalesced fetcher and streams pass-through requests,
/// answering strictly in request order.
final class ConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    typealias Request = ClientRequest

    let proxy: Proxy
    /// Two slots: one request answered and one read behind it without growing; more (a deeper
    /// pipeline) grow it. Four cost every idle connection 480 bytes (massif).
    var queue = CircularBuffer<Request>(initialCapacity: 2)
    /// What the connection is doing (answering, waiting, streaming, receiving a body, closing).
    var connection = ConnectionStateMachine()
    /// The stream of the request body being received, until its `.end`.
    var receivingStream: RequestBodyStream?
    var dates = DateHeaderCache()
    var remoteAddress: String?
    /// What each request is answered with.
    let dispatcher: RequestDispatcher
    /// The request being answered, for metrics and the access log.
    var record = RequestRecord()
    /// Frames requests in the bytes read (here, not in a handler of its own: that would cost a
    /// pipeline hop per read and per request part).
    var decoder: RequestDecoder
    /// Bytes of a request part whose rest has not arrived yet.
    var unread: ByteBuffer?
    /// This event loop's access log lines (nil: no access log).
    var accessLog: AccessLogBuffer?
    /// The client's address as an access log field, encoded once (nil: no log, or no address).
    var logClient: AccessLogClient?
    /// This event loop's lane of the request counters (see ``MoxyMetrics/lane(for:)``).
    var lane = 0
    /// Closes the connection when it is idle (see ``idle(context:)``).
    let idleTimer: IdleTimer

    /// - Parameters:
    ///   - idleTimeout: How long a connection may stay quiet (no read, no write, no drained buffer).
    ///   - maxHeadBytes: The bound on a request head (see ``RequestDecoder``).
    /// Whether the connection is TLS (`X-Forwarded-Proto: https` upstream).
    let secure: Bool
    /// Whether stored files may go out with `sendfile`: not over TLS (the bytes are encrypted in
    /// user space) nor on an HTTP/2 stream (its adapter carries bytes).
    let sendsFiles: Bool

    init(proxy: Proxy, idleTimeout: TimeAmount, maxHeadBytes: Int, secure: Bool = false, sendsFiles: Bool? = nil) {
        self.proxy = proxy
        self.secure = secure
        self.sendsFiles = sendsFiles ?? !secure
        self.decoder = RequestDecoder(maxHeadBytes: maxHeadBytes)
        self.dispatcher = RequestDispatcher(proxy: proxy)
        self.idleTimer = IdleTimer(timeout: idleTimeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        remoteAddress = context.channel.remoteAddress?.ipAddress
        dispatcher.remoteAddress = remoteAddress
        dispatcher.secure = secure
        accessLog = proxy.accessLog?.buffer(for: context.eventLoop)
        if accessLog != nil { logClient = remoteAddress.map(AccessLogClient.init) }
        lane = proxy.metrics.lane(for: context.eventLoop)
        if context.channel.isActive { startIdleTimer(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        startIdleTimer(context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleTimer.stop()
    }

    private func startIdleTimer(context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        idleTimer.start(on: context.eventLoop) {
            let (handler, context) = bound.value
            handler.idle(context: context)
        }
    }

    /// The connection was quiet for the idle timeout. Idle keep-alive connections are closed, and
    /// so are clients that stall mid-request (nginx's client_header_timeout / client_body_timeout);
    /// a connection waiting for an upstream answer with its whole request sent is not idle.
    func idle(context: ChannelHandlerContext) {
        if connection.idleTimeoutCloses() { context.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if var unread = self.unread {
            // The rest of a part that began in an earlier read.
            self.unread = nil
            unread.discardReadBytes()
            unread.writeBuffer(&bytes)
            bytes = unread
        }
        do {
            while let part = try decoder.next(&bytes) { received(part, context: context) }
        } catch {
            return refuse(error, context: context)
        }
        if bytes.readableBytes > 0 { unread = bytes }
    }

    /// A request part, decoded.
    private func received(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            var headerBytes = 0
            let flags = RequestFlags(head.headers, bytes: &headerBytes)
            var request = Request(
                method: head.method,
                uri: head.uri,
                version: head.version,
                keepAlive: head.isKeepAlive && !connection.draining,
                headers: head.headers,
                flags: flags,
                headerBytes: headerBytes
            )
            startBody(&request, context: context)
            queue.append(request)
            process(context: context)
        case .body(let chunk):
            switch connection.bodyChunk(chunk.readableBytes) {
            case .forward:
                if receivingStream?.yield(chunk) == false { connection.bodyPaused() }
            case .tooLarge(let limit):
                receivingStream?.finish(ProxyError(.requestTooLarge, "request body exceeds \(limit) bytes"))
                receivingStream = nil
            case .drop:
                break
            }
        case .end:
            if connection.bodyEnded() { receivingStream?.finish() }
            receivingStream = nil
            releaseHeldRead(context: context)
        }
    }

    /// Opens a body stream for a request with a body that goes to a route with a method other than GET/HEAD.
    private func startBody(_ request: inout Request, context: ChannelHandlerContext) {
        let lengthText = request.headers.first(name: "content-length")
        request.contentLength = lengthText.flatMap { Int($0) }
        let hasBody = (request.contentLength ?? 0) > 0 || request.headers.contains(name: "transfer-encoding")
        guard request.method != .GET, request.method != .HEAD else { return }
        dispatcher.refreshSettings()
        guard case .route(let source, _) = dispatcher.settings.router.resolve(Substring(request.uri), host: request.headers.first(name: "host")),
            let route = source.route
        else { return }
        guard hasBody else { return }
        let loop = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let body = RequestBodyStream {
            eventLoop.execute {
                let (handler, context) = loop.value
                handler.connection.bodyResumed()
                handler.releaseHeldRead(context: context)
            }
        }
        request.body = body
        receivingStream = body
        connection.bodyStarted(limit: route.maxRequestBody)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        idleTimer.touch(context.eventLoop.now)
        context.flush()
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        // Back-pressure: see ConnectionStateMachine.readRequested.
        if connection.readRequested(writable: context.channel.isWritable) { context.read() }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            idleTimer.touch(context.eventLoop.now)
            process(context: context)
            context.flush()
            releaseHeldRead(context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    func releaseHeldRead(context: ChannelHandlerContext) {
        if connection.readReleased(writable: context.channel.isWritable) { context.read() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleTimer.stop()
        markClosing()
        for request in queue { request.body?.finish(ChannelError.ioOnClosedChannel) }
        queue.removeAll()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ConnectionRegistry.DrainEvent {
            if connection.drain(queueEmpty: queue.isEmpty) { context.close(promise: nil) }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// Nothing more is read or written; a body still arriving is failed.
    func markClosing() {
        if connection.close() { receivingStream?.finish(ChannelError.ioOnClosedChannel) }
        receivingStream = nil
    }

    /// A malformed request: answered in order (anything already queued is dropped), and the
    /// connection ends after the answer (the bytes that follow cannot be trusted).
    private func refuse(_ error: RequestDecodingError, context: ChannelHandlerContext) {
        unread = nil
        guard !connection.isClosing else { return }
        queue.removeAll()
        let request = Request(method: .GET, uri: "/", version: .http1_1, keepAlive: false, headers: [:], flags: [], headerBytes: 0)
        beginRecord(request)
        write(dispatcher.error(error.proxyError), for: request, now: proxy.clock.now(), context: context)
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Answers queued requests until one needs a fetch.
    private func process(context: ChannelHandlerContext) {
        while connection.mayAnswer(writable: context.channel.isWritable), let request = queue.popFirst() {
            handle(request, context: context)
        }
    }

    /// Called when an asynchronous answer has been written completely.
    func finishedAsync(context: ChannelHandlerContext) {
        guard connection.answerFinished() == .processQueue else { return }
        context.flush()
        process(context: context)
        if connection.closesAfterQueue(queueEmpty: queue.isEmpty) { context.close(promise: nil) }
        releaseHeldRead(context: context)
    }

    /// Answers one request: the dispatcher decides, the writer writes.
    func handle(_ request: consuming Request, context: ChannelHandlerContext) {
        let now = proxy.clock.now()
        beginRecord(request)
        // The sink captures the version only: capturing the request would copy it.
        let version = request.version
        let answer = dispatcher.dispatch(request, now: now, record: &record, eventLoop: context.eventLoop) { route in
            self.interimSink(for: version, route: route, context: context)
        }
        if !answer.forwardsBody { discardBody(of: request, context: context) }
        write(answer, for: request, now: now, context: context)
    }

    /// Ends the body stream of a request answered without forwarding it: the rest of its body is
    /// read and dropped, so the connection neither stalls nor buffers it.
    func discardBody(of request: Request, context: ChannelHandlerContext) {
        guard let body = request.body else { return }
        body.finish(ProxyError(.badRequest, "request answered without its body"))
        if let receiving = receivingStream, receiving.delegate === body.delegate {
            receivingStream = nil
            _ = connection.bodyEnded()
            releaseHeldRead(context: context)
        }
    }
}
