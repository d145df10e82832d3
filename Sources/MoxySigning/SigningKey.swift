// SPDX-License-Identifier: Apache-2.0

import Crypto
import FoundationEssentials

/// One HMAC-SHA256 key with the id that names it in URLs (`k<id>`).
///
/// The key's inner and outer SHA-256 states (RFC 2104: the hash of `key ⊕ ipad` and of
/// `key ⊕ opad`) are computed once, so a verification costs only the hashing of the message:
/// measured here, setting up swift-crypto's `HMAC` per request cost more than the hashing itself.
public struct SigningKey: Sendable {
    /// The key id: 1 to 32 characters from `[A-Za-z0-9_-]`.
    public let id: String
    /// SHA-256 after absorbing `key ⊕ ipad`.
    let inner: SHA256
    /// SHA-256 after absorbing `key ⊕ opad`.
    let outer: SHA256

    /// Creates a key from the UTF-8 bytes of a secret.
    /// - Parameters:
    ///   - id: The key id used in URLs.
    ///   - secret: The secret; its UTF-8 bytes are the HMAC key.
    /// - Throws: ``SigningError`` with code `invalidKey` when the id is malformed or the secret empty.
    public init(id: String, secret: String) throws {
        try self.init(id: id, secretBytes: Array(secret.utf8))
    }

    /// Creates a key from raw secret bytes.
    /// - Parameters:
    ///   - id: The key id used in URLs.
    ///   - secretBytes: The HMAC key.
    /// - Throws: ``SigningError`` with code `invalidKey` when the id is malformed or the secret empty.
    public init(id: String, secretBytes: [UInt8]) throws {
        guard SigningKey.isValidID(id) else {
            throw SigningError(.invalidKey, "key id '\(id)' must be 1-32 characters of A-Z a-z 0-9 _ -")
        }
        guard !secretBytes.isEmpty else {
            throw SigningError(.invalidKey, "the secret of key '\(id)' is empty")
        }
        self.id = id
        // RFC 2104: keys longer than the block are hashed first, then zero-padded to 64 bytes.
        var block = secretBytes.count > 64 ? Array(SHA256.hash(data: secretBytes)) : secretBytes
        block += [UInt8](repeating: 0, count: 64 - block.count)
        var inner = SHA256()
        var outer = SHA256()
        inner.update(data: block.map { $0 ^ 0x36 })
        outer.update(data: block.map { $0 ^ 0x5C })
        self.inner = inner
        self.outer = outer
    }

    /// Whether `id` is a valid key id.
    /// - Parameter id: The candidate id.
    /// - Returns: `true` for 1 to 32 characters from `[A-Za-z0-9_-]`.
    public static func isValidID(_ id: some StringProtocol) -> Bool {
        let bytes = id.utf8
        guard !bytes.isEmpty, bytes.count <= 32 else { return false }
        return bytes.allSatisfy { isIDByte($0) }
    }

    static func isIDByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    /// The HMAC-SHA256 of `message` under this key.
    func mac(_ message: UnsafeRawBufferPointer) -> SHA256Digest {
        var inner = self.inner
        inner.update(bufferPointer: message)
        let innerDigest = inner.finalize()
        var outer = self.outer
        innerDigest.withUnsafeBytes { outer.update(bufferPointer: $0) }
        return outer.finalize()
    }

    /// The HMAC-SHA256 of a string's UTF-8 bytes, as bytes.
    func mac(_ message: String) -> [UInt8] {
        var message = message
        return message.withUTF8 { Array(mac(UnsafeRawBufferPointer($0))) }
    }

    /// Whether `signature` is the HMAC of `message`, compared in constant time.
    func isValid(_ signature: [UInt8], for message: UnsafeRawBufferPointer) -> Bool {
        mac(message).withUnsafeBytes { constantTimeEquals($0, signature) }
    }
}
