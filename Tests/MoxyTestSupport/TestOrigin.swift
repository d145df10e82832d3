// SPDX-License-Identifier: Apache-2.0

public import NIOCore
import NIOConcurrencyHelpers
public import NIOHTTP1
import NIOPosix

/// What the test origin answers for one path.
public struct OriginRoute: Sendable {
    /// The status code.
    public var status: Int
    /// Header fields (a `Content-Length` is added unless ``chunks`` is set).
    public var headers: [(String, String)]
    /// The body.
    public var body: [UInt8]
    /// When set, the body is sent chunked, in this many pieces, without `Content-Length`.
    public var chunks: Int?
    /// Wait before sending the head.
    public var delay: TimeAmount
    /// Wait between body pieces.
    public var chunkDelay: TimeAmount
    /// Interim responses (status, fields) sent before the final one.
    public var interim: [(status: Int, headers: [(String, String)])] = []
    /// After this many body pieces, the rest waits for ``TestOrigin/resumeBodies()``.
    public var pauseAfterPieces: Int? = nil
    /// After this many body pieces, the connection is closed: the body never ends.
    public var abortAfterPieces: Int? = nil

    /// Creates a route.
    public init(
        status: Int = 200,
        headers: [(String, String)] = [("Content-Type", "image/png")],
        body: [UInt8] = Array("png-bytes".utf8),
        chunks: Int? = nil,
        delay: TimeAmount = .zero,
        chunkDelay: TimeAmount = .zero
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.chunks = chunks
        self.delay = delay
        self.chunkDelay = chunkDelay
    }

    /// A redirect to `location`.
    public static func redirect(_ location: String, status: Int = 302) -> OriginRoute {
        OriginRoute(status: status, headers: [("Location", location)], body: [])
    }
}

/// A request as the test origin received it.
public struct OriginRequest: Sendable {
    /// The method.
    public var method: HTTPMethod
    /// The request target.
    public var uri: String
    /// The fields.
    public var headers: HTTPHeaders
    /// The body bytes.
    public var body: [UInt8]
}

/// An HTTP/1.1 origin on 127.0.0.1 with programmable routes that counts the requests it receives.
public final class TestOrigin: Sendable {
    private let routes = NIOLockedValueBox<[String: OriginRoute]>([:])
    private let responders = NIOLockedValueBox<[String: @Sendable (OriginRequest) -> OriginRoute]>([:])
    private let requestLog = NIOLockedValueBox<[String: [OriginRequest]]>([:])
    private let inFlight = NIOLockedValueBox<(now: Int, peak: Int)>((0, 0))
    private let counts = NIOLockedValueBox<[String: Int]>([:])
    private let lastHeaders = NIOLockedValueBox<[String: HTTPHeaders]>([:])
    private let connectionCount = NIOLockedValueBox(0)
    private let reusedToDrop = NIOLockedValueBox(0)
    private let droppedCount = NIOLockedValueBox(0)
    private let closingEverything = NIOLockedValueBox(false)
    /// Responses held back, and the number of requests in progress that releases them (`nil`:
    /// released by ``holdResponses(until:timeout:)``'s condition).
    private let barrier = NIOLockedValueBox<(active: Bool, inFlight: Int?, held: [@Sendable () -> Void])>((false, nil, []))
    private let channel: NIOLockedValueBox<(any Channel)?> = NIOLockedValueBox(nil)
    /// Bodies paused by ``OriginRoute/pauseAfterPieces`` until ``resumeBodies()``.
    private let pausedBodies = NIOLockedValueBox<(resumed: Bool, waiting: [@Sendable () -> Void])>((false, []))
    /// The bound port.
    public private(set) nonisolated(unsafe) var port = 0

    /// Creates an origin; call ``start(group:)``.
    public init() {}

