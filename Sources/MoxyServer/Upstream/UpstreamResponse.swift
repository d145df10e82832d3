// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
public import NIOCore

/// A complete, checked response from the upstream of a signed URL.
public struct UpstreamResponse: Sendable {
    /// The final status (after redirects).
    public var status: Int
    /// The response fields as received.
    public var headers: [(name: String, value: String)]
    /// The canonical content type (`nil` only for a `304`).
    public var contentType: MediaType?
    /// The body, at most the configured maximum size.
    public var body: ByteBuffer
    /// Unix seconds when the first request was sent.
    public var requestTime: Int64
    /// Unix seconds when the final response's head arrived.
    public var responseTime: Int64
}
