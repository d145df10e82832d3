// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A request to the admin listener, read whole (bodies up to 64 KiB).
struct AdminRequest: Sendable {
    var method: HTTPMethod
    /// The path, without the query.
    var path: String
    /// The query's parameters, decoded, in order.
    var query: [(name: String, value: String)]
    /// The `Authorization` field, if any.
    var authorization: String?
    var body: ByteBuffer

    /// The first value of a query parameter.
    func parameter(_ name: String) -> String? { query.first { $0.name == name }?.value }

    /// A request from its head and body.
    init(method: HTTPMethod, uri: String, authorization: String?, body: ByteBuffer) {
        self.method = method
        self.authorization = authorization
        self.body = body
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        self.path = String(parts.first ?? "/")
        self.query = parts.count > 1 ? AdminWire.form(parts[1]) : []
    }

}

/// An admin answer.
struct AdminResponse: Sendable {
    var status: HTTPResponseStatus
    var contentType: String
    var body: String
    var headers: [(String, String)] = []

    static func json(_ body: String, status: HTTPResponseStatus = .ok) -> AdminResponse {
        AdminResponse(status: status, contentType: "application/json", body: body + "\n")
    }

    /// An error as JSON: `{"error": "code", "message": "…"}`.
    static func error(_ status: HTTPResponseStatus, _ code: String, _ message: String) -> AdminResponse {
        .json(JSONWriter.object([("error", .string(code)), ("message", .string(message))]), status: status)
    }
}

/// The admin listener's connection handler: HTTP/1.1 from NIO's server pipeline (the admin API
/// is not the data path), one request at a time, answered by ``AdminAPI`` in the server's
/// background work.
final class AdminHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let maxBody = 64 << 10
    private let api: AdminAPI
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var tooLarge = false
    /// Whether an answer is being made (a long purge is not idleness).
    private var answering = false

    init(api: AdminAPI) {
        self.api = api
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
            tooLarge = false
        case .body(var chunk):
            if body.readableBytes + chunk.readableBytes > Self.maxBody { tooLarge = true } else { body.writeBuffer(&chunk) }
        case .end:
            guard let head else { return }
            self.head = nil
            let keepAlive = head.isKeepAlive
            let isHead = head.method == .HEAD
            if tooLarge {
                return write(
                    .error(.payloadTooLarge, "too-large", "admin request bodies are limited to 64 KiB"), keepAlive: false, isHead: isHead,
                    context: context)
            }
            let request = AdminRequest(method: head.method, uri: head.uri, authorization: head.headers.first(name: "authorization"), body: body)
            answering = true
            let promise = context.eventLoop.makePromise(of: AdminResponse.self)
            let api = self.api
            api.background.submit {
                promise.succeed(await api.respond(request))
            } refused: {
                promise.succeed(.error(.serviceUnavailable, "stopping", "moxy is stopping"))
            }
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            promise.futureResult.whenSuccess { response in
                let (handler, context) = bound.value
                handler.answering = false
                handler.write(response, keepAlive: keepAlive, isHead: isHead, context: context)
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // An admin connection idle for a minute, with no answer being made, is closed.
        if event is IdleStateHandler.IdleStateEvent {
            if !answering { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func write(_ response: AdminResponse, keepAlive: Bool, isHead: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders([("Content-Type", response.contentType), ("Content-Length", String(response.body.utf8.count))])
        headers.add(name: "Cache-Control", value: "no-store")
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))), promise: nil)
        if !isHead { context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: response.body)))), promise: nil) }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        let channel = context.channel
        if !keepAlive { done.whenComplete { _ in channel.close(promise: nil) } }
    }
}

/// Binds the admin listener.
enum AdminListener {
    static func bind(_ configuration: AdminConfiguration, api: AdminAPI, group: any EventLoopGroup) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(IdleStateHandler(allTimeout: .seconds(60)))
                    try sync.configureHTTPServerPipeline()
                    try sync.addHandler(AdminHandler(api: api))
                }
            }
            .bind(host: configuration.host, port: configuration.port).get()
    }
}
