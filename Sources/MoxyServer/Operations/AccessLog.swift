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
    /// Lines waiting at most in one event loop's buffer while writing falls behind; past it new lines
    /// are dropped and counted.
    public var maxQueuedLines = 100_000

    /// Creates settings (standard output, logfmt, no full URLs).
    public init(path: String? = nil, format: Format = .logfmt, fullURLs: Bool = false) {
        self.path = path
        self.format = format
        self.fullURLs = fullURLs
    }
}

/// One line per answered request. Each event loop formats its requests' lines into a buffer of
/// its own as they finish (``AccessLogBuffer``: bytes, from the request's record and its source's
/// pre-encoded fields; no queue of records, no lock shared between loops), and ``run()``, a task
/// of the server's group, takes every buffer's bytes every 100 ms and writes them on NIO's
/// blocking-I/O pool. Past ``AccessLogConfiguration/maxQueuedLines`` lines waiting in one loop's
/// buffer (a stalled disk) new lines are dropped and counted (`moxy_access_log_dropped_total`), so
/// memory stays bounded.
final class AccessLog: Sendable {
    let configuration: AccessLogConfiguration
    private let metrics: MoxyMetrics
    /// The buffers, one per lane of the request counters (``MoxyMetrics/lane(for:)``), so the
    /// loops are given their buffers by the same assignment that gives them their counters.
    private let buffers: [AccessLogBuffer]
    private let reopenRequested = NIOLockedValueBox(false)
    private let descriptor = NIOLockedValueBox<Int32>(-1)

    init(configuration: AccessLogConfiguration, metrics: MoxyMetrics) {
        self.configuration = configuration
        self.metrics = metrics
        self.buffers = (0..<metrics.lanes).map { _ in AccessLogBuffer(configuration: configuration, metrics: metrics) }
    }

    /// The buffer of an event loop's lines (a connection keeps it).
    func buffer(for eventLoop: any EventLoop) -> AccessLogBuffer {
        buffers[metrics.lane(for: eventLoop)]
    }

    /// Reopens the file before the next write (`SIGUSR1`, after logrotate moved it).
    func reopen() {
        reopenRequested.withLockedValue { $0 = true }
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

    /// Writes what every loop's buffer holds (on the blocking-I/O pool).
    func flush() async {
        let reopen = reopenRequested.withLockedValue { requested in
            defer { requested = false }
            return requested
        }
        var chunks: [ByteBuffer] = []
        for buffer in buffers {
            let taken = buffer.take()
            if taken.readableBytes > 0 { chunks.append(taken) }
        }
        guard !chunks.isEmpty || reopen else { return }
        let text = chunks
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
            for var bytes in text {
                while bytes.readableBytes > 0 {
                    let written = bytes.withUnsafeReadableBytes { write(fd, $0.baseAddress, $0.count) }
                    if written < 0 && errno == EINTR { continue }
                    guard written > 0 else { return }
                    bytes.moveReaderIndex(forwardBy: written)
                }
            }
        }
    }

    /// How many of the request target's bytes are logged: none for signed URLs (the path is the
    /// signed target), for routes the path without its query; everything with `fullURLs`. Pure.
    static func loggedTargetLength(_ uri: UnsafeBufferPointer<UInt8>, mode: RequestMode, full: Bool) -> Int? {
        if full { return uri.count }
        if mode == .signed { return nil }
        guard let base = uri.baseAddress, let mark = memchr(base, Int32(UInt8(ascii: "?")), uri.count) else { return uri.count }
        return UnsafeRawPointer(mark) - UnsafeRawPointer(base)
    }

    /// The target as logged (``loggedTargetLength(_:mode:full:)`` as text).
    static func loggedTarget(_ uri: String, mode: RequestMode, full: Bool) -> Substring? {
        var uri = uri
        guard let length = uri.withUTF8({ loggedTargetLength($0, mode: mode, full: full) }) else { return nil }
        let utf8 = uri.utf8
        return Substring(utf8[utf8.startIndex..<utf8.index(utf8.startIndex, offsetBy: length)])
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
