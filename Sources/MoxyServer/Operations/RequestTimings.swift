// SPDX-License-Identifier: Apache-2.0

/// `moxy_request_duration_seconds{mode}` (a histogram) and `moxy_sent_bytes_total{mode}`, in
/// per-event-loop lanes (``LaneCounters``): recording a request is three relaxed atomic adds on
/// the loop's own cache line, with the duration kept in integer nanoseconds (no `Double` sum to
/// compare-and-swap). Buckets are stored per bucket and made cumulative when scraped.
final class RequestTimings: Sendable {
    /// Bucket upper bounds in nanoseconds (``MoxyMetrics/durationBuckets``).
    private let bounds: [UInt64]
    /// Per mode: a counter per bucket, one over the last bound, the summed nanoseconds, the bytes.
    private let counts: LaneCounters
    private let perMode: Int

    /// - Parameters:
    ///   - buckets: Bucket upper bounds in seconds, ascending.
    ///   - lanes: Lanes (the server's event loop count).
    init(buckets: [Double], lanes: Int) {
        self.bounds = buckets.map { UInt64(($0 * 1e9).rounded()) }
        self.perMode = buckets.count + 3
        self.counts = LaneCounters(lanes: lanes, slots: perMode * RequestMode.allCases.count)
    }

    /// Records one request's duration and bytes sent.
    @inline(__always)
    func record(mode: RequestMode, nanoseconds: Int64, bytes: Int, lane: Int) {
        let base = mode.index &* perMode
        let elapsed = UInt64(max(0, nanoseconds))
        var bucket = 0
        bounds.withUnsafeBufferPointer { bounds in
            while bucket < bounds.count, elapsed > bounds[bucket] { bucket &+= 1 }
        }
        counts.add(1, lane: lane, slot: base &+ bucket)
        counts.add(elapsed, lane: lane, slot: base &+ bounds.count &+ 1)
        counts.add(UInt64(max(0, bytes)), lane: lane, slot: base &+ bounds.count &+ 2)
    }

    /// Requests recorded in a mode (the histogram's count).
    func count(_ mode: RequestMode) -> UInt64 {
        let base = mode.index * perMode
        return (0...bounds.count).reduce(0) { $0 + counts.total(base + $1) }
    }

    /// Appends both families' Prometheus text, every mode (as the histogram and counter made at
    /// start did: they are there before the first request).
    func appendSamples(to text: inout String) {
        let totals = counts.totals
        text += "# HELP moxy_request_duration_seconds Time from a request's head to its response's last byte.\n"
        text += "# TYPE moxy_request_duration_seconds histogram\n"
        for mode in RequestMode.allCases {
            let base = mode.index * perMode
            var cumulative: UInt64 = 0
            for (index, bound) in bounds.enumerated() {
                cumulative += totals[base + index]
                text += "moxy_request_duration_seconds_bucket{mode=\"\(mode.rawValue)\",le=\"\(Double(bound) / 1e9)\"} \(cumulative)\n"
            }
            cumulative += totals[base + bounds.count]
            text += "moxy_request_duration_seconds_bucket{mode=\"\(mode.rawValue)\",le=\"+Inf\"} \(cumulative)\n"
            text += "moxy_request_duration_seconds_sum{mode=\"\(mode.rawValue)\"} \(Double(totals[base + bounds.count + 1]) / 1e9)\n"
            text += "moxy_request_duration_seconds_count{mode=\"\(mode.rawValue)\"} \(cumulative)\n"
        }
        text += "# HELP moxy_sent_bytes_total Response bytes written to clients.\n"
        text += "# TYPE moxy_sent_bytes_total counter\n"
        for mode in RequestMode.allCases {
            text += "moxy_sent_bytes_total{mode=\"\(mode.rawValue)\"} \(totals[mode.index * perMode + bounds.count + 2])\n"
        }
    }
}

/// Prometheus text exposition helpers.
enum PrometheusText {
    /// A label value escaped as the text format wants (`\`, `"` and line feeds).
    static func escape(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") }) else {
            return value
        }
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
