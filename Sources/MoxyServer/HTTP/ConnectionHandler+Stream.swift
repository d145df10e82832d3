// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

extension ConnectionHandler {
    /// Writes a stored response whose body is read from disk as it is sent (a large entry, or
    /// one still arriving): conditionals answered with 304, a `Range` with 206 / 416 when the
    /// length is known, otherwise the whole body (chunked when its length is not known yet).
    func writeExternal(
        _ response: CachedResponse,
        body: any BodySource,
        cacheStatus: String,
        for request: Request,
        _ framing: Framing,
        now: Int64,
        context: ChannelHandlerContext
    ) {
        connection.startStreaming()
        var first = 0
        var end = response.bodyLength
        var whole = true
        switch StoredAnswer.decide(response, length: response.bodyLength, for: request) {
        case .whole:
            break
        case .notModified:
            writeNotModified(response, cacheStatus: cacheStatus, framing, now: now, context: context)
            return finishedAsync(context: context)
        case .partial(let from, let last, let length):
            (first, end, whole) = (from, last + 1, false)
            writeDynamic(
                status: 206, fields: Self.partialFields(response, first: from, last: last, length: length), body: nil,
                streamedLength: last + 1 - from, response: response, cacheStatus: cacheStatus, framing, now: now, context: context)
        case .unsatisfiable(let length):
            writeUnsatisfiable(response, length: length, cacheStatus: cacheStatus, framing, now: now, context: context)
            return finishedAsync(context: context)
        }
        var framing = framing
        let chunked = end == nil && framing.minor >= 1
        if whole {
            // (A range from byte 0 has its 206 head already: `first == 0` wrote a 200 head too.)
            // An unknown length over HTTP/1.0 is delimited by closing.
            if end == nil && !chunked { framing.keepAlive = false }
            writeParts(
                head: framing.lifetimeCap == nil ? response.head : response.headWithoutLifetime, age: response.age(at: now),
                maxAge: response.downstreamMaxAge, body: ByteBuffer(), cacheStatus: cacheStatus, bodyFollows: true, chunked: chunked,
                framing, now: now, context: context)
        }
        guard !framing.isHead else {
            finishRecord()
            if !framing.keepAlive { closeAfterWrites(context: context) }
            return finishedAsync(context: context)
        }
        if sendsFiles, let end, let file = body.fileRegions(from: first, to: end) {
            return sendFile(file, body: body, bytes: end - first, keepAlive: framing.keepAlive, context: context)
        }
        context.flush()
        let cursor = BodyCursor(body, from: first, to: end)
        startPump({ try await cursor.next() }, chunked: chunked, keepAlive: framing.keepAlive, context: context)
    }

    /// Writes regions of a stored file whose blocks were all checked already: the kernel copies
    /// them to the socket (`sendfile`), with no read into memory, no task and no trip to the
    /// thread pool. The answer finishes when the last region is written.
    private func sendFile(_ file: FileRegions, body: any BodySource, bytes: Int, keepAlive: Bool, context: ChannelHandlerContext) {
        record.bytes += bytes
        let written = context.eventLoop.makePromise(of: Void.self)
        for (index, region) in file.regions.enumerated() {
            context.write(NIOAny(IOData.fileRegion(region)), promise: index == file.regions.count - 1 ? written : nil)
        }
        context.flush()
        let handle = file.handle
        written.futureResult.assumeIsolated().whenComplete { result in
            // The body is kept until here: its descriptor is the one the handle duplicated.
            withExtendedLifetime(body) { try? handle.close() }
            self.finishRecord()
            if case .failure = result {
                self.markClosing()
                context.close(promise: nil)
            } else if !keepAlive {
                self.closeAfterWrites(context: context)
            }
            self.finishedAsync(context: context)
        }
    }

