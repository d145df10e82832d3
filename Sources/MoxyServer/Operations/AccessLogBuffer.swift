// SPDX-License-Identifier: Apache-2.0

import NIOConcurrencyHelpers

/// One event loop's access log lines, formatted as its requests finish. Its lock is taken by that
/// loop for each line and by the log's writer every 100 ms, never by another loop.
///
/// `@unchecked Sendable`: every `var` is read and written only between `lock.lock()` and
/// `lock.unlock()`. The lock is taken by hand, not through a closure, so that the request's
/// record is formatted where it lies instead of being copied into the closure's context (about
/// 500 instructions a line, by callgrind).
final class AccessLogBuffer: @unchecked Sendable {
    private let lock = NIOLock()
    private var formatter: AccessLogFormatter
    private var bytes: [UInt8] = []
    private var lines = 0
    private let maxLines: Int
    private let metrics: MoxyMetrics

    init(configuration: AccessLogConfiguration, metrics: MoxyMetrics) {
        self.formatter = AccessLogFormatter(configuration: configuration)
        self.maxLines = configuration.maxQueuedLines
        self.metrics = metrics
    }

    /// Formats the line of a finished request into the buffer (or drops it when the writer has
    /// fallen ``AccessLogConfiguration/maxQueuedLines`` lines behind).
    func append(_ record: borrowing RequestRecord, result: CacheResult, client: String?, nanoseconds: Int64, nowMilliseconds: Int64) {
        lock.lock()
        let dropped = lines >= maxLines
        if !dropped {
            formatter.append(record, cache: result, client: client, nanoseconds: nanoseconds, timeMilliseconds: nowMilliseconds, to: &bytes)
            lines += 1
        }
        lock.unlock()
        if dropped { metrics.count("moxy_access_log_dropped_total", [], help: "Access log lines dropped because writing fell behind.") }
    }

    /// The bytes formatted so far, leaving the buffer empty.
    func take() -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        let taken = bytes
        bytes = []
        lines = 0
        return taken
    }
}
