// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import NIOCore
import NIOHTTP1

/// Writes access log lines as bytes, in logfmt or JSON, without building a `String` per field:
/// the log's writer formats thousands of lines a second, off the event loops but on the same
/// cores. The date's text is made once per second.
struct AccessLogFormatter {
    let configuration: AccessLogConfiguration
    private var second: Int64 = .min
    private var datePrefix: [UInt8] = []

    init(configuration: AccessLogConfiguration) {
        self.configuration = configuration
    }

    /// Appends the line of a finished request (with its newline), straight from its record: no
    /// copy of its texts.
    /// - Parameters:
    ///   - cache: What the cache did.
    ///   - client: The client's address.
    ///   - nanoseconds: How long the answer took.
    ///   - timeMilliseconds: When it finished (Unix milliseconds).
    mutating func append(
        _ record: borrowing RequestRecord, cache: CacheResult, client: AccessLogClient?, nanoseconds: Int64, timeMilliseconds: Int64,
        to out: inout ByteBuffer
    ) {
        // Every byte goes straight into the buffer's memory, reserved for the whole line (a bound:
        // text fields escaped at six bytes per byte at most), with no check per byte: appending to
        // an array byte by byte checked its capacity and uniqueness each time (5,200 instructions
        // per line), and a scratch line copied into it afterwards cost a copy per line.
        let other: Int
        switch record.method {
        case .GET, .HEAD: other = 0
        default: other = record.method.rawValue.utf8.count
        }
        let texts = record.uri.utf8.count + (record.target?.utf8.count ?? 0) + other
        let bound = 320 + 6 * texts + (client?.json.count ?? 0) + record.logFields.json.count
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { raw in
            var cursor = Cursor(raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
            write(record, cache: cache, client: client, nanoseconds: nanoseconds, timeMilliseconds: timeMilliseconds, to: &cursor)
            return cursor.count
        }
    }

    /// Bytes written to reserved memory without a check each (the caller reserved enough).
    struct Cursor {
        let base: UnsafeMutablePointer<UInt8>
        var count = 0

        init(_ base: UnsafeMutablePointer<UInt8>) {
            self.base = base
        }

        @inline(__always)
        mutating func put(_ byte: UInt8) {
            base[count] = byte
            count += 1
        }

        @inline(__always)
        mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
            guard let start = bytes.baseAddress else { return }
            let length = bytes.count
            let from = UnsafeRawPointer(start)
            let to = UnsafeMutableRawPointer(base + count)
            // Names and short values (most fields): two overlapping unaligned word copies cost
            // less than a call to memcpy or a loop over the bytes.
            if length >= 8, length <= 16 {
                to.storeBytes(of: from.loadUnaligned(as: UInt64.self), as: UInt64.self)
                to.storeBytes(of: from.loadUnaligned(fromByteOffset: length - 8, as: UInt64.self), toByteOffset: length - 8, as: UInt64.self)
            } else if length >= 4, length < 8 {
                to.storeBytes(of: from.loadUnaligned(as: UInt32.self), as: UInt32.self)
                to.storeBytes(of: from.loadUnaligned(fromByteOffset: length - 4, as: UInt32.self), toByteOffset: length - 4, as: UInt32.self)
            } else if length < 4 {
                for index in 0..<length { base[count + index] = start[index] }
            } else {
                (base + count).update(from: start, count: length)
            }
            count += length
        }

        @inline(__always)
        mutating func put(_ bytes: [UInt8]) {
            bytes.withUnsafeBufferPointer { put($0) }
        }

        @inline(__always)
        mutating func put(_ text: StaticString) {
            text.withUTF8Buffer { put($0) }
        }
    }

