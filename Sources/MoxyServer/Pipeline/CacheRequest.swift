// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import NIOCore
import NIOHTTP1

/// A GET or HEAD request that goes through the cache, in either mode.
struct CacheRequest: Sendable {
    /// Signed URLs or the route it belongs to.
    var source: CacheSource
    /// The upstream URL (the signed target, or the route's upstream URL for the target).
    var url: String
    /// The primary cache key (the target URI, without the signature).
    var key: String
    /// The client's request fields (none for signed URLs).
    var headers: [(name: String, value: String)]
    /// The request's caching directives (empty when the operator ignores them).
    var directives: RequestDirectives
    /// The client's address, for `X-Forwarded-For`.
    var clientAddress: String?
    /// Whether the client connected over TLS, for `X-Forwarded-Proto`.
    var clientSecure = false
    /// Where the upstream's interim responses go (the client connection), when the route forwards them.
    var interim: (@Sendable (HTTPResponseHead) -> Void)? = nil
    /// Where the upstream client notes its status and time, for the access log.
    var trace: UpstreamTrace? = nil
}

/// A response streamed from the upstream to the client without being stored.
struct StreamedResponse: Sendable {
    /// The status.
    var status: Int
    /// End-to-end fields to send (no framing fields).
    var fields: [(name: String, value: String)]
    /// The body length, when known.
    var contentLength: Int?
    /// Body bytes already read (while deciding whether to store).
    var prefix: ByteBuffer
    /// The rest of the body, if any.
    var rest: ResponseBodyReader?
    /// For a signed URL, the `max-age` the fields announce (the writer caps it at the URL's expiry).
    var downstreamMaxAge: Int64? = nil
}
