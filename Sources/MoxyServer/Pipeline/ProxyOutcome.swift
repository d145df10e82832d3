// SPDX-License-Identifier: Apache-2.0

import MoxyCache

/// What a forwarded request produced: a complete response or a stream, and its `Cache-Status`.
struct ProxyOutcome: Sendable {
    /// A complete response (stored or not); `nil` when ``stream`` is set.
    var response: CachedResponse?
    /// A response streamed through uncached.
    var stream: StreamedResponse?
    /// The RFC 9211 `Cache-Status`.
    var cacheStatus: CacheStatus
    /// Whether the response is an error made by Moxy (never capped by URL expiry).
    var isError: Bool = false
    /// What requests that reuse this outcome (coalesced waiters) get instead of ``response``: the
    /// stored response, when the one sent to this request carries fields that may not be reused
    /// without validation (qualified `no-cache` / `private`, RFC 9111 §5.2.2.4, §5.2.2.7).
    var shared: CachedResponse? = nil

    /// The response a coalesced waiter may reuse.
    var reusable: CachedResponse? { shared ?? response }

    /// A complete response.
    static func complete(_ response: CachedResponse, _ status: CacheStatus, isError: Bool = false) -> ProxyOutcome {
        ProxyOutcome(response: response, stream: nil, cacheStatus: status, isError: isError)
    }

    /// A streamed response.
    static func streamed(_ stream: StreamedResponse, _ status: CacheStatus) -> ProxyOutcome {
        ProxyOutcome(response: nil, stream: stream, cacheStatus: status)
    }
}