    private mutating func write(
        _ line: borrowing RequestRecord, cache: CacheResult, client: AccessLogClient?, nanoseconds: Int64, timeMilliseconds: Int64,
        to out: inout Cursor
    ) {
        let json = configuration.format == .json
        // Each field's lead-in (`{"time":`, `,"method":`, ` method=`) is one pre-encoded string.
        func name(_ lead: (logfmt: StaticString, json: StaticString)) {
            out.put(json ? lead.json : lead.logfmt)
        }
        func text(_ field: (logfmt: StaticString, json: StaticString), _ value: String) {
            name(field)
            var value = value
            value.withUTF8 { Self.appendText(bytes: $0, json: json, to: &out) }
        }
        func text(_ field: (logfmt: StaticString, json: StaticString), _ value: UnsafeBufferPointer<UInt8>) {
            name(field)
            Self.appendText(bytes: value, json: json, to: &out)
        }
        func number(_ field: (logfmt: StaticString, json: StaticString), _ value: Int) {
            name(field)
            Self.appendNumber(value, to: &out)
        }
        func milliseconds(_ field: (logfmt: StaticString, json: StaticString), _ nanoseconds: Int64) {
            name(field)
            let tenths = Int(nanoseconds / 100_000)
            Self.appendNumber(tenths / 10, to: &out)
            out.put(UInt8(ascii: "."))
            out.put(UInt8(ascii: "0") + UInt8(tenths % 10))
        }
        name(("time=", "{\"time\":"))
        if json { out.put(UInt8(ascii: "\"")) }
        appendTime(timeMilliseconds, to: &out)
        if json { out.put(UInt8(ascii: "\"")) }
        if let client { out.put(json ? client.json : client.logfmt) }
        switch line.method {
        case .GET: name((" method=GET", ",\"method\":\"GET\""))
        case .HEAD: name((" method=HEAD", ",\"method\":\"HEAD\""))
        default: text((" method=", ",\"method\":"), line.method.rawValue)
        }
        out.put(json ? line.logFields.json : line.logFields.logfmt)
        if !line.logFields.hasHost, var target = line.target {
            target.withUTF8 { bytes in
                if let (start, end) = Self.hostOffsets(bytes) { text((" host=", ",\"host\":"), UnsafeBufferPointer(rebasing: bytes[start..<end])) }
            }
        }
        // The path's bytes as they lie, without making a `Substring`.
        var uri = line.uri
        let mode = line.mode
        let full = configuration.fullURLs
        uri.withUTF8 { bytes in
            if let length = AccessLog.loggedTargetLength(bytes, mode: mode, full: full) {
                text((" path=", ",\"path\":"), UnsafeBufferPointer(rebasing: bytes[..<length]))
            }
        }
        number((" status=", ",\"status\":"), line.status)
        number((" bytes=", ",\"bytes\":"), line.bytes)
        name(Self.cacheField(cache))
        let upstream = line.trace?.value
        if let status = upstream?.status { number((" upstream_status=", ",\"upstream_status\":"), status) }
        if let nanoseconds = upstream?.nanoseconds { milliseconds((" upstream_ms=", ",\"upstream_ms\":"), nanoseconds) }
        milliseconds((" duration_ms=", ",\"duration_ms\":"), nanoseconds)
        if json { out.put(UInt8(ascii: "}")) }
        out.put(UInt8(ascii: "\n"))
    }

    /// The ` cache=…` field of a cache result in both formats: static text, no array to retain.
    @inline(__always)
    static func cacheField(_ cache: CacheResult) -> (logfmt: StaticString, json: StaticString) {
        switch cache {
        case .hit: (" cache=hit", ",\"cache\":\"hit\"")
        case .stale: (" cache=stale", ",\"cache\":\"stale\"")
        case .miss: (" cache=miss", ",\"cache\":\"miss\"")
        case .revalidated: (" cache=revalidated", ",\"cache\":\"revalidated\"")
        case .bypass: (" cache=bypass", ",\"cache\":\"bypass\"")
        case .none: (" cache=none", ",\"cache\":\"none\"")
        }
    }

    /// `2026-12-01T14:54:49.844Z`, the part up to the seconds made once per second.
    private mutating func appendTime(_ milliseconds: Int64, to out: inout Cursor) {
        let second = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        if second != self.second {
            self.second = second
            datePrefix = Array(HTTPDate.formatISO8601(milliseconds: second * 1000).utf8.dropLast(4))
        }
        out.put(datePrefix)
        let millis = Int(milliseconds - second * 1000)
        out.put(UInt8(ascii: "0") + UInt8(millis / 100))
        out.put(UInt8(ascii: "0") + UInt8(millis / 10 % 10))
        out.put(UInt8(ascii: "0") + UInt8(millis % 10))
        out.put(UInt8(ascii: "Z"))
    }

