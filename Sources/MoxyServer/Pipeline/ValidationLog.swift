// SPDX-License-Identifier: Apache-2.0

import Logging
import Metrics
import MoxyValidation
import NIOConcurrencyHelpers
import NIOCore

/// Counts and logs responses that failed validation, per source and rule (also reported through
/// swift-metrics as `moxy_validation_failures_total{route,rule}`).
final class ValidationLog: Sendable {
    private let counts = NIOLockedValueBox<[ValidationCount: Int]>([:])
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    /// Counts and logs one invalid response, with the first bytes of its body.
    func record(_ failure: ValidationFailure, source: String, url: String, status: Int, body: ByteBuffer?) {
        counts.withLockedValue { $0[ValidationCount(source: source, rule: failure.rule), default: 0] += 1 }
        Counter(label: "moxy_validation_failures_total", dimensions: [("route", source), ("rule", failure.rule)]).increment()
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