    /// Binds to a loopback address (default 127.0.0.1) on a free port.
    public func start(group: any EventLoopGroup, host: String = "127.0.0.1") async throws {
        let bound = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                self.connectionCount.withLockedValue { $0 += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(OriginHandler(origin: self))
                }
            }
            .bind(host: host, port: 0).get()
        port = bound.localAddress?.port ?? 0
        channel.withLockedValue { $0 = bound }
    }

    /// Closes the listener.
    public func stop() async {
        let listener = channel.withLockedValue { $0 }
        try? await listener?.close()
    }

    /// Sets the answer for a path (with query, as requested).
    public func route(_ path: String, _ route: OriginRoute) {
        routes.withLockedValue { $0[path] = route }
    }

    /// Answers a path with a function of the request (checked before fixed routes).
    public func respond(_ path: String, _ responder: @escaping @Sendable (OriginRequest) -> OriginRoute) {
        responders.withLockedValue { $0[path] = responder }
    }

    /// Every request received for a path, in order, with bodies.
    public func requests(_ path: String) -> [OriginRequest] { requestLog.withLockedValue { $0[path] ?? [] } }

    /// The most requests ever in progress at once (head received, response not yet finished).
    public var peakConcurrency: Int { inFlight.withLockedValue { $0.peak } }

    fileprivate func started() {
        inFlight.withLockedValue {
            $0.now += 1
            $0.peak = max($0.peak, $0.now)
        }
    }

    fileprivate func ended() { inFlight.withLockedValue { $0.now -= 1 } }

    fileprivate func complete(_ head: HTTPRequestHead, body: [UInt8]) -> OriginRoute? {
        let request = OriginRequest(method: head.method, uri: head.uri, headers: head.headers, body: body)
        requestLog.withLockedValue { $0[head.uri, default: []].append(request) }
        return responders.withLockedValue { $0[head.uri] }?(request)
    }

    /// `http://127.0.0.1:PORT` + path.
    public func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Closes the connection, without answering, of the next `count` requests that arrive on a
    /// connection that already served one: what an origin does when it closes an idle keep-alive
    /// connection just as the proxy reuses it.
    public func dropReusedRequests(_ count: Int = 1) {
        reusedToDrop.withLockedValue { $0 = count }
    }

    /// From now on closes every connection at its first request, without answering: a site that
    /// is down, without giving its port back (another test could be given a released port).
    public func closeEveryConnection() {
        closingEverything.withLockedValue { $0 = true }
    }

    fileprivate var closesEverything: Bool { closingEverything.withLockedValue { $0 } }

    fileprivate func dropsReused() -> Bool {
        let drops = reusedToDrop.withLockedValue { count in
            guard count > 0 else { return false }
            count -= 1
            return true
        }
        if drops { droppedCount.withLockedValue { $0 += 1 } }
        return drops
    }

    /// Requests closed unanswered by ``dropReusedRequests(_:)``.
    public var droppedRequests: Int { droppedCount.withLockedValue { $0 } }

    /// Holds every response until `count` requests are in progress at once, then sends them all:
    /// a test of parallel upstream requests then depends on no timing. A response held for
    /// `timeout` is sent anyway, so a proxy that does not send them in parallel fails the test's
    /// count instead of hanging it.
    public func holdResponses(untilInFlight count: Int, timeout: TimeAmount = .seconds(10)) {
        barrier.withLockedValue { $0 = (true, count, []) }
        Task {
            try? await Task.sleep(for: .nanoseconds(timeout.nanoseconds))
            self.releaseHeld()
        }
    }

    /// Holds every response until `condition` holds (checked every 5 ms), e.g. until the proxy has
    /// coalesced so many requests behind the one that reached the origin; at most `timeout`.
    public func holdResponses(until condition: @escaping @Sendable () -> Bool, timeout: TimeAmount = .seconds(10)) {
        barrier.withLockedValue { $0 = (true, nil, []) }
        Task {
            let deadline = ContinuousClock.now + .nanoseconds(timeout.nanoseconds)
            while !condition(), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
            self.releaseHeld()
        }
    }

    /// Holds a response while the barrier is up; `false` when there is none to wait for.
    fileprivate func hold(_ send: @escaping @Sendable () -> Void) -> Bool {
        let release = barrier.withLockedValue { state -> [@Sendable () -> Void]? in
            guard state.active else { return nil }
            state.held.append(send)
            guard let needed = state.inFlight, inFlight.withLockedValue({ $0.now }) >= needed else { return [] }
            defer { state = (false, nil, []) }
            return state.held
        }
        guard let release else { return false }
        for send in release { send() }
        return true
    }

    /// Sends the rest of every paused body, and of bodies that reach their pause from now on.
    public func resumeBodies() {
        let waiting = pausedBodies.withLockedValue { state -> [@Sendable () -> Void] in
            defer { state = (true, []) }
            return state.waiting
        }
        for resume in waiting { resume() }
    }

    /// Bodies waiting at their pause.
    public var pausedBodyCount: Int { pausedBodies.withLockedValue { $0.waiting.count } }

    /// Waits at a body's pause until ``resumeBodies()`` (at once when that was called already).
    fileprivate func pauseBody(_ resume: @escaping @Sendable () -> Void) {
        let now = pausedBodies.withLockedValue { state -> Bool in
            if state.resumed { return true }
            state.waiting.append(resume)
            return false
        }
        if now { resume() }
    }

    private func releaseHeld() {
        let held = barrier.withLockedValue { state -> [@Sendable () -> Void] in
            defer { state = (false, nil, []) }
            return state.held
        }
        for send in held { send() }
    }

    /// How many TCP connections were accepted.
    public var connections: Int { connectionCount.withLockedValue { $0 } }

    /// How many requests reached a path.
    public func count(_ path: String) -> Int { counts.withLockedValue { $0[path] ?? 0 } }

    /// The request headers last received for a path.
    public func headers(_ path: String) -> HTTPHeaders? { lastHeaders.withLockedValue { $0[path] } }

    fileprivate func received(_ head: HTTPRequestHead) -> OriginRoute? {
        counts.withLockedValue { $0[head.uri, default: 0] += 1 }
        lastHeaders.withLockedValue { $0[head.uri] = head.headers }
        return routes.withLockedValue { $0[head.uri] ?? $0[Self.fallbackPath] }
    }

    private static let fallbackPath = "\u{0}fallback"

    /// Sets the answer for every path without a route of its own.
    public func routeEverythingElse(_ route: OriginRoute) {
        routes.withLockedValue { $0[Self.fallbackPath] = route }
    }
}

