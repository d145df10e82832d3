// SPDX-License-Identifier: Apache-2.0

import NIOCore
import NIOHTTP1

/// What a connection keeps of a client's request until it is answered.
struct ClientRequest {
    var method: HTTPMethod
    var uri: String
    var version: HTTPVersion
    var keepAlive: Bool
    var headers: HTTPHeaders
    var flags: RequestFlags
    /// The bytes of all header field lines.
    var headerBytes: Int
    /// The streamed body of a request forwarded to a route.
    var body: RequestBodyStream?
    var contentLength: Int?
    /// When its head was read.
    var started: NIODeadline = .now()

    var isHead: Bool { method == .HEAD }
    var fields: [(name: String, value: String)] { headers.map { (name: $0.name, value: $0.value) } }

    /// How an answer to it is framed.
    func framing(_ answer: borrowing Answer) -> Framing {
        Framing(
            isHead: isHead, keepAlive: keepAlive && !answer.closes, minor: version.minor, flags: flags, lifetimeCap: answer.lifetimeCap)
    }
}

/// How one answer is framed for its request: plain values, copied without a retain, which is all
/// the writers need of the request besides its conditionals and range.
struct Framing {
    var isHead: Bool
    var keepAlive: Bool
    /// The HTTP/1 minor version (0: `Connection: keep-alive` must be said; no chunked framing).
    var minor: Int
    var flags: RequestFlags
    /// For a signed URL with an expiry: no cache downstream may keep the answer past it (Unix
    /// seconds).
    var lifetimeCap: Int64?
}
