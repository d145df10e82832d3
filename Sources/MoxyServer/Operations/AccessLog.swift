// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import NIOHTTP1
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MoxyHTTP
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Where and how the access log is written.
public struct AccessLogConfiguration: Sendable, Hashable {
    /// The line format.
    public enum Format: String, Sendable, Hashable, CaseIterable {
        /// `key=value` pairs (the default; Heroku, Loki and Vector read it as is).
        case logfmt
        /// One JSON object per line.
        case json
    }

    /// A file to append to (reopened on `SIGUSR1`), or `nil` for standard output.
    public var path: String?
    /// The line format.
    public var format: Format
    /// Log the full request target: a signed URL's path (the target, encoded) and query strings.
    /// Off by default: those can carry secrets of the sites behind Moxy.
    public var fullURLs: Bool
    /// Lines queued at most while writing falls behind; past it new lines are dropped and counted.
    public var maxQueuedLines = 100_000

    /// Creates settings (standard output, logfmt, no full URLs).
    public init(path: String? = nil, format: Format = .logfmt, fullURLs: Bool = false) {
        self.path = path
        self.format = format
        self.fullURLs = fullURLs
    }
}

/// One line per answered request, written off the event loops: a request appends a small record
/// to a queue under a lock (no formatting, no I/O on the event loop) and ``run()``, a task of the
/// server's group, formats and writes what is queued every 100 ms on NIO's blocking-I/O pool.
/// Past 100,000 queued lines (``AccessLogConfiguration/maxQueuedLines``; a stalled disk) new lines are dropped and counted
/// (`moxy_access_log_dropped_total`), so memory stays bounded.
final class AccessLog: Sendable {
    /// What the event loop queues: values it has already (no string made, no lock taken for the
    /// upstream trace); the writer turns them into text.
    struct Line: Sendable {
        var timeMilliseconds: Int64
        var client: String?
        var method: HTTPMethod
        var mode: RequestMode
        /// Mode, route and (for a route) upstream host, encoded once per source.
        var fields: AccessLogFields
        /// A signed request's target URL (its host is logged).
        var target: String?
        var uri: String
        var status: Int
        var bytes: Int
        var cache: CacheResult
        /// The upstream exchange's status and time, read by the writer.
        var trace: UpstreamTrace?
        var nanoseconds: Int64
    }

    let configuration: AccessLogConfiguration
    private let metrics: MoxyMetrics
    private let queue = NIOLockedValueBox<(lines: [Line], reopen: Bool)>(([], false))
    private let descriptor = NIOLockedValueBox<Int32>(-1)

    init(configuration: AccessLogConfiguration, metrics: MoxyMetrics) {
        self.configuration = configuration
        self.metrics = metrics
    }

    /// Queues the line of a finished request.
    func append(_ record: RequestRecord, result: CacheResult, client: String?, nanoseconds: Int64, nowMilliseconds: Int64) {
        let line = Line(
            timeMilliseconds: nowMilliseconds, client: client, method: record.method, mode: record.mode, fields: record.logFields, target: record.target,
            uri: record.uri, status: record.status, bytes: record.bytes, cache: result, trace: record.trace, nanoseconds: nanoseconds)
        let dropped = queue.withLockedValue { queue -> Bool in
            guard queue.lines.count < configuration.maxQueuedLines else { return true }
            queue.lines.append(line)
            return false
        }
        if dropped { metrics.count("moxy_access_log_dropped_total", [], help: "Access log lines dropped because writing fell behind.") }
    }

    /// Reopens the file before the next write (`SIGUSR1`, after logrotate moved it).
    func reopen() {
        queue.withLockedValue { $0.reopen = true }
    }

    /// Writes queued lines every 100 ms until cancelled, then writes what is left and closes.
    func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
            await flush()
        }
        await flush()
        let fd = descriptor.withLockedValue { fd in
            defer { fd = -1 }
            return fd
        }
        if fd > 2 { close(fd) }
    }

    /// Formats and writes what is queued (on the blocking-I/O pool).
    func flush() async {
        let (lines, reopen) = queue.withLockedValue { queue in
            defer { queue = ([], false) }
            return queue
        }
        guard !lines.isEmpty || reopen else { return }
        var formatter = AccessLogFormatter(configuration: configuration)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(lines.count * 256)
        for line in lines { formatter.append(line, to: &bytes) }
        let text = bytes
        let path = configuration.path
        let descriptor = self.descriptor
        _ = try? await NIOThreadPool.singleton.runIfActive {
            let fd = descriptor.withLockedValue { fd -> Int32 in
                if reopen, fd > 2 {
                    close(fd)
                    fd = -1
                }
                if fd < 0 { fd = path.map { open($0, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644) } ?? 1 }
                return fd
            }
            guard fd >= 0 else { return }
            var bytes = text[...]
            while !bytes.isEmpty {
                let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                bytes = bytes.dropFirst(written)
            }
        }
    }

    /// The target as logged: for signed URLs none (the path is the signed target), for routes the
    /// path without its query; everything with `fullURLs`.
    static func loggedTarget(_ uri: String, mode: RequestMode, full: Bool) -> Substring? {
        if full { return uri[...] }
        if mode == .signed { return nil }
        let end = uri[...].firstIndex(ofASCII: UInt8(ascii: "?")) ?? uri.endIndex
        return uri[..<end]
    }

    /// A JSON string literal: quotes, backslashes and control bytes escaped (the access log's
    /// own escaping, for the admin API's JSON).
    static func jsonString(_ value: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(value.utf8.count + 2)
        AccessLogFormatter.appendText(value, json: true, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
