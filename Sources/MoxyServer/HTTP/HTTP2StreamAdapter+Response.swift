// SPDX-License-Identifier: Apache-2.0

import NIOCore
import NIOHPACK
import NIOHTTP2

/// Reads the HTTP/1.1 response bytes a `ConnectionHandler` writes for one stream, however they
/// are split, and turns them into HTTP/2 frames: each head (interim ones too) into HEADERS, the
/// body (by `Content-Length`, chunked, or up to the close) into DATA, END_STREAM on the last.
struct ResponseParser {
    /// A HEAD request's answer has no body, whatever its `Content-Length` says.
    var isHeadRequest = false
    private var state = State.head
    private var pending = ByteBuffer()

    private enum State {
        case head
        case length(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkEnd
        case trailers
        case untilClose
        case done
    }

    /// The fields HTTP/2 does not carry (RFC 9113 §8.2.2).
    static let connectionFields: Set<String> = ["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"]

    /// The frames for these bytes (possibly none yet).
    mutating func feed(_ bytes: ByteBuffer) throws -> [HTTP2Frame.FramePayload] {
        pending.writeImmutableBuffer(bytes)
        var frames: [HTTP2Frame.FramePayload] = []
        while pending.readableBytes > 0 {
            switch state {
            case .done:
                pending.clear()
            case .head:
                guard let end = pending.readableBytesView.firstRange(of: [0x0D, 0x0A, 0x0D, 0x0A]) else { return frames }
                let length = end.upperBound - pending.readerIndex
                let head = pending.readSlice(length: length)!
                frames.append(try headers(head))
            case .length(let remaining):
                let slice = pending.readSlice(length: min(remaining, pending.readableBytes))!
                let left = remaining - slice.readableBytes
                state = left == 0 ? .done : .length(remaining: left)
                frames.append(.data(.init(data: .byteBuffer(slice), endStream: left == 0)))
            case .chunkSize:
                guard let line = readLine() else { return frames }
                let digits = line.prefix { $0 != ";" && $0 != " " }
                guard let size = Int(digits, radix: 16), size >= 0 else { throw HTTP2StreamAdapterError.malformedResponse }
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let slice = pending.readSlice(length: min(remaining, pending.readableBytes))!
                let left = remaining - slice.readableBytes
                state = left == 0 ? .chunkEnd : .chunkData(remaining: left)
                frames.append(.data(.init(data: .byteBuffer(slice), endStream: false)))
            case .chunkEnd:
                guard readLine() != nil else { return frames }
                state = .chunkSize
            case .trailers:
                guard let line = readLine() else { return frames }
                if line.isEmpty {
                    state = .done
                    frames.append(.data(.init(data: .byteBuffer(ByteBuffer()), endStream: true)))
                }
            case .untilClose:
                let slice = pending.readSlice(length: pending.readableBytes)!
                frames.append(.data(.init(data: .byteBuffer(slice), endStream: false)))
            }
        }
        pending.discardReadBytes()
        return frames
    }

    /// The frame that ends a body delimited by the close, if one is being sent.
    mutating func finishAtClose() -> HTTP2Frame.FramePayload? {
        guard case .untilClose = state else { return nil }
        state = .done
        return .data(.init(data: .byteBuffer(ByteBuffer()), endStream: true))
    }

    /// A line up to CRLF (consumed), or nil when it has not all arrived.
    private mutating func readLine() -> String? {
        guard let end = pending.readableBytesView.firstRange(of: [0x0D, 0x0A]) else { return nil }
        let length = end.lowerBound - pending.readerIndex
        let line = pending.readString(length: length) ?? ""
        pending.moveReaderIndex(forwardBy: 2)
        return line
    }

    /// HEADERS for one response head, and the body state it leads to.
    private mutating func headers(_ head: ByteBuffer) throws -> HTTP2Frame.FramePayload {
        let text = String(buffer: head)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: true)[...]
        guard let statusLine = lines.popFirst(), statusLine.hasPrefix("HTTP/1."),
            let status = Int(statusLine.dropFirst(9).prefix(3))
        else { throw HTTP2StreamAdapterError.malformedResponse }
        var fields = HPACKHeaders()
        fields.add(name: ":status", value: String(status))
        var chunked = false
        var length: Int? = nil
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { throw HTTP2StreamAdapterError.malformedResponse }
            let name = line[..<colon].lowercased()
            let value = String(line[line.index(after: colon)...].drop { $0 == " " })
            if name == "transfer-encoding" { chunked = value.lowercased().contains("chunked") }
            if name == "content-length" { length = Int(value) }
            guard !Self.connectionFields.contains(name) else { continue }
            fields.add(name: name, value: value)
        }
        if (100..<200).contains(status) {
            state = .head  // an interim answer: the final one follows
            return .headers(.init(headers: fields, endStream: false))
        }
        if isHeadRequest || status == 204 || status == 304 || length == 0 && !chunked {
            state = .done
            return .headers(.init(headers: fields, endStream: true))
        }
        if chunked {
            state = .chunkSize
        } else if let length {
            state = .length(remaining: length)
        } else {
            state = .untilClose
        }
        return .headers(.init(headers: fields, endStream: false))
    }
}