    static func appendNumber(_ value: Int, to out: inout Cursor) {
        if value < 0 { out.put(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        // Count the digits, then write them from the last one back, in place.
        var digits = 1
        var rest = magnitude
        while rest >= 10 {
            rest /= 10
            digits &+= 1
        }
        var index = out.count &+ digits
        repeat {
            index &-= 1
            out.base[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
        out.count &+= digits
    }

    /// A value as logfmt writes it (bare when it has no space, quote, `=` or control byte; else
    /// quoted as JSON), or as a JSON string.
    static func appendText(_ value: String, json: Bool, to out: inout [UInt8]) {
        var value = value
        value.withUTF8 { bytes in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 + 6 * bytes.count) { scratch in
                var cursor = Cursor(scratch.baseAddress!)
                appendText(bytes: bytes, json: json, to: &cursor)
                out.append(contentsOf: UnsafeBufferPointer(start: scratch.baseAddress, count: cursor.count))
            }
        }
    }

    private static func appendText(bytes: UnsafeBufferPointer<UInt8>, json: Bool, to out: inout Cursor) {
        var bare = !json && !bytes.isEmpty
        if bare {
            for byte in bytes where byte <= 0x20 || byte >= 0x7f || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "=") || byte == UInt8(ascii: "\\") {
                bare = false
                break
            }
        }
        if bare { return out.put(bytes) }
        out.put(UInt8(ascii: "\""))
        for byte in bytes {
            let escaped: UInt8
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): escaped = byte
            case UInt8(ascii: "\n"): escaped = UInt8(ascii: "n")
            case UInt8(ascii: "\r"): escaped = UInt8(ascii: "r")
            case UInt8(ascii: "\t"): escaped = UInt8(ascii: "t")
            case 0..<0x20, 0x7f:
                let hex: StaticString = "0123456789abcdef"
                out.put("\\u00")
                hex.withUTF8Buffer { digits in
                    out.put(digits[Int(byte >> 4)])
                    out.put(digits[Int(byte & 0x0F)])
                }
                continue
            default:
                out.put(byte)
                continue
            }
            out.put(UInt8(ascii: "\\"))
            out.put(escaped)
        }
        out.put(UInt8(ascii: "\""))
    }

    /// The host of an absolute URL (`scheme://[userinfo@]host[:port]/…`, IPv6 in brackets) without
    /// parsing the rest; nil when it is not one. A byte scan: `firstRange(of:)` cost ~27,000
    /// instructions per line (callgrind).
    static func host(ofURL url: String) -> Substring? {
        var url = url
        guard let (start, end) = url.withUTF8({ hostOffsets($0) }) else { return nil }
        let utf8 = url.utf8
        return Substring(utf8[utf8.index(utf8.startIndex, offsetBy: start)..<utf8.index(utf8.startIndex, offsetBy: end)])
    }

    /// Where the host is in a URL's bytes.
    private static func hostOffsets(_ bytes: UnsafeBufferPointer<UInt8>) -> (Int, Int)? {
        var index = 0
        while index < bytes.count, bytes[index] != UInt8(ascii: ":") { index += 1 }
        guard index + 2 < bytes.count, bytes[index + 1] == UInt8(ascii: "/"), bytes[index + 2] == UInt8(ascii: "/") else { return nil }
        var start = index + 3
        var end = start
        while end < bytes.count, bytes[end] != UInt8(ascii: "/"), bytes[end] != UInt8(ascii: "?"), bytes[end] != UInt8(ascii: "#") {
            if bytes[end] == UInt8(ascii: "@") { start = end + 1 }
            end += 1
        }
        guard start < end else { return nil }
        if bytes[start] == UInt8(ascii: "[") {
            var close = start + 1
            while close < end, bytes[close] != UInt8(ascii: "]") { close += 1 }
            return close < end ? (start + 1, close) : nil
        }
        var colon = start
        while colon < end, bytes[colon] != UInt8(ascii: ":") { colon += 1 }
        return colon == start ? nil : (start, colon)
    }
}
