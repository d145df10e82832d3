// SPDX-License-Identifier: Apache-2.0

import NIOConcurrencyHelpers
import NIOCore

/// One event loop's access log lines, formatted as its requests finish. Its lock is taken by that
/// loop for each line and by the log's writer every 100 ms; by another loop only if there were more
/// loops than lanes (``MoxyMetrics/lane(for:)``; the server has one lane per loop).
///
/// `@unchecked Sendable`: every `var` is read and written only between `lock.lock()` and
/// `lock.unlock()`. The lock is taken by hand, not through a closure, so that the request's
/// record is formatted where it lies instead of being copied into the closure's context (about
/// 500 instructions a line, by callgrind).
final class AccessLogBuffer: @unchecked Sendable {
    private let lock = NIOLock()
    /// Everything the lock guards, in one stored property: one exclusivity check per line
    /// instead of one per field (about 60 instructions each).
    private var state: State
    private let metrics: MoxyMetrics

    private struct State {
        var formatter: AccessLogFormatter
        var bytes = ByteBuffer()
        var lines = 0
        let maxLines: Int

        /// Formats a line, unless ``maxLines`` wait already; false when it was dropped.
        mutating func append(_ record: borrowing RequestRecord, result: CacheResult, client: AccessLogClient?, nanoseconds: Int64, nowMilliseconds: Int64) -> Bool {
            guard lines < maxLines else { return false }
            formatter.append(record, cache: result, client: client, nanoseconds: nanoseconds, timeMilliseconds: nowMilliseconds, to: &bytes)
            lines += 1
            return true
        }
    }

    init(configuration: AccessLogConfiguration, metrics: MoxyMetrics) {
        self.state = State(formatter: AccessLogFormatter(configuration: configuration), maxLines: configuration.maxQueuedLines)
        self.metrics = metrics
    }

    /// Formats the line of a finished request into the buffer (or drops it when the writer has
    /// fallen ``AccessLogConfiguration/maxQueuedLines`` lines behind).
    func append(_ record: borrowing RequestRecord, result: CacheResult, client: AccessLogClient?, nanoseconds: Int64, nowMilliseconds: Int64) {
        lock.lock()
        let appended = state.append(record, result: result, client: client, nanoseconds: nanoseconds, nowMilliseconds: nowMilliseconds)
        lock.unlock()
        if !appended { metrics.count("moxy_access_log_dropped_total", [], help: "Access log lines dropped because writing fell behind.") }
    }

    /// The bytes formatted so far, leaving the buffer empty (with memory of the same capacity,
    /// so a steady stream of lines does not regrow it every 100 ms).
    func take() -> ByteBuffer {
        lock.lock()
        defer { lock.unlock() }
        let taken = state.bytes
        state.bytes.clear()
        state.lines = 0
        return taken
    }
}