private final class OriginHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let origin: TestOrigin
    var route: OriginRoute?
    var head: HTTPRequestHead?
    var body: [UInt8] = []
    var keepAlive = true
    var served = 0

    init(origin: TestOrigin) { self.origin = origin }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if origin.closesEverything || (served > 0 && origin.dropsReused()) {
                context.close(promise: nil)
                return
            }
            served += 1
            keepAlive = head.isKeepAlive
            self.head = head
            body = []
            origin.started()
            route = origin.received(head) ?? OriginRoute(status: 404, headers: [("Content-Type", "text/plain")], body: Array("no route".utf8))
        case .body(let buffer):
            body += Array(buffer: buffer)
        case .end:
            guard let head, var route else { return }
            if let dynamic = origin.complete(head, body: body) { route = dynamic }
            let loop = context.eventLoop.assumeIsolated()
            let boxed = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let held = origin.hold {
                boxed.eventLoop.execute {
                    let (handler, context) = boxed.value
                    handler.respond(route, context: context)
                }
            }
            if !held { loop.scheduleTask(in: route.delay) { self.respond(route, context: context) } }
        }
    }

    func respond(_ route: OriginRoute, context: ChannelHandlerContext) {
        var headers = HTTPHeaders(route.headers)
        let pieces: [[UInt8]]
        if let chunks = route.chunks, chunks > 0 {
            let size = max(1, (route.body.count + chunks - 1) / chunks)
            pieces = stride(from: 0, to: route.body.count, by: size).map { Array(route.body[$0..<min($0 + size, route.body.count)]) }
            headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked")
        } else {
            pieces = route.body.isEmpty ? [] : [route.body]
            if !headers.contains(name: "content-length") { headers.add(name: "Content-Length", value: String(route.body.count)) }
        }
        for interim in route.interim {
            let early = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: interim.status), headers: HTTPHeaders(interim.headers))
            context.writeAndFlush(wrapOutboundOut(.head(early)), promise: nil)
        }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: route.status), headers: headers)
        context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
        sendPieces(pieces[...], route: route, context: context)
    }

    func sendPieces(_ pieces: ArraySlice<[UInt8]>, route: OriginRoute, context: ChannelHandlerContext, paused: Bool = false) {
        let sent = pieces.startIndex
        if route.abortAfterPieces == sent {
            context.close(promise: nil)
            return
        }
        if route.pauseAfterPieces == sent, !paused, !pieces.isEmpty {
            let boxed = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            origin.pauseBody {
                boxed.eventLoop.execute {
                    let (handler, context) = boxed.value
                    handler.sendPieces(pieces, route: route, context: context, paused: true)
                }
            }
            return
        }
        guard let first = pieces.first else {
            let keepAlive = self.keepAlive
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                self.origin.ended()
                if !keepAlive { context.close(promise: nil) }
            }
            return
        }
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: first)))), promise: nil)
        let rest = pieces.dropFirst()
        if route.chunkDelay == .zero {
            sendPieces(rest, route: route, context: context)
        } else {
            context.eventLoop.assumeIsolated().scheduleTask(in: route.chunkDelay) {
                self.sendPieces(rest, route: route, context: context)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
