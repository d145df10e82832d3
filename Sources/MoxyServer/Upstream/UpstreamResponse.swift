// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import NIOCore

/// A checked response from the upstream of a signed URL: its head, and its body still to read.
public struct UpstreamResponse: Sendable {
    /// The final status (after redirects).
    public var status: Int
    /// The response fields as received.
    public var headers: [(name: String, value: String)]
    /// The canonical content type (`nil` only for a `304`).
    public var contentType: MediaType?
    /// The body, which fails to read past the configured maximum size or the total timeout.
    public var body: ResponseBodyReader
    /// Unix seconds when the first request was sent.
    public var requestTime: Int64
    /// Unix seconds when the final response's head arrived.
    public var responseTime: Int64
}
