// SPDX-License-Identifier: Apache-2.0

/// A content coding a stored response may also be kept in (RFC 9110 §8.4.1), computed once when
/// it is stored: the writer sends the smallest form the client accepts.
public enum ContentCoding: UInt8, Sendable, CaseIterable {
    /// gzip (RFC 1952).
    case gzip = 1
    /// brotli (RFC 7932).
    case brotli = 2
    /// zstd (RFC 8878).
    case zstd = 4

    /// The `Content-Encoding` token.
    public var token: String {
        switch self {
        case .gzip: "gzip"
        case .brotli: "br"
        case .zstd: "zstd"
        }
    }
}
