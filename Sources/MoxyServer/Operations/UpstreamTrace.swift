// SPDX-License-Identifier: Apache-2.0

import Prometheus
import NIOConcurrencyHelpers
import NIOCore

/// What one request's upstream exchange took, for its access-log line: written by the upstream
/// client (on a background task), read when the response is finished (on the event loop).
/// Made only for requests that may go forward; a hit has none.
final class UpstreamTrace: Sendable {
    private let state = NIOLockedValueBox<(status: Int?, nanoseconds: Int64?)>((nil, nil))

    /// Records the upstream's status (nil when none arrived) and the time to its head.
    func record(status: Int?, nanoseconds: Int64) {
        state.withLockedValue { $0 = (status, nanoseconds) }
    }

    /// The status and duration recorded, if the request went forward.
    var value: (status: Int?, nanoseconds: Int64?) { state.withLockedValue { $0 } }
}

extension MoxyMetrics {
    /// Counts one upstream exchange of a cache fetch or a pass-through: its duration, and its
    /// error kind when it failed (`5xx` for an upstream error status, else the error's code:
    /// `connect-failed`, `timeout`, `too-large`, `content-type`, `address-refused`, …), with
    /// refused addresses also counted by class.
    func upstream(_ mode: RequestMode, status: Int?, error: ProxyError?, started: NIODeadline) {
        let elapsed = NIODeadline.now() - started
        upstreamDuration[mode.index].record(Double(elapsed.nanoseconds) / 1e9)
        count("moxy_upstream_requests_total", [("mode", mode.rawValue)], help: "Requests sent upstream (cache fetches and pass-through).")
        let failedStatus = status.map { $0 >= 500 } ?? false
        guard error != nil || failedStatus else { return }
        let kind = failedStatus || (error?.upstreamStatus ?? 0) >= 500 ? "5xx" : error.map { "\($0.code)" } ?? "5xx"
        count("moxy_upstream_errors_total", [("mode", mode.rawValue), ("kind", kind)], help: "Upstream exchanges that failed, by kind.")
        if let addressClass = error?.addressClass {
            count("moxy_ssrf_refusals_total", [("class", addressClass)], help: "Targets refused for their address class.")
        }
    }
}
