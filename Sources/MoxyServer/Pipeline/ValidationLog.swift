// SPDX-License-Identifier: Apache-2.0

import Logging
import MoxyValidation
import NIOConcurrencyHelpers
import NIOCore

/// Counts and logs responses that failed validation, per source and rule (also reported through
/// swift-metrics as `moxy_validation_failures_total{route,rule}`).
final class ValidationLog: Sendable {
    private let counts = NIOLockedValueBox<[ValidationCount: Int]>([:])
    private let logger: Logger
    private let metrics: MoxyMetrics
    /// The latest failures, newest last (for the status page).
    private let recent = NIOLockedValueBox<[RecentFailure]>([])

    init(logger: Logger, metrics: MoxyMetrics) {
        self.logger = logger
        self.metrics = metrics
    }

    /// Counts and logs one invalid response, with the first bytes of its body.
    func record(_ failure: ValidationFailure, source: String, url: String, status: Int, body: ByteBuffer?, time: Int64) {
        counts.withLockedValue { $0[ValidationCount(source: source, rule: failure.rule), default: 0] += 1 }
        metrics.count(
            "moxy_validation_failures_total", [("route", source), ("rule", failure.rule)],
            help: "Upstream responses that failed validation, by route and rule.")
        recent.withLockedValue {
            $0.append(RecentFailure(route: source, rule: failure.rule, reason: failure.reason, status: status, time: time))
            if $0.count > 20 { $0.removeFirst($0.count - 20) }
        }
        logger.warning(
            "invalid upstream response",
            metadata: [
                "route": "\(source)",
                "url": "\(url)",
                "rule": "\(failure.rule)",
                "reason": "\(failure.reason)",
                "status": "\(status)",
                "body": "\(BodyExcerpt.make(body))",
            ]
        )
    }

    /// The counts so far.
    var snapshot: [ValidationCount: Int] { counts.withLockedValue { $0 } }

    /// The last 20 failures, newest last.
    var recentFailures: [RecentFailure] { recent.withLockedValue { $0 } }
}

/// One failure as the status page lists it.
struct RecentFailure: Sendable {
    var route: String
    var rule: String
    var reason: String
    var status: Int
    var time: Int64
}

/// The failures counted for one source (route name or `signed`) and rule.
public struct ValidationCount: Sendable, Hashable {
    /// The route's name, or `signed`.
    public var source: String
    /// The failed rule's name.
    public var rule: String

    /// Creates a count key.
    public init(source: String, rule: String) {
        self.source = source
        self.rule = rule
    }
}
