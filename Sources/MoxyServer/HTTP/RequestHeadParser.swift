// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOHTTP1

/// How the body of a request is delimited (RFC 9112 §6.3).
enum BodyFraming: Equatable {
    /// No body.
    case none
    /// `Content-Length` bytes.
    case length(Int)
    /// `Transfer-Encoding: chunked`.
    case chunked
}

/// Parses one complete request head (request line, field lines and the empty line) strictly by
/// RFC 9112, so that no two readers can disagree on where a request ends: any method token is
/// accepted, but lines end in CRLF only, field names are tokens directly followed by `:`, values
/// hold no control characters, obsolete line folding is refused, `Content-Length` must be one
/// decimal number and cannot be combined with `Transfer-Encoding`, whose codings must be exactly
/// `chunked`, and an HTTP/1.1 request has exactly one `Host`.
///
/// A pure function of the bytes: ``RequestDecoder`` finds the head's end and keeps the state
/// between heads and bodies.
enum RequestHeadParser {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let sp = UInt8(ascii: " ")
    static let htab = UInt8(ascii: "\t")

    /// A parsed head and how its body is framed.
    struct Parsed {
        var head: HTTPRequestHead
        var framing: BodyFraming
    }

    /// Parses `bytes`, which must end with the empty line (`CRLF CRLF`).
    /// - Throws: ``RequestDecodingError`` for anything RFC 9112 does not allow.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(RequestDecodingError) -> Parsed {
        let lineEnd = lineEnd(bytes, from: 0)
        // Method: a token, then one space.
        var index = 0
        while index < lineEnd, isTokenChar(bytes[index]) { index += 1 }
        guard index > 0 else { throw RequestDecodingError(.badRequestLine, "the request line does not start with a method") }
        guard index < lineEnd, bytes[index] == sp else {
            throw RequestDecodingError(.badMethod, "the method is not a token followed by one space")
        }
        let method = method(UnsafeRawBufferPointer(rebasing: bytes[0..<index]))
        index += 1
        // Target: visible ASCII (non-ASCII must be percent-encoded, RFC 3986), then one space.
        let targetStart = index
        index = visibleRunEnd(bytes, from: index, to: lineEnd)
        guard index > targetStart, index < lineEnd, bytes[index] == sp else {
            throw RequestDecodingError(.badTarget, "the request target is empty or holds a byte that is not visible ASCII")
        }
        guard isTargetForm(UnsafeRawBufferPointer(rebasing: bytes[targetStart..<index]), connect: method == .CONNECT) else {
            throw RequestDecodingError(.badTarget, "the request target is not a path, an absolute URL, '*' or host:port")
        }
        let uri = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[targetStart..<index]), as: UTF8.self)
        index += 1
        let version = try version(UnsafeRawBufferPointer(rebasing: bytes[index..<lineEnd]))

        var fields = Fields()
        try parseFields(bytes, from: lineEnd + 2, into: &fields)
        let framing = try framing(fields, version: version)
        if version.minor >= 1, fields.hosts == 0 {
            throw RequestDecodingError(.missingHost, "a request of HTTP version 1.1 needs a Host field")
        }
        if fields.hosts > 1 { throw RequestDecodingError(.duplicateHost, "more than one Host field") }
        let head = HTTPRequestHead(version: version, method: method, uri: uri, headers: HTTPHeaders(fields.list))
        return Parsed(head: head, framing: framing)
    }

    /// The field lines read from a head or a trailer section, and what framing needs to know of them.
    struct Fields {
        var list: [(String, String)] = []
        var hosts = 0
        var contentLength: [UnsafeRawBufferPointer.SubSequence] = []
        var transferEncoding: [UnsafeRawBufferPointer.SubSequence] = []

        init() { list.reserveCapacity(16) }
    }

    /// Reads field lines from `start` up to and including the empty line that ends `bytes`.
    static func parseFields(_ bytes: UnsafeRawBufferPointer, from start: Int, into fields: inout Fields) throws(RequestDecodingError) {
        var index = start
        while true {
            let end = lineEnd(bytes, from: index)
            if end == index { return }
            let first = bytes[index]
            if first == sp || first == htab {
                throw RequestDecodingError(.obsoleteLineFolding, "a field line starts with whitespace (obsolete line folding)")
            }
            var colon = index
            while colon < end, isTokenChar(bytes[colon]) { colon += 1 }
            guard colon > index, colon < end, bytes[colon] == UInt8(ascii: ":") else {
                throw RequestDecodingError(.badField, "a field name is not a token directly followed by ':'")
            }
            var valueStart = colon + 1
            while valueStart < end, bytes[valueStart] == sp || bytes[valueStart] == htab { valueStart += 1 }
            var valueEnd = end
            while valueEnd > valueStart, bytes[valueEnd - 1] == sp || bytes[valueEnd - 1] == htab { valueEnd -= 1 }
            for position in valueStart..<valueEnd {
                let byte = bytes[position]
                guard byte >= sp || byte == htab, byte != 0x7F else {
                    throw RequestDecodingError(.badField, "a field value holds a control character")
                }
            }
            let name = bytes[index..<colon]
            let value = bytes[valueStart..<valueEnd]
            switch name.count {
            case 4 where equalsLowercase(name, "host"): fields.hosts += 1
            case 14 where equalsLowercase(name, "content-length"): fields.contentLength.append(value)
            case 17 where equalsLowercase(name, "transfer-encoding"): fields.transferEncoding.append(value)
            default: break
            }
            fields.list.append(
                (String(decoding: UnsafeRawBufferPointer(rebasing: name), as: UTF8.self),
                 String(decoding: UnsafeRawBufferPointer(rebasing: value), as: UTF8.self)))
            index = end + 2
        }
    }

    /// The index of the CR of the line starting at `start` (the decoder has checked every LF follows a CR).
    static func lineEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        // memchr (vectorized) finds each CR; a byte loop cost about 5 instructions a byte.
        let base = bytes.baseAddress!
        var index = start
        while let found = memchr(base + index, Int32(cr), bytes.count - index) {
            index = base.distance(to: UnsafeRawPointer(found))
            if index + 1 < bytes.count, bytes[index + 1] == lf { return index }
            index += 1
        }
        return bytes.count
    }

    /// The end of the run of visible ASCII (0x21...0x7E) starting at `start`, before `end`: eight
    /// bytes at a time (a request target of a signed URL is about 90 bytes).
    static func visibleRunEnd(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int {
        var index = start
        while index + 8 <= end {
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            // A byte below 0x21, or at or above 0x7F, sets its high bit in one of the two tests.
            let below = (word &- 0x2121_2121_2121_2121) & ~word
            let above = (word &+ 0x0101_0101_0101_0101) | word
            if (below | above) & 0x8080_8080_8080_8080 != 0 { break }
            index += 8
        }
        while index < end, bytes[index] > sp, bytes[index] < 0x7F { index += 1 }
        return index
    }

    /// `HTTP/1.x`; other major versions are refused with 505.
    static func version(_ bytes: UnsafeRawBufferPointer) throws(RequestDecodingError) -> HTTPVersion {
        // HTTP-name is case-sensitive (RFC 9112 §2.3).
        guard bytes.count == 8, bytes[0] == UInt8(ascii: "H"), bytes[1] == UInt8(ascii: "T"), bytes[2] == UInt8(ascii: "T"),
            bytes[3] == UInt8(ascii: "P"), bytes[4] == UInt8(ascii: "/"), isDigit(bytes[5]), bytes[6] == UInt8(ascii: "."),
            isDigit(bytes[7])
        else { throw RequestDecodingError(.badRequestLine, "the request line does not end in HTTP/d.d") }
        guard bytes[5] == UInt8(ascii: "1") else {
            throw RequestDecodingError(.unsupportedVersion, "only HTTP versions 1.0 and 1.1 are served here")
        }
        // RFC 9110 §2.5: a higher minor version is processed as the highest one implemented.
        return bytes[7] == UInt8(ascii: "0") ? .http1_0 : .http1_1
    }

    /// Whether `target` has one of the four forms of RFC 9112 §3.2: origin (`/path`), absolute
    /// (`scheme://…`), asterisk (`*`), or for CONNECT only, authority (`host:port`).
    static func isTargetForm(_ target: UnsafeRawBufferPointer, connect: Bool) -> Bool {
        if connect { return !target.contains(UInt8(ascii: "/")) && target.contains(UInt8(ascii: ":")) }
        if target[0] == UInt8(ascii: "/") { return true }
        if target.count == 1 { return target[0] == UInt8(ascii: "*") }
        // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://".
        guard (target[0] | 0x20) >= UInt8(ascii: "a"), (target[0] | 0x20) <= UInt8(ascii: "z") else { return false }
        var index = 1
        while index < target.count {
            let byte = target[index]
            let lower = byte | 0x20
            if (lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "z")) || isDigit(byte) || byte == UInt8(ascii: "+")
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
            {
                index += 1
                continue
            }
            break
        }
        guard target.count >= index + 4, target[index] == UInt8(ascii: ":"), target[index + 1] == UInt8(ascii: "/"),
            target[index + 2] == UInt8(ascii: "/")
        else { return false }
        // The authority: RFC 3986 userinfo, host and port characters, up to the path, query or fragment.
        for byte in target[(index + 3)...] {
            switch byte {
            case UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: "#"): return true
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): continue
            case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "%"), UInt8(ascii: ":"),
                UInt8(ascii: "@"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"),
                UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","),
                UInt8(ascii: ";"), UInt8(ascii: "="):
                continue
            default: return false
            }
        }
        return true
    }

    /// The body framing the fields declare (RFC 9112 §6.1–§6.3).
    static func framing(_ fields: Fields, version: HTTPVersion) throws(RequestDecodingError) -> BodyFraming {
        if !fields.transferEncoding.isEmpty {
            guard fields.contentLength.isEmpty else {
                throw RequestDecodingError(.badTransferEncoding, "both Content-Length and Transfer-Encoding")
            }
            guard version.minor >= 1 else {
                throw RequestDecodingError(.badTransferEncoding, "Transfer-Encoding in an HTTP/1.0 request")
            }
            var codings: [Substring] = []
            for value in fields.transferEncoding {
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: value), as: UTF8.self)
                for coding in text.split(separator: ",") {
                    let trimmed = coding.trimmingWhitespace
                    if !trimmed.isEmpty { codings.append(trimmed) }
                }
            }
            guard let last = codings.last, last.lowercased() == "chunked" else {
                throw RequestDecodingError(.badTransferEncoding, "the last transfer coding is not chunked")
            }
            guard codings.count == 1 else {
                throw RequestDecodingError(.unsupportedTransferCoding, "only the chunked transfer coding is supported")
            }
            return .chunked
        }
        guard let value = fields.contentLength.first else { return .none }
        guard fields.contentLength.count == 1, !value.isEmpty, value.count <= 18, value.allSatisfy(isDigit) else {
            throw RequestDecodingError(.badContentLength, "Content-Length is not one decimal number")
        }
        let length = value.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        return length == 0 ? .none : .length(length)
    }

    /// The method; GET and HEAD without building a string. `M-SEARCH` and other tokens NIO has no
    /// case for stay `.RAW` and go upstream as written.
    static func method(_ bytes: UnsafeRawBufferPointer) -> HTTPMethod {
        if bytes.count == 3, bytes[0] == UInt8(ascii: "G"), bytes[1] == UInt8(ascii: "E"), bytes[2] == UInt8(ascii: "T") {
            return .GET
        }
        if bytes.count == 4, bytes[0] == UInt8(ascii: "H"), bytes[1] == UInt8(ascii: "E"), bytes[2] == UInt8(ascii: "A"),
            bytes[3] == UInt8(ascii: "D")
        {
            return .HEAD
        }
        return HTTPMethod(rawValue: String(decoding: bytes, as: UTF8.self))
    }

    /// tchar (RFC 9110 §5.6.2).
    @inline(__always)
    static func isTokenChar(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// Whether `bytes`, ASCII-lowercased, equal `lowercase`.
    static func equalsLowercase(_ bytes: UnsafeRawBufferPointer.SubSequence, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        let expected = UnsafeRawBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        var offset = 0
        for byte in bytes {
            let folded = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            if folded != expected[offset] { return false }
            offset += 1
        }
        return true
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    fileprivate var trimmingWhitespace: Substring {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isBlank($0) }), let last = lastIndex(where: { !isBlank($0) }) else { return "" }
        return self[first...last]
    }
}
