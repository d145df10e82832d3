// SPDX-License-Identifier: Apache-2.0

/// Why a client's bytes are not an HTTP/1.1 request Moxy accepts (RFC 9112), with the status it answers.
///
/// Compare by ``code``; after one of these the connection is answered and closed, since the framing of
/// anything that follows cannot be trusted.
public struct RequestDecodingError: Error, Hashable, CustomStringConvertible {
    /// A stable reason, usable as a log or metrics label.
    public enum Code: String, Hashable, Sendable {
        /// The request line is not `method SP target SP HTTP/d.d`.
        case badRequestLine = "bad-request-line"
        /// The method is not a token followed by one space.
        case badMethod = "bad-method"
        /// The target is empty, not visible ASCII, or none of the four forms.
        case badTarget = "bad-target"
        /// A major version other than 1 (505).
        case unsupportedVersion = "unsupported-version"
        /// A line ends in LF without CR.
        case bareLineFeed = "bare-line-feed"
        /// A field name is not a token directly followed by `:`, or a value holds a control character.
        case badField = "bad-field"
        /// A field line starts with whitespace.
        case obsoleteLineFolding = "obs-fold"
        /// An HTTP/1.1 request without `Host`.
        case missingHost = "missing-host"
        /// More than one `Host`.
        case duplicateHost = "duplicate-host"
        /// `Content-Length` is not one decimal number.
        case badContentLength = "bad-content-length"
        /// `Transfer-Encoding` with `Content-Length`, in HTTP/1.0, or not ending in chunked.
        case badTransferEncoding = "bad-transfer-encoding"
        /// A transfer coding other than chunked (501).
        case unsupportedTransferCoding = "unsupported-transfer-coding"
        /// A malformed chunk size, extension or chunk end.
        case badChunk = "bad-chunk"
        /// The request line exceeds the bound (414).
        case targetTooLong = "target-too-long"
        /// The head or trailer section exceeds the bound (431).
        case headTooLarge = "head-too-large"
    }

    /// The reason.
    public let code: Code
    /// A one-line explanation for the client.
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The status answered: 414 and 431 for the size bounds, 501 for a transfer coding Moxy does not
    /// decode, 505 for a version other than 1.x, 400 otherwise (RFC 9112 §3, §6; nginx answers alike).
    public var status: Int {
        switch code {
        case .targetTooLong: 414
        case .headTooLarge: 431
        case .unsupportedTransferCoding: 501
        case .unsupportedVersion: 505
        default: 400
        }
    }

    /// The answer: `headers-too-large` (431) and `uri-too-long` (414) as for the configured client
    /// limits, `bad-request` with this error's status otherwise.
    var proxyError: ProxyError {
        switch code {
        case .headTooLarge: ProxyError(.headersTooLarge, message)
        case .targetTooLong: ProxyError(.uriTooLong, message)
        default: ProxyError(.badRequest, status: status, message)
        }
    }

    /// `code: message`.
    public var description: String { "\(code.rawValue): \(message)" }
}