    /// Streams an upstream response to the client: `Content-Length` when known, chunked framing
    /// for HTTP/1.1 otherwise (close-delimited for HTTP/1.0); each chunk waits for the previous
    /// write, so memory stays bounded whatever the size.
    func writeStream(_ stream: StreamedResponse, cacheStatus: String, _ framing: Framing, context: ChannelHandlerContext) {
        connection.startStreaming()
        var framing = framing
        let bodyAllowed = !framing.isHead && stream.status != 204 && stream.status != 304 && !(100..<200).contains(stream.status)
        let chunked = bodyAllowed && stream.contentLength == nil && framing.minor >= 1
        if bodyAllowed && stream.contentLength == nil && !chunked { framing.keepAlive = false }
        var fields = stream.fields
        if let expires = framing.lifetimeCap {
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
        writeCommonFields(into: &buffer, cacheStatus: cacheStatus, framing)
        buffer.writeStaticString("\r\n")
        recordHead(buffer, bytes: buffer.readableBytes + (bodyAllowed ? stream.prefix.readableBytes : 0))
        context.write(wrapOutboundOut(buffer), promise: nil)
        guard bodyAllowed else {
            finishRecord()
            if !framing.keepAlive { closeAfterWrites(context: context) }
            finishedAsync(context: context)
            return
        }
        let keepAlive = framing.keepAlive
        if stream.prefix.readableBytes > 0 { context.write(wrapOutboundOut(Self.frame(stream.prefix, chunked: chunked)), promise: nil) }
        context.flush()
        var next: (@Sendable () async throws -> ByteBuffer?)? = nil
        if let rest = stream.rest { next = { try await rest.next() } }
        startPump(next, chunked: chunked, keepAlive: keepAlive, context: context)
    }

    /// Starts copying a body to the client in the background work; the answer finishes (and the
    /// queue resumes) when it ends, or the connection closes when either side failed.
    /// - Parameter next: The next piece of the body, `nil` at its end.
    private func startPump(
        _ next: (@Sendable () async throws -> ByteBuffer?)?,
        chunked: Bool,
        keepAlive: Bool,
        context: ChannelHandlerContext
    ) {
        let handlerBox = NIOLoopBound(self, eventLoop: context.eventLoop)
        let contextBox = NIOLoopBound(context, eventLoop: context.eventLoop)
        let eventLoop = handlerBox.eventLoop
        let finish: @Sendable (Bool) -> Void = { failed in
            eventLoop.execute {
                let handler = handlerBox.value
                let context = contextBox.value
                handler.finishRecord()
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
            finish(await Self.pump(next, handler: handlerBox, context: contextBox, chunked: chunked))
        } refused: {
            finish(true)
        }
    }

    /// Copies body chunks to the client, one write at a time. Returns `true` when either side failed.
    private static func pump(
        _ next: (@Sendable () async throws -> ByteBuffer?)?,
        handler: NIOLoopBound<ConnectionHandler>,
        context: NIOLoopBound<ChannelHandlerContext>,
        chunked: Bool
    ) async -> Bool {
        guard let next else { return false }
        let eventLoop = handler.eventLoop
        do {
            while let chunk = try await next() {
                try await eventLoop.flatSubmit { () -> EventLoopFuture<Void> in
                    guard !handler.value.connection.isClosing else { return eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel) }
                    handler.value.record.bytes += chunk.readableBytes
                    handler.value.idleTimer.touch(eventLoop.now)
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

/// Reads an external body from one offset to another (or to its end) for one client.
private final class BodyCursor: Sendable {
    private let body: any BodySource
    private let end: Int?
    private let offset: NIOLockedValueBox<Int>

    init(_ body: any BodySource, from first: Int, to end: Int?) {
        self.body = body
        self.end = end
        self.offset = NIOLockedValueBox(first)
    }

    /// The next piece, `nil` at the end.
    /// - Throws: When the body cannot be read, or ends before the length the head announced.
    func next() async throws -> ByteBuffer? {
        let offset = offset.withLockedValue { $0 }
        if let end, offset >= end { return nil }
        let piece = try await body.read(from: offset, maxLength: (end ?? Int.max) - offset)
        guard piece.readableBytes > 0 else {
            if end != nil { throw BodyCursorError.endedEarly }
            return nil
        }
        self.offset.withLockedValue { $0 += piece.readableBytes }
        return piece
    }
}

/// An external body shorter than its announced length.
private enum BodyCursorError: Error {
    case endedEarly
}
