// SPDX-License-Identifier: Apache-2.0

/// A place where complete responses are kept by key.
///
/// Implementations are thread-safe. Operations are synchronous so that a memory hit can be answered
/// on the event loop that read the request; slower tiers will get an asynchronous protocol of their own.
public protocol CacheStore: Sendable {
    /// The stored response for a key, or `nil`. A hit counts as a use for eviction.
    /// - Parameter key: The cache key.
    /// - Returns: The response, fresh or not; callers check freshness.
    func get(_ key: String) -> CachedResponse?
    /// Stores a response, replacing any previous one for the key.
    /// - Parameters:
    ///   - key: The cache key.
    ///   - response: The response.
    /// - Returns: `true` if stored, `false` if the store refused it (e.g. larger than allowed).
    @discardableResult
    func put(_ key: String, _ response: CachedResponse) -> Bool
    /// Removes the response for a key, if any.
    /// - Parameter key: The cache key.
    func remove(_ key: String)
}
