// SPDX-License-Identifier: Apache-2.0

import NIOCore
import NIOHTTP1

/// Moxy's HTTP/1.1 request decoder: bytes in, `HTTPServerRequestPart`s out, for any method token.
///
/// NIO's `HTTPRequestDecoder` (llhttp) knows a fixed table of methods and answers any other token
/// with an error, while RFC 9110 §9 lets a request carry any token and a proxy forward it. This
/// decoder frames requests itself, as strictly as llhttp's strict mode or stricter (see
/// ``RequestHeadParser``): CRLF only, no obsolete folding, one `Content-Length` or exactly
/// `Transfer-Encoding: chunked`, never both, chunk sizes and extensions checked, the head bounded.
/// Every refusal is a ``RequestDecodingError``, after which nothing more is decoded: the bytes that
/// follow a malformed request cannot be trusted to start a new one.
public struct RequestDecoder: ByteToMessageDecoder {
    /// Request heads, body slices and ends.
    public typealias InboundOut = HTTPServerRequestPart

    /// Where in the stream of requests the decoder is.
    enum State {
        /// Before a request head; `scanned` bytes have already been searched for its end.
        case head(scanned: Int)
        /// Inside a body of known length.
        case fixed(remaining: Int)
        /// Before a chunk-size line; `scanned` as for a head.
        case chunkSize(scanned: Int)
        /// Inside a chunk's data.
        case chunkData(remaining: Int)
        /// After a chunk's data, before its CRLF.
        case chunkEnd
        /// After the last chunk, in the trailer section.
        case trailers(scanned: Int)
        /// A request was malformed; everything after it is dropped.
        case failed
    }

    /// The longest head accepted (request line and fields), past which the client gets 414 or 431.
    public let maxHeadBytes: Int
    /// The longest chunk-size line (size and extensions).
    let maxChunkLineBytes = 4096
    private(set) var state = State.head(scanned: 0)

    /// Creates a decoder.
    /// - Parameter maxHeadBytes: The bound on a request head (and a trailer section).
    public init(maxHeadBytes: Int = 80 << 10) {
        self.maxHeadBytes = maxHeadBytes
    }

    /// Decodes what the buffer holds (see `ByteToMessageDecoder`).
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        switch state {
        case .head(let scanned):
            return try decodeHead(context: context, buffer: &buffer, scanned: scanned)
        case .fixed(let remaining):
            guard buffer.readableBytes > 0 else { return .needMoreData }
            let count = min(remaining, buffer.readableBytes)
            context.fireChannelRead(wrapInboundOut(.body(buffer.readSlice(length: count)!)))
            if count == remaining {
                finishMessage(context: context, trailers: nil)
            } else {
                state = .fixed(remaining: remaining - count)
            }
            return .continue
        case .chunkSize(let scanned):
            return try decodeChunkSize(buffer: &buffer, scanned: scanned)
        case .chunkData(let remaining):
            guard buffer.readableBytes > 0 else { return .needMoreData }
            let count = min(remaining, buffer.readableBytes)
            context.fireChannelRead(wrapInboundOut(.body(buffer.readSlice(length: count)!)))
            state = count == remaining ? .chunkEnd : .chunkData(remaining: remaining - count)
            return .continue
        case .chunkEnd:
            guard buffer.readableBytes >= 2 else { return .needMoreData }
            guard buffer.readInteger(as: UInt16.self) == UInt16(RequestHeadParser.cr) << 8 | UInt16(RequestHeadParser.lf) else {
                throw fail(RequestDecodingError(.badChunk, "chunk data is not followed by CRLF"))
            }
            state = .chunkSize(scanned: 0)
            return .continue
        case .trailers(let scanned):
            return try decodeTrailers(context: context, buffer: &buffer, scanned: scanned)
        case .failed:
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
    }

