// SPDX-License-Identifier: Apache-2.0

import AsyncHTTPClient
import MoxyCache
import MoxySigning
import NIOCore

/// A GET or HEAD request that goes through the cache, in either mode.
struct CacheRequest: Sendable {
    /// Where a miss is fetched from.
    enum Source: Sendable {
        /// A verified signed URL.
        case signed(VerifiedTarget)
        /// An origin route and the upstream URL for this request.
        case route(RouteConfiguration, url: String)
    }

    /// Where a miss is fetched from.
    var source: Source
    /// The primary cache key (the target URI, without the signature).
    var key: String
    /// Whether the client asked for HEAD (fetched as GET, answered without body).
    var isHead: Bool
    /// The client's request fields.
    var headers: [(name: String, value: String)]
    /// The request's caching directives (empty when the operator ignores them).
    var directives: RequestDirectives
    /// The client's address, for `X-Forwarded-For`.
    var clientAddress: String?
    /// The operator's adjustments for this route or for signed URLs.
    var overrides: CacheOverrides

    /// Whether the request is for a signed URL.
    var isSigned: Bool {
        if case .signed = source { return true }
        return false
    }
}

/// The result of a cache lookup.
struct CacheLookup: Sendable {
    /// The stored response matching the request, fresh or not.
    var entry: CachedResponse?
    /// The key a response for this request is stored under (a variant key when the URI varies).
    var storeKey: String
    /// Why a miss goes forward: `uri-miss` or `vary-miss`.
    var forward: CacheStatus.Forward
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
}

/// Reads an upstream response body in order, first while deciding whether to store it, then while
/// streaming the rest; the HTTP client allows one iterator per body, so it is kept here.
///
/// Used by one task at a time (the fetch, then the writer it hands over to), hence `@unchecked`.
final class ResponseBodyReader: @unchecked Sendable {
    private var iterator: HTTPClientResponse.Body.AsyncIterator

    init(_ body: HTTPClientResponse.Body) {
        self.iterator = body.makeAsyncIterator()
    }

    /// The next chunk, or `nil` at the end.
    func next() async throws -> ByteBuffer? {
        try await iterator.next()
    }
}
