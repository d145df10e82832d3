// SPDX-License-Identifier: Apache-2.0

import AsyncHTTPClient
import MoxyCache
import NIOCore
import NIOHTTP1

extension ConnectionHandler {
    /// Writes a fresh hit for a plain request: the pre-encoded head, per-request fields, the body.
    func writeHit(_ stored: CachedResponse, for request: Request, now: Int64, context: ChannelHandlerContext) {
        let response = Self.encoding(stored, for: request)
        let ttl = response.freshness.lifetime - response.age(at: now)
        // `Cache-Status: moxy; hit; ttl=N` is written without building a String (no allocation).
        writeParts(
            head: request.lifetimeCap == nil ? response.head : response.headWithoutLifetime,
            age: response.age(at: now),
            maxAge: response.downstreamMaxAge,
            body: response.body,
            cacheStatus: "",
            hitTTL: ttl,
            for: request,
            now: now,
            context: context
        )
    }

    /// Writes a stored (or just stored) response, answering the client's conditionals with 304 and
    /// its `Range` with 206 / 416 (RFC 9110 §13, §14).
    func writeStored(
        _ stored: CachedResponse,
        cacheStatus: String,
        for request: Request,
        now: Int64,
        context: ChannelHandlerContext
    ) {
        let response = Self.encoding(stored, for: request)
        guard response.status == 200, !request.flags.isDisjoint(with: [.conditional, .range]) else {
            return write(response, cacheStatus: cacheStatus, for: request, now: now, context: context)
        }
        let fields = request.fields
        if request.flags.contains(.conditional),
            Validators.notModified(requestHeaders: fields, etag: response.etag, lastModified: response.lastModified)
        {
            // §15.4.5: the fields a 200 would have carried that matter to caches.
            let kept: Set<String> = ["cache-control", "content-location", "date", "etag", "expires", "vary"]
            let head = response.fields.filter { kept.contains($0.name.lowercased()) }
            return writeDynamic(
                status: 304, fields: head, body: nil, response: response, cacheStatus: cacheStatus, for: request,
                now: now, context: context)
        }
        if request.flags.contains(.range), request.method == .GET,
            Validators.ifRangeHolds(
                request.headers.first(name: "if-range"),
                etag: response.etag,
                lastModified: response.lastModified,
                date: response.responseTime
            )
        {
            let length = response.body.readableBytes
            switch ByteRange.parse(request.headers.first(name: "range"), length: length) {
            case .satisfiable(let first, let last):
                let slice = response.body.getSlice(at: response.body.readerIndex + first, length: last - first + 1) ?? ByteBuffer()
                let head = response.fields + [("Content-Range", "bytes \(first)-\(last)/\(length)")]
                return writeDynamic(
                    status: 206, fields: head, body: slice, response: response, cacheStatus: cacheStatus, for: request,
                    now: now, context: context)
            case .unsatisfiable:
                let head = response.fields.filter { $0.name.lowercased() != "content-type" } + [("Content-Range", "bytes */\(length)")]
                return writeDynamic(
                    status: 416, fields: head, body: ByteBuffer(), response: response, cacheStatus: cacheStatus, for: request,
                    now: now, context: context)
            case .ignored:
                break
            }
        }
        write(response, cacheStatus: cacheStatus, for: request, now: now, context: context)
    }

    /// The form of a stored response a request gets: gzip when it accepts it and asks for no range
    /// (ranges are of the identity form).
    @inline(__always)
    static func encoding(_ response: CachedResponse, for request: Request) -> CachedResponse {
        guard request.flags.contains(.gzip), !request.flags.contains(.range), let gzipped = response.gzipped else { return response }
        return gzipped
    }

    /// Writes a response whose head is built for this request (304, 206, 416) from a stored one.
    private func writeDynamic(
        status: Int,
        fields: [(name: String, value: String)],
        body: ByteBuffer?,
        response: CachedResponse,
        cacheStatus: String,
        for request: Request,
        now: Int64,
        context: ChannelHandlerContext
    ) {
        var fields = fields
        if request.lifetimeCap != nil { fields.removeAll { ["cache-control", "expires"].contains($0.name.lowercased()) } }
        if let body { fields.append(("Content-Length", String(body.readableBytes))) }
        let head = ResponseHead.encode(status: status, fields: fields, allocator: context.channel.allocator)
        writeParts(
            head: head, age: response.age(at: now), maxAge: response.downstreamMaxAge, body: body ?? ByteBuffer(),
            cacheStatus: cacheStatus, for: request, now: now, context: context)
    }

