// SPDX-License-Identifier: Apache-2.0

import NIOCore
import NIOHPACK
import NIOHTTP2

/// Puts one HTTP/2 stream in front of the same `ConnectionHandler` an HTTP/1.1 connection has, so
/// that a stream takes the same dispatcher, cache path and writers (no second request path): the
/// request's HEADERS and DATA become HTTP/1.1 request bytes (with `Connection: close`, one request
/// per stream), and the HTTP/1.1 response bytes the handler writes become HEADERS and DATA frames,
/// with END_STREAM on the last. The stream's flow-control window is its channel's writability,
/// which the handler already obeys (a pump writes its next piece once the previous one is written).
final class HTTP2StreamAdapter: ChannelDuplexHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = HTTP2Frame.FramePayload

    /// Whether the request body is re-framed as chunks (no `content-length` given).
    private var chunkedRequest = false
    private var requestEnded = false
    /// The response being read back from the handler's bytes.
    private var response = ResponseParser()
    /// When the last frame written so far has gone out: a write that makes no frame (the
    /// handler's empty write before it closes) completes with it, not before.
    private var lastWritten: EventLoopFuture<Void>?

    // MARK: Request: frames in, HTTP/1.1 bytes up.

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .headers(let headers):
            guard !requestEnded else { return }  // trailers: the handler has no use for them
            var bytes = context.channel.allocator.buffer(capacity: 256)
            let (head, isHead, hasLength) = Self.requestHead(headers.headers, into: &bytes)
            guard head else {
                context.fireErrorCaught(HTTP2StreamAdapterError.malformedRequest)
                context.close(promise: nil)
                return
            }
            response.isHeadRequest = isHead
            chunkedRequest = !headers.endStream && !hasLength
            if chunkedRequest { bytes.writeString("Transfer-Encoding: chunked\r\n") }
            bytes.writeString("\r\n")
            requestEnded = headers.endStream
            context.fireChannelRead(wrapInboundOut(bytes))
        case .data(let frame):
            guard !requestEnded, case .byteBuffer(let body) = frame.data else { return }
            requestEnded = frame.endStream
            guard chunkedRequest else {
                if body.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(body)) }
                return
            }
            var bytes = context.channel.allocator.buffer(capacity: body.readableBytes + 16)
            if body.readableBytes > 0 {
                bytes.writeString(String(body.readableBytes, radix: 16) + "\r\n")
                bytes.writeImmutableBuffer(body)
                bytes.writeString("\r\n")
            }
            if frame.endStream { bytes.writeString("0\r\n\r\n") }
            if bytes.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(bytes)) }
        default:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
    }

    /// Writes the HTTP/1.1 request line and fields of a request's HEADERS.
    /// - Returns: Whether it is a valid request, whether its method is HEAD, whether it has a `content-length`.
    static func requestHead(_ headers: HPACKHeaders, into bytes: inout ByteBuffer) -> (valid: Bool, isHead: Bool, hasLength: Bool) {
        guard let method = headers.first(name: ":method"), let path = headers.first(name: ":path"), !path.isEmpty,
            method.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }), path.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { return (false, false, false) }
        bytes.writeString("\(method) \(path) HTTP/1.1\r\n")
        var hasHost = false
        var hasLength = false
        var cookies: [String] = []
        for (name, value, _) in headers where !name.hasPrefix(":") {
            // Field values cannot hold line breaks in HTTP/2 either (RFC 9113 §8.2.1); NIOHTTP2
            // refuses them, this is the last line of defence against a split request.
            guard !value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else { return (false, false, false) }
            switch name {
            case "cookie": cookies.append(value)
                continue
            case "host": hasHost = true
            case "content-length": hasLength = true
            case "connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection": continue
            default: break
            }
            bytes.writeString("\(name): \(value)\r\n")
        }
        // HTTP/2 may split the cookie field; HTTP/1.1 wants it in one (RFC 9113 §8.2.3).
        if !cookies.isEmpty { bytes.writeString("cookie: \(cookies.joined(separator: "; "))\r\n") }
        if !hasHost, let authority = headers.first(name: ":authority") { bytes.writeString("host: \(authority)\r\n") }
        bytes.writeString("connection: close\r\n")
        return (true, method == "HEAD", hasLength)
    }

    // MARK: Response: HTTP/1.1 bytes down, frames out.

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .byteBuffer(let bytes) = unwrapOutboundIn(data) else {
            promise?.fail(HTTP2StreamAdapterError.fileRegion)
            return
        }
        let frames: [HTTP2Frame.FramePayload]
        do {
            frames = try response.feed(bytes)
        } catch {
            promise?.fail(error)
            context.close(promise: nil)
            return
        }
        guard let last = frames.indices.last else {
            if let lastWritten, let promise { lastWritten.cascade(to: promise) } else { promise?.succeed() }
            return
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        for index in frames.indices {
            context.write(wrapOutboundOut(frames[index]), promise: index == last ? written : nil)
        }
        lastWritten = written.futureResult
        if let promise { written.futureResult.cascade(to: promise) }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        // A body delimited by the connection's end (an HTTP/1.0-style answer) ends its stream here.
        if let frame = response.finishAtClose() {
            context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
        }
        context.close(mode: mode, promise: promise)
    }
}

/// Why a stream's bytes could not be carried.
struct HTTP2StreamAdapterError: Error, CustomStringConvertible {
    let description: String
    /// The request's pseudo-fields are missing or hold what HTTP/1.1 cannot carry.
    static let malformedRequest = HTTP2StreamAdapterError(description: "malformed HTTP/2 request")
    /// The handler wrote a file region (it sends files only on plain connections).
    static let fileRegion = HTTP2StreamAdapterError(description: "a file region cannot go over HTTP/2")
    /// The handler's response bytes were not HTTP/1.1.
    static let malformedResponse = HTTP2StreamAdapterError(description: "malformed response bytes")
}