    /// Decodes what is left when the input ends (see `ByteToMessageDecoder`).
    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A request cut short by the client's close is not completed: the handler fails its body on
        // channelInactive. Whole requests still in the buffer are decoded (and answered if possible).
        try decode(context: context, buffer: &buffer)
    }

    private mutating func decodeHead(context: ChannelHandlerContext, buffer: inout ByteBuffer, scanned: Int) throws -> DecodingState {
        // RFC 9112 §2.2: empty lines before a request line are ignored.
        while scanned == 0, buffer.readableBytes >= 2, buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == 0x0D0A {
            buffer.moveReaderIndex(forwardBy: 2)
        }
        guard buffer.readableBytes > 0 else { return .needMoreData }
        // A lone CR may be the start of one more empty line.
        if scanned == 0, buffer.readableBytes == 1, buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) == RequestHeadParser.cr {
            return .needMoreData
        }
        let limit = maxHeadBytes
        let found = try sectionEnd(buffer, scanned: scanned, bareLineFeed: "a line ends in LF without CR") {
            Self.hasLineEnd(buffer, within: limit)
                ? RequestDecodingError(.headTooLarge, "the request head exceeds \(limit) bytes")
                : RequestDecodingError(.targetTooLong, "the request line exceeds \(limit) bytes")
        }
        guard let end = found else {
            state = .head(scanned: buffer.readableBytes)
            return .needMoreData
        }
        let parsed: RequestHeadParser.Parsed
        do {
            parsed = try buffer.withUnsafeReadableBytes { bytes throws(RequestDecodingError) in
                try RequestHeadParser.parse(UnsafeRawBufferPointer(rebasing: bytes[0..<end]))
            }
        } catch {
            throw fail(error)
        }
        buffer.moveReaderIndex(forwardBy: end)
        context.fireChannelRead(wrapInboundOut(.head(parsed.head)))
        switch parsed.framing {
        case .none: finishMessage(context: context, trailers: nil)
        case .length(let length): state = .fixed(remaining: length)
        case .chunked: state = .chunkSize(scanned: 0)
        }
        return .continue
    }

    private mutating func decodeChunkSize(buffer: inout ByteBuffer, scanned: Int) throws -> DecodingState {
        let lineEnd: Int?
        do {
            lineEnd = try findLineEnd(buffer, scanned: scanned)
        } catch {
            throw fail(error)
        }
        guard let lineEnd else {
            guard buffer.readableBytes <= maxChunkLineBytes else {
                throw fail(RequestDecodingError(.badChunk, "a chunk-size line exceeds \(maxChunkLineBytes) bytes"))
            }
            state = .chunkSize(scanned: buffer.readableBytes)
            return .needMoreData
        }
        let size = buffer.withUnsafeReadableBytes { ChunkLine.size(UnsafeRawBufferPointer(rebasing: $0[0..<lineEnd])) }
        guard let size else { throw fail(RequestDecodingError(.badChunk, "a chunk size is not hexadecimal or too large")) }
        buffer.moveReaderIndex(forwardBy: lineEnd + 2)
        state = size == 0 ? .trailers(scanned: 0) : .chunkData(remaining: size)
        return .continue
    }

    private mutating func decodeTrailers(context: ChannelHandlerContext, buffer: inout ByteBuffer, scanned: Int) throws -> DecodingState {
        guard buffer.readableBytes >= 2 else { return .needMoreData }
        if scanned == 0, buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == 0x0D0A {
            buffer.moveReaderIndex(forwardBy: 2)
            finishMessage(context: context, trailers: nil)
            return .continue
        }
        let limit = maxHeadBytes
        let found = try sectionEnd(buffer, scanned: scanned, bareLineFeed: "a trailer line ends in LF without CR") {
            RequestDecodingError(.headTooLarge, "the trailer section exceeds \(limit) bytes")
        }
        guard let end = found else {
            state = .trailers(scanned: buffer.readableBytes)
            return .needMoreData
        }
        var fields = RequestHeadParser.Fields()
        do {
            try buffer.withUnsafeReadableBytes { bytes throws(RequestDecodingError) in
                try RequestHeadParser.parseFields(UnsafeRawBufferPointer(rebasing: bytes[0..<end]), from: 0, into: &fields)
            }
        } catch {
            throw fail(error)
        }
        buffer.moveReaderIndex(forwardBy: end)
        finishMessage(context: context, trailers: HTTPHeaders(fields.list))
        return .continue
    }

    private mutating func finishMessage(context: ChannelHandlerContext, trailers: HTTPHeaders?) {
        state = .head(scanned: 0)
        context.fireChannelRead(wrapInboundOut(.end(trailers)))
    }

    /// Records the failure so that nothing after it is decoded, and returns the error to throw.
    private mutating func fail(_ error: RequestDecodingError) -> RequestDecodingError {
        state = .failed
        return error
    }

    /// The offset just past the empty line ending a head or trailer section, or nil while more
    /// bytes are needed; past ``maxHeadBytes`` it fails with `tooLarge`.
    private mutating func sectionEnd(
        _ buffer: ByteBuffer, scanned: Int, bareLineFeed: String, tooLarge: () -> RequestDecodingError
    ) throws -> Int? {
        switch Self.findEmptyLine(buffer, scanned: scanned) {
        case .found(let end) where end <= maxHeadBytes: return end
        case .needMore where buffer.readableBytes <= maxHeadBytes: return nil
        case .found, .needMore: throw fail(tooLarge())
        case .bareLineFeed: throw fail(RequestDecodingError(.bareLineFeed, bareLineFeed))
        }
    }

    /// What a search for the end of a head found.
    enum Search: Equatable {
        /// The offset just past the first `CRLF CRLF`.
        case found(Int)
        /// No end yet.
        case needMore
        /// An LF without a CR before it (RFC 9112 §2.2: Moxy does not accept a bare LF as a line end).
        case bareLineFeed
    }

    /// Searches the readable bytes for the empty line that ends a head, from `scanned` on (the
    /// bytes before were searched by an earlier call), so a head arriving slowly is scanned once.
    static func findEmptyLine(_ buffer: ByteBuffer, scanned: Int) -> Search {
        buffer.withUnsafeReadableBytes { bytes in
            let lf = RequestHeadParser.lf
            let cr = RequestHeadParser.cr
            if scanned == 0, bytes.first == lf { return .bareLineFeed }
            var index = max(scanned, 1)
            while index < bytes.count {
                if bytes[index] == lf {
                    guard bytes[index - 1] == cr else { return .bareLineFeed }
                    if index >= 3, bytes[index - 2] == lf, bytes[index - 3] == cr { return .found(index + 1) }
                }
                index += 1
            }
            return .needMore
        }
    }

    /// Whether the first `limit` readable bytes hold a line end (the request line fits the bound).
    private static func hasLineEnd(_ buffer: ByteBuffer, within limit: Int) -> Bool {
        buffer.withUnsafeReadableBytes { $0.prefix(limit).contains(RequestHeadParser.lf) }
    }

    /// The offset of the CR of the first CRLF, or nil when more bytes are needed.
    private func findLineEnd(_ buffer: ByteBuffer, scanned: Int) throws(RequestDecodingError) -> Int? {
        let found = buffer.withUnsafeReadableBytes { bytes -> (end: Int?, bare: Bool) in
            var index = scanned
            while index < bytes.count {
                if bytes[index] == RequestHeadParser.lf {
                    guard index > 0, bytes[index - 1] == RequestHeadParser.cr else { return (nil, true) }
                    return (index - 1, false)
                }
                index += 1
            }
            return (nil, false)
        }
        if found.bare { throw RequestDecodingError(.bareLineFeed, "a chunk-size line ends in LF without CR") }
        return found.end
    }
}