    /// Writes a complete response: pre-encoded head, the per-request fields, the body (not for HEAD).
    func write(
        _ response: CachedResponse,
        cacheStatus: String,
        for request: Request,
        now: Int64,
        context: ChannelHandlerContext
    ) {
        writeParts(
            head: request.lifetimeCap == nil ? response.head : response.headWithoutLifetime,
            age: response.freshness == .uncached ? nil : response.age(at: now),
            maxAge: response.downstreamMaxAge,
            body: response.body,
            cacheStatus: cacheStatus,
            for: request,
            now: now,
            context: context
        )
    }

    private func writeParts(
        head: ByteBuffer,
        age: Int64?,
        maxAge: Int64,
        body: ByteBuffer,
        cacheStatus: String,
        hitTTL: Int64? = nil,
        for request: Request,
        now: Int64,
        context: ChannelHandlerContext
    ) {
        // The pre-encoded head and the per-request fields go out in one buffer, the body as the
        // cached buffer itself (never copied): two iovecs in one writev.
        var buffer = context.channel.allocator.buffer(capacity: head.readableBytes + 192)
        buffer.writeImmutableBuffer(head)
        if let expires = request.lifetimeCap {
            // No cache downstream may keep the response past the URL's expiry.
            let current = age ?? 0
            let remaining = max(0, min(maxAge - current, expires - now))
            buffer.writeStaticString("Cache-Control: public, max-age=")
            buffer.writeString(String(remaining + current))
            buffer.writeStaticString("\r\n")
        }
        if let age {
            buffer.writeStaticString("Age: ")
            buffer.writeString(String(age))
            buffer.writeStaticString("\r\n")
        }
        writeCommonFields(into: &buffer, cacheStatus: cacheStatus, hitTTL: hitTTL, for: request)
        buffer.writeStaticString("\r\n")
        context.write(wrapOutboundOut(buffer), promise: nil)
        if !request.isHead && body.readableBytes > 0 {
            context.write(wrapOutboundOut(body), promise: nil)
        }
        if !request.keepAlive { closeAfterWrites(context: context) }
    }

    private func writeCommonFields(
        into buffer: inout ByteBuffer,
        cacheStatus: String,
        hitTTL: Int64? = nil,
        for request: Request
    ) {
        // A stored response carries its own Date (RFC 9110 §6.6.1); only Age is per request.
        if let hitTTL {
            buffer.writeStaticString("Cache-Status: moxy; hit; ttl=")
            buffer.writeString(String(hitTTL))
        } else {
            buffer.writeStaticString("Cache-Status: ")
            buffer.writeString(cacheStatus)
        }
        buffer.writeStaticString("\r\n")
        if !request.keepAlive {
            buffer.writeStaticString("Connection: close\r\n")
        } else if request.version.minor == 0 {
            buffer.writeStaticString("Connection: keep-alive\r\n")
        }
    }

