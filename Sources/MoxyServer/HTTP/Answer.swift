// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import NIOCore

/// What a request is answered with: the one value ``RequestDispatcher`` returns and the
/// connection's writer writes (async-http-client's "an event returns an action, one executor runs
/// it"). It holds no channel: the dispatcher is tested without one.
struct Answer {
    enum Kind {
        /// A fresh hit from memory for a plain request: the pre-encoded head, `Age` and
        /// `Cache-Status: moxy; hit; ttl=N`, nothing else built.
        case hit(CachedResponse)
        /// A stored response: conditionals answered with 304, a `Range` with 206 / 416, else the
        /// whole of it (its body in memory, or read from disk as it is sent).
        case stored(CachedResponse)
        /// A response written as it is: an error, a service answer, an upstream answer not stored.
        case response(CachedResponse)
        /// An upstream response streamed through as it arrives.
        case stream(StreamedResponse)
        /// An answer produced upstream, written when it arrives; `continueFirst`: the client
        /// waits for `100 Continue` before it sends the body that goes with it.
        case later(EventLoopFuture<ProxyOutcome>, continueFirst: Bool)
        /// Nothing to write (an exchange that ended without an answer).
        case nothing
    }

    var kind: Kind
    /// The `Cache-Status` value (unused for ``Kind/hit(_:)``, whose value is written from its TTL).
    var cacheStatus: String
    /// For a signed URL with an expiry: no cache downstream may keep the answer past it (Unix
    /// seconds). Moxy's own errors carry none.
    var lifetimeCap: Int64?
    /// Whether the connection closes after it (the rest of the request cannot be trusted).
    var closes = false

    /// An answer written at once, with no state kept across event-loop turns.
    var isImmediate: Bool {
        switch kind {
        case .hit, .response: true
        case .stored(let response): response.externalBody == nil
        case .stream, .later, .nothing: false
        }
    }

    /// Whether the request's body goes upstream with it (every other answer drops the body).
    var forwardsBody: Bool {
        if case .later = kind { return true }
        return false
    }

    /// A fresh hit.
    static func hit(_ entry: CachedResponse, lifetimeCap: Int64?) -> Answer {
        Answer(kind: .hit(entry), cacheStatus: "", lifetimeCap: lifetimeCap)
    }

    /// The answer of an outcome produced upstream.
    static func of(_ outcome: ProxyOutcome, cacheStatus: String, lifetimeCap: Int64?) -> Answer {
        // Moxy's own errors are never capped: they carry no-store.
        let cap = outcome.isError ? nil : lifetimeCap
        if let response = outcome.response {
            let stored = response.externalBody != nil || outcome.cacheStatus.hit || outcome.cacheStatus.stored
            return Answer(kind: stored ? .stored(response) : .response(response), cacheStatus: cacheStatus, lifetimeCap: cap)
        }
        if let stream = outcome.stream { return Answer(kind: .stream(stream), cacheStatus: cacheStatus, lifetimeCap: cap) }
        return Answer(kind: .nothing, cacheStatus: cacheStatus)
    }
}
