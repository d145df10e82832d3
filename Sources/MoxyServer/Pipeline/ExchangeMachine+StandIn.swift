// SPDX-License-Identifier: Apache-2.0

import MoxyValidation

extension ExchangeMachine {
    /// Why the last good entry answers instead of the upstream, as `Cache-Status` says it: an
    /// operator tells "site down" from "bad body sent as 200" without reading the log.
    struct StandIn: Sendable, Hashable {
        /// The `Cache-Status` `detail` value, already serialised (a token or a quoted string).
        var detail: String
        /// The upstream's last status, for `fwd-status` (`nil` when none arrived).
        var upstreamStatus: Int?

        /// A response that failed validation: `UPSTREAM-STATUS` for an error status (the status
        /// says it all), else `INVALID-BODY:RULE` naming the rule that failed.
        static func invalid(_ failure: ValidationFailure, status: Int) -> StandIn {
            guard status < 400 else { return StandIn(detail: "UPSTREAM-STATUS", upstreamStatus: status) }
            return StandIn(detail: Self.serialised("INVALID-BODY:" + failure.rule), upstreamStatus: status)
        }

        /// An upstream that could not be reached or failed (`UPSTREAM-ERROR:connect-failed`, `…:timeout`).
        static func failed(_ error: ProxyError) -> StandIn {
            StandIn(detail: Self.serialised("UPSTREAM-ERROR:\(error.code)"), upstreamStatus: error.upstreamStatus)
        }

        /// A structured-field token when the text is one (RFC 8941 §3.3.4), else a quoted string.
        static func serialised(_ text: String) -> String {
            let isToken = text.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
                default: "!#$%&'*+-.^_`|~:/".utf8.contains(byte)
                }
            }
            if isToken { return text }
            var quoted = "\""
            for scalar in text.unicodeScalars where scalar.isASCII && scalar.value >= 0x20 && scalar.value < 0x7f {
                if scalar == "\"" || scalar == "\\" { quoted.append("\\") }
                quoted.unicodeScalars.append(scalar)
            }
            return quoted + "\""
        }
    }
}
