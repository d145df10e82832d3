// SPDX-License-Identifier: Apache-2.0

/// What a successfully verified Moxy URL names.
public struct VerifiedTarget: Sendable, Hashable {
    /// The target URL exactly as signed (never re-encoded). It is also the cache key.
    public let url: String
    /// The id of the key that verified the signature.
    public let keyID: String
    /// The expiry (Unix seconds), if the URL has one.
    public let expires: Int64?

    /// Creates a verified target.
    /// - Parameters:
    ///   - url: The target URL.
    ///   - keyID: The key id that verified it.
    ///   - expires: Its expiry, if any.
    public init(url: String, keyID: String, expires: Int64?) {
        self.url = url
        self.keyID = keyID
        self.expires = expires
    }
}
