// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
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
        /// The request is complete: its end (with any trailers) is the next part.
        case ending(HTTPHeaders?)
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

    /// The next request part the buffer holds, or nil while more bytes are needed. The connection
    /// calls it directly on each read (no decoding handler in the pipeline, no hop per part).
    /// - Throws: ``RequestDecodingError``; nothing more is decoded after one.
    public mutating func next(_ buffer: inout ByteBuffer) throws(RequestDecodingError) -> HTTPServerRequestPart? {
        while true {
            switch state {
            case .head(let scanned):
                guard let head = try decodeHead(&buffer, scanned: scanned) else { return nil }
                return .head(head)
            case .fixed(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let count = min(remaining, buffer.readableBytes)
                state = count == remaining ? .ending(nil) : .fixed(remaining: remaining - count)
                return .body(buffer.readSlice(length: count)!)
            case .chunkSize(let scanned):
                guard try decodeChunkSize(&buffer, scanned: scanned) else { return nil }
            case .chunkData(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let count = min(remaining, buffer.readableBytes)
                state = count == remaining ? .chunkEnd : .chunkData(remaining: remaining - count)
                return .body(buffer.readSlice(length: count)!)
            case .chunkEnd:
                guard buffer.readableBytes >= 2 else { return nil }
                guard buffer.readInteger(as: UInt16.self) == UInt16(RequestHeadParser.cr) << 8 | UInt16(RequestHeadParser.lf) else {
                    throw fail(RequestDecodingError(.badChunk, "chunk data is not followed by CRLF"))
                }
                state = .chunkSize(scanned: 0)
            case .trailers(let scanned):
                guard try decodeTrailers(&buffer, scanned: scanned) else { return nil }
            case .ending(let trailers):
                state = .head(scanned: 0)
                return .end(trailers)
            case .failed:
                buffer.moveReaderIndex(to: buffer.writerIndex)
                return nil
            }
        }
    }

    /// Decodes what the buffer holds (see `ByteToMessageDecoder`; for tests and tools that run
    /// the decoder in a pipeline of its own).
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let part = try next(&buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(part))
        return .continue
    }

    /// Decodes what is left when the input ends (see `ByteToMessageDecoder`).
    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A request cut short by the client's close is not completed: the handler fails its body on
        // channelInactive. Whole requests still in the buffer are decoded.
        try decode(context: context, buffer: &buffer)
    }

    /// The head, once it is all there (the state moves on to its body, or to its end).
    private mutating func decodeHead(_ buffer: inout ByteBuffer, scanned: Int) throws(RequestDecodingError) -> HTTPRequestHead? {
        // RFC 9112 §2.2: empty lines before a request line are ignored.
        while scanned == 0, buffer.readableBytes >= 2, buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == 0x0D0A {
            buffer.moveReaderIndex(forwardBy: 2)
        }
        guard buffer.readableBytes > 0 else { return nil }
        // A lone CR may be the start of one more empty line.
        if scanned == 0, buffer.readableBytes == 1, buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) == RequestHeadParser.cr {
            return nil
        }
        let limit = maxHeadBytes
        let found = try sectionEnd(buffer, scanned: scanned, bareLineFeed: "a line ends in LF without CR") {
            Self.hasLineEnd(buffer, within: limit)
                ? RequestDecodingError(.headTooLarge, "the request head exceeds \(limit) bytes")
                : RequestDecodingError(.targetTooLong, "the request line exceeds \(limit) bytes")
        }
        guard let end = found else {
            state = .head(scanned: buffer.readableBytes)
            return nil
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
        switch parsed.framing {
        case .none: state = .ending(nil)
        case .length(let length): state = .fixed(remaining: length)
        case .chunked: state = .chunkSize(scanned: 0)
        }
        return parsed.head
    }

    /// Reads a chunk-size line; false while more bytes are needed.
    private mutating func decodeChunkSize(_ buffer: inout ByteBuffer, scanned: Int) throws(RequestDecodingError) -> Bool {
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
            return false
        }
        let size = buffer.withUnsafeReadableBytes { ChunkLine.size(UnsafeRawBufferPointer(rebasing: $0[0..<lineEnd])) }
        guard let size else { throw fail(RequestDecodingError(.badChunk, "a chunk size is not hexadecimal or too large")) }
        buffer.moveReaderIndex(forwardBy: lineEnd + 2)
        state = size == 0 ? .trailers(scanned: 0) : .chunkData(remaining: size)
        return true
    }

    /// Reads the trailer section after the last chunk (the state moves on to the request's end);
    /// false while more bytes are needed.
    private mutating func decodeTrailers(_ buffer: inout ByteBuffer, scanned: Int) throws(RequestDecodingError) -> Bool {
        guard buffer.readableBytes >= 2 else { return false }
        if scanned == 0, buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == 0x0D0A {
            buffer.moveReaderIndex(forwardBy: 2)
            state = .ending(nil)
            return true
        }
        let limit = maxHeadBytes
        let found = try sectionEnd(buffer, scanned: scanned, bareLineFeed: "a trailer line ends in LF without CR") {
            RequestDecodingError(.headTooLarge, "the trailer section exceeds \(limit) bytes")
        }
        guard let end = found else {
            state = .trailers(scanned: buffer.readableBytes)
            return false
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
        state = .ending(HTTPHeaders(fields.list))
        return true
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
    ) throws(RequestDecodingError) -> Int? {
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
            guard let base = bytes.baseAddress else { return .needMore }
            var index = max(scanned, 1)
            // memchr (vectorized) finds each LF; a byte loop cost about 6 instructions a byte.
            while index < bytes.count, let found = memchr(base + index, Int32(lf), bytes.count - index) {
                index = base.distance(to: UnsafeRawPointer(found))
                guard bytes[index - 1] == cr else { return .bareLineFeed }
                if index >= 3, bytes[index - 2] == lf, bytes[index - 3] == cr { return .found(index + 1) }
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