    private func closeAfterWrites(context: ChannelHandlerContext) {
        markClosing()
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).assumeIsolated()
            .whenComplete { _ in context.close(promise: nil) }
    }

    /// Streams an upstream response to the client: `Content-Length` when known, chunked framing
    /// for HTTP/1.1 otherwise (close-delimited for HTTP/1.0); each chunk waits for the previous
    /// write, so memory stays bounded whatever the size.
    func writeStream(_ stream: StreamedResponse, cacheStatus: String, for request: Request, context: ChannelHandlerContext) {
        connection.startStreaming()
        var request = request
        let bodyAllowed = !request.isHead && stream.status != 204 && stream.status != 304 && !(100..<200).contains(stream.status)
        let chunked = bodyAllowed && stream.contentLength == nil && request.version.minor >= 1
        if bodyAllowed && stream.contentLength == nil && !chunked { request.keepAlive = false }
        var fields = stream.fields
        if let expires = request.lifetimeCap {
            // As for complete responses: no cache downstream keeps it past the URL's expiry.
            fields.removeAll { ["cache-control", "expires"].contains($0.name.lowercased()) }
            let remaining = max(0, min(stream.downstreamMaxAge ?? 0, expires - proxy.clock.now()))
            fields.append(("Cache-Control", "public, max-age=\(remaining)"))
        }
        if let length = stream.contentLength, stream.status != 304 {
            fields.append(("Content-Length", String(length)))
        } else if chunked {
            fields.append(("Transfer-Encoding", "chunked"))
        }
        var buffer = ResponseHead.encode(status: stream.status, fields: fields, allocator: context.channel.allocator)
        if !fields.contains(where: { $0.name == "Date" }) { dates.write(into: &buffer, now: proxy.clock.now()) }
        writeCommonFields(into: &buffer, cacheStatus: cacheStatus, for: request)
        buffer.writeStaticString("\r\n")
        context.write(wrapOutboundOut(buffer), promise: nil)
        guard bodyAllowed else {
            if !request.keepAlive { closeAfterWrites(context: context) }
            finishedAsync(context: context)
            return
        }
        let keepAlive = request.keepAlive
        if stream.prefix.readableBytes > 0 { context.write(wrapOutboundOut(Self.frame(stream.prefix, chunked: chunked)), promise: nil) }
        context.flush()
        let handlerBox = NIOLoopBound(self, eventLoop: context.eventLoop)
        let contextBox = NIOLoopBound(context, eventLoop: context.eventLoop)
        Self.startPump(stream.rest, handler: handlerBox, context: contextBox, chunked: chunked, keepAlive: keepAlive)
    }

    private static func startPump(
        _ rest: ResponseBodyReader?,
        handler handlerBox: NIOLoopBound<ConnectionHandler>,
        context contextBox: NIOLoopBound<ChannelHandlerContext>,
        chunked: Bool,
        keepAlive: Bool
    ) {
        let eventLoop = handlerBox.eventLoop
        let finish: @Sendable (Bool) -> Void = { failed in
            eventLoop.execute {
                let handler = handlerBox.value
                let context = contextBox.value
                if failed {
                    // The client cannot tell a cut body from a whole one otherwise.
                    handler.markClosing()
                    context.close(promise: nil)
                    handler.finishedAsync(context: context)
                    return
                }
                if chunked { context.write(handler.wrapOutboundOut(ByteBuffer(string: "0\r\n\r\n")), promise: nil) }
                if !keepAlive { handler.closeAfterWrites(context: context) }
                handler.finishedAsync(context: context)
            }
        }
        handlerBox.value.proxy.background.submit {
            finish(await Self.pump(rest, handler: handlerBox, context: contextBox, chunked: chunked))
        } refused: {
            finish(true)
        }
    }

    /// Copies body chunks to the client, one write at a time. Returns `true` when either side failed.
    private static func pump(
        _ rest: ResponseBodyReader?,
        handler: NIOLoopBound<ConnectionHandler>,
        context: NIOLoopBound<ChannelHandlerContext>,
        chunked: Bool
    ) async -> Bool {
        guard let rest else { return false }
        let eventLoop = handler.eventLoop
        do {
            while let chunk = try await rest.next() {
                try await eventLoop.flatSubmit { () -> EventLoopFuture<Void> in
                    guard !handler.value.connection.isClosing else { return eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel) }
                    return context.value.writeAndFlush(handler.value.wrapOutboundOut(Self.frame(chunk, chunked: chunked)))
                }.get()
            }
            return false
        } catch {
            return true
        }
    }

    private static func frame(_ chunk: ByteBuffer, chunked: Bool) -> ByteBuffer {
        guard chunked, chunk.readableBytes > 0 else { return chunk }
        var framed = ByteBuffer(string: String(chunk.readableBytes, radix: 16) + "\r\n")
        framed.writeImmutableBuffer(chunk)
        framed.writeStaticString("\r\n")
        return framed
    }
}
