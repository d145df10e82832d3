// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxyValidation

extension ExchangeMachine {
    /// Why the last good entry answers instead of the upstream, and what the upstream last said.
    struct StandIn: Sendable, Hashable {
        /// Why (`Cache-Status` says it in `detail`).
        var reason: LastGoodReason
        /// The upstream's last status, for `fwd-status` (`nil` when none arrived).
        var upstreamStatus: Int?

        /// A response that failed validation: `UPSTREAM-STATUS` for an error status (the status
        /// says it all), else `INVALID-BODY:RULE` naming the rule that failed.
        static func invalid(_ failure: ValidationFailure, status: Int) -> StandIn {
            guard status < 400 else { return StandIn(reason: .upstreamStatus, upstreamStatus: status) }
            return StandIn(reason: .invalidBody(rule: failure.rule), upstreamStatus: status)
        }

        /// An upstream that could not be reached or failed (`UPSTREAM-ERROR:connect-failed`, `…:timeout`).
        static func failed(_ error: ProxyError) -> StandIn {
            StandIn(reason: .upstreamError(code: "\(error.code)"), upstreamStatus: error.upstreamStatus)
        }
    }
}
