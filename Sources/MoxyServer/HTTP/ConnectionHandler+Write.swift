// SPDX-License-Identifier: Apache-2.0

import AsyncHTTPClient
import MoxyCache
import NIOCore
import NIOHTTP1

extension ConnectionHandler {
    /// Writes a fresh hit for a plain request: the pre-encoded head, per-request fields, the body.
    func writeHit(_ stored: CachedResponse, _ framing: Framing, now: Int64, context: ChannelHandlerContext) {
        let response = Self.encoding(stored, framing.flags)
        let ttl = response.freshness.lifetime - response.age(at: now)
        // `Cache-Status: moxy; hit; ttl=N` is written without building a String (no allocation).
        writeParts(
            head: framing.lifetimeCap == nil ? response.head : response.headWithoutLifetime,
            age: response.age(at: now),
            maxAge: response.downstreamMaxAge,
            body: response.body,
            cacheStatus: "",
            hitTTL: ttl,
            framing,
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
        _ framing: Framing,
        now: Int64,
        context: ChannelHandlerContext
    ) {
        let response = Self.encoding(stored, framing.flags)
        switch StoredAnswer.decide(response, length: response.body.readableBytes, for: request) {
        case .whole:
            writeResponse(response, cacheStatus: cacheStatus, framing, now: now, context: context)
        case .notModified:
            writeNotModified(response, cacheStatus: cacheStatus, framing, now: now, context: context)
        case .partial(let first, let last, let length):
            let slice = response.body.getSlice(at: response.body.readerIndex + first, length: last - first + 1) ?? ByteBuffer()
            writeDynamic(
                status: 206, fields: Self.partialFields(response, first: first, last: last, length: length), body: slice,
                response: response, cacheStatus: cacheStatus, framing, now: now, context: context)
        case .unsatisfiable(let length):
            writeUnsatisfiable(response, length: length, cacheStatus: cacheStatus, framing, now: now, context: context)
        }
    }

    /// A `304` for a stored response: the fields a 200 would have carried that matter to caches (§15.4.5).
    func writeNotModified(_ response: CachedResponse, cacheStatus: String, _ framing: Framing, now: Int64, context: ChannelHandlerContext) {
        let kept: Set<String> = ["cache-control", "content-location", "date", "etag", "expires", "vary"]
        let head = response.fields.filter { kept.contains($0.name.lowercased()) }
        writeDynamic(status: 304, fields: head, body: nil, response: response, cacheStatus: cacheStatus, framing, now: now, context: context)
    }

    /// A `416` for a range outside a stored response's `length` bytes.
    func writeUnsatisfiable(
        _ response: CachedResponse, length: Int, cacheStatus: String, _ framing: Framing, now: Int64, context: ChannelHandlerContext
    ) {
        let head = response.fields.filter { $0.name.lowercased() != "content-type" } + [("Content-Range", "bytes */\(length)")]
        writeDynamic(
            status: 416, fields: head, body: ByteBuffer(), response: response, cacheStatus: cacheStatus, framing, now: now, context: context)
    }

    /// The fields of a `206` with bytes `first...last` of a stored response.
    static func partialFields(_ response: CachedResponse, first: Int, last: Int, length: Int) -> [(name: String, value: String)] {
        response.fields + [("Content-Range", "bytes \(first)-\(last)/\(length)")]
    }

    /// The form of a stored response a request gets: the smallest encoded form whose coding it
    /// accepts, when it asks for no range (ranges are of the identity form).
    @inline(__always)
    static func encoding(_ response: CachedResponse, _ flags: RequestFlags) -> CachedResponse {
        guard !response.encoded.isEmpty, !flags.isDisjoint(with: .codings), !flags.contains(.range) else { return response }
        for form in response.encoded where flags.accepts(form.coding) { return form }
        return response
    }

    /// Writes a response whose head is built for this request (304, 206, 416) from a stored one.
    /// - Parameter streamedLength: The length of a body the caller streams after the head
    ///   (`body` is then nil).
    func writeDynamic(
        status: Int,
        fields: [(name: String, value: String)],
        body: ByteBuffer?,
        streamedLength: Int? = nil,
        response: CachedResponse,
        cacheStatus: String,
        _ framing: Framing,
        now: Int64,
        context: ChannelHandlerContext
    ) {
        var fields = fields
        if framing.lifetimeCap != nil { fields.removeAll { ["cache-control", "expires"].contains($0.name.lowercased()) } }
        if let length = body?.readableBytes ?? streamedLength { fields.append(("Content-Length", String(length))) }
        let head = ResponseHead.encode(status: status, fields: fields, allocator: context.channel.allocator)
        writeParts(
            head: head, age: response.age(at: now), maxAge: response.downstreamMaxAge, body: body ?? ByteBuffer(),
            cacheStatus: cacheStatus, bodyFollows: streamedLength != nil, framing, now: now, context: context)
    }

    /// Writes a complete response: pre-encoded head, the per-request fields, the body (not for HEAD).
    func writeResponse(_ response: CachedResponse, cacheStatus: String, _ framing: Framing, now: Int64, context: ChannelHandlerContext) {
        writeParts(
            head: framing.lifetimeCap == nil ? response.head : response.headWithoutLifetime,
            age: response.freshness == .uncached ? nil : response.age(at: now),
            maxAge: response.downstreamMaxAge,
            body: response.body,
            cacheStatus: cacheStatus,
            framing,
            now: now,
            context: context
        )
    }

    /// The largest body written in the same buffer as its head.
    static let copiedBodyLimit = 4096

    /// Writes a head, the per-request fields and the body; with `bodyFollows` only the head (the
    /// caller streams the body, `chunked` when its length is unknown, and closes if it must).
    func writeParts(
        head: ByteBuffer,
        age: Int64?,
        maxAge: Int64,
        body: ByteBuffer,
        cacheStatus: String,
        hitTTL: Int64? = nil,
        bodyFollows: Bool = false,
        chunked: Bool = false,
        _ framing: Framing,
        now: Int64,
        context: ChannelHandlerContext
    ) {
        // The pre-encoded head and the per-request fields go out in one buffer, the body as the
        // cached buffer itself (never copied): two iovecs in one writev. A small body is copied
        // behind the head instead: a copy of a few KiB costs a few hundred instructions, a second
        // write through the pipeline about 1,500.
        let sentBody = framing.isHead || bodyFollows ? 0 : body.readableBytes
        let copied = sentBody > 0 && sentBody <= Self.copiedBodyLimit
        var buffer = context.channel.allocator.buffer(capacity: head.readableBytes + 192 + (copied ? sentBody : 0))
        buffer.writeImmutableBuffer(head)
        if let expires = framing.lifetimeCap {
            // No cache downstream may keep the response past the URL's expiry.
            let current = age ?? 0
            let remaining = max(0, min(maxAge - current, expires - now))
            buffer.writeStaticString("Cache-Control: public, max-age=")
            buffer.writeDecimal(remaining + current)
            buffer.writeStaticString("\r\n")
        }
        if let age {
            buffer.writeStaticString("Age: ")
            buffer.writeDecimal(age)
            buffer.writeStaticString("\r\n")
        }
        if chunked { buffer.writeStaticString("Transfer-Encoding: chunked\r\n") }
        writeCommonFields(into: &buffer, cacheStatus: cacheStatus, hitTTL: hitTTL, framing)
        buffer.writeStaticString("\r\n")
        if hitTTL != nil { record.result = .hit }
        recordHead(head, bytes: buffer.readableBytes + sentBody)
        if copied { buffer.writeImmutableBuffer(body) }
        context.write(wrapOutboundOut(buffer), promise: nil)
        if bodyFollows { return }
        if sentBody > 0 && !copied {
            context.write(wrapOutboundOut(body), promise: nil)
        }
        finishRecord()
        if !framing.keepAlive { closeAfterWrites(context: context) }
    }

    func writeCommonFields(
        into buffer: inout ByteBuffer,
        cacheStatus: String,
        hitTTL: Int64? = nil,
        _ framing: Framing
    ) {
        // A stored response carries its own Date (RFC 9110 §6.6.1); only Age is per request.
        if let hitTTL {
            buffer.writeStaticString("Cache-Status: moxy; hit; ttl=")
            buffer.writeDecimal(hitTTL)
        } else {
            buffer.writeStaticString("Cache-Status: ")
            buffer.writeString(cacheStatus)
        }
        buffer.writeStaticString("\r\n")
        if !framing.keepAlive {
            buffer.writeStaticString("Connection: close\r\n")
        } else if framing.minor == 0 {
            buffer.writeStaticString("Connection: keep-alive\r\n")
        }
    }

    func closeAfterWrites(context: ChannelHandlerContext) {
        markClosing()
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).assumeIsolated()
            .whenComplete { _ in context.close(promise: nil) }
    }
}
