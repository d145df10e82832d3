// SPDX-License-Identifier: Apache-2.0

import MoxyCache

/// What a miss produced: a response to write and its `Cache-Status` value.
struct ProxyOutcome: Sendable {
    /// The response (stored or not).
    var response: CachedResponse
    /// The RFC 9211 `Cache-Status` value for the leader; waiters append `; collapsed`.
    var cacheStatus: String
    /// Whether the response is an error made by Moxy (never capped by URL expiry).
    var isError: Bool
}
