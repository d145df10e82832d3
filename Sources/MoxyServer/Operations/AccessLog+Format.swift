// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP

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

    /// Appends one line (with its newline).
    mutating func append(_ line: AccessLog.Line, to out: inout [UInt8]) {
        let json = configuration.format == .json
        var first = true
        func name(_ text: StaticString) {
            if json {
                out.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
                out.append(UInt8(ascii: "\""))
                text.withUTF8Buffer { out.append(contentsOf: $0) }
                out.append(UInt8(ascii: "\""))
                out.append(UInt8(ascii: ":"))
            } else {
                if !first { out.append(UInt8(ascii: " ")) }
                text.withUTF8Buffer { out.append(contentsOf: $0) }
                out.append(UInt8(ascii: "="))
            }
            first = false
        }
        func text(_ field: StaticString, _ value: some StringProtocol) {
            name(field)
            Self.appendText(value, json: json, to: &out)
        }
        func number(_ field: StaticString, _ value: Int) {
            name(field)
            Self.appendNumber(value, to: &out)
        }
        func milliseconds(_ field: StaticString, _ nanoseconds: Int64) {
            name(field)
            let tenths = Int(nanoseconds / 100_000)
            Self.appendNumber(tenths / 10, to: &out)
            out.append(UInt8(ascii: "."))
            out.append(UInt8(ascii: "0") + UInt8(tenths % 10))
        }
        name("time")
        if json { out.append(UInt8(ascii: "\"")) }
        appendTime(line.time, to: &out)
        if json { out.append(UInt8(ascii: "\"")) }
        if let client = line.client { text("client", client) }
        text("method", line.method)
        text("mode", line.mode.rawValue)
        text("route", line.route)
        if let host = line.host { text("host", host) } else if let target = line.target, let host = Self.host(ofURL: target) { text("host", host) }
        if let path = AccessLog.loggedTarget(line.uri, mode: line.mode, full: configuration.fullURLs) { text("path", path) }
        number("status", line.status)
        number("bytes", line.bytes)
        text("cache", line.cache.rawValue)
        if let status = line.upstreamStatus { number("upstream_status", status) }
        if let nanoseconds = line.upstreamNanoseconds { milliseconds("upstream_ms", nanoseconds) }
        milliseconds("duration_ms", line.nanoseconds)
        if json { out.append(UInt8(ascii: "}")) }
        out.append(UInt8(ascii: "\n"))
    }

    /// `2026-12-01T14:54:49.844Z`, the part up to the seconds made once per second.
    private mutating func appendTime(_ milliseconds: Int64, to out: inout [UInt8]) {
        let second = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        if second != self.second {
            self.second = second
            datePrefix = Array(HTTPDate.formatISO8601(milliseconds: second * 1000).utf8.dropLast(4))
        }
        out.append(contentsOf: datePrefix)
        let millis = Int(milliseconds - second * 1000)
        out.append(UInt8(ascii: "0") + UInt8(millis / 100))
        out.append(UInt8(ascii: "0") + UInt8(millis / 10 % 10))
        out.append(UInt8(ascii: "0") + UInt8(millis % 10))
        out.append(UInt8(ascii: "Z"))
    }

    static func appendNumber(_ value: Int, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for index in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[index]) }
        }
    }

    /// A value as logfmt writes it (bare when it has no space, quote, `=` or control byte; else
    /// quoted as JSON), or as a JSON string.
    static func appendText(_ value: some StringProtocol, json: Bool, to out: inout [UInt8]) {
        let bare = !json && !value.isEmpty
            && value.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "=") && $0 != UInt8(ascii: "\\") }
        if bare { return out.append(contentsOf: value.utf8) }
        out.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            let escaped: UInt8
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): escaped = byte
            case UInt8(ascii: "\n"): escaped = UInt8(ascii: "n")
            case UInt8(ascii: "\r"): escaped = UInt8(ascii: "r")
            case UInt8(ascii: "\t"): escaped = UInt8(ascii: "t")
            case 0..<0x20, 0x7f:
                let hex: StaticString = "0123456789abcdef"
                out.append(UInt8(ascii: "\\"))
                out.append(UInt8(ascii: "u"))
                out.append(UInt8(ascii: "0"))
                out.append(UInt8(ascii: "0"))
                hex.withUTF8Buffer { digits in
                    out.append(digits[Int(byte >> 4)])
                    out.append(digits[Int(byte & 0x0F)])
                }
                continue
            default:
                out.append(byte)
                continue
            }
            out.append(UInt8(ascii: "\\"))
            out.append(escaped)
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The host of an absolute URL (`scheme://[userinfo@]host[:port]/…`, IPv6 in brackets) without
    /// parsing the rest; nil when it is not one. A byte scan: `firstRange(of:)` cost ~27,000
    /// instructions per line (callgrind).
    static func host(ofURL url: String) -> Substring? {
        let bytes = url.utf8
        var index = bytes.startIndex
        // The scheme, then "://".
        while index != bytes.endIndex, bytes[index] != UInt8(ascii: ":") { index = bytes.index(after: index) }
        guard bytes[index...].starts(with: "://".utf8) else { return nil }
        index = bytes.index(index, offsetBy: 3)
        var start = index
        var end = index
        while end != bytes.endIndex, bytes[end] != UInt8(ascii: "/"), bytes[end] != UInt8(ascii: "?"), bytes[end] != UInt8(ascii: "#") {
            if bytes[end] == UInt8(ascii: "@") { start = bytes.index(after: end) }
            end = bytes.index(after: end)
        }
        guard start != end else { return nil }
        if bytes[start] == UInt8(ascii: "[") {
            let open = bytes.index(after: start)
            guard let close = bytes[open..<end].firstIndex(of: UInt8(ascii: "]")) else { return nil }
            return url[open..<close]
        }
        let colon = bytes[start..<end].firstIndex(of: UInt8(ascii: ":")) ?? end
        return start == colon ? nil : url[start..<colon]
    }
}
