// SPDX-License-Identifier: Apache-2.0

import Crypto
import FoundationEssentials

/// One HMAC-SHA256 key with the id that names it in URLs (`k<id>`).
public struct SigningKey: Sendable {
    /// The key id: 1 to 32 characters from `[A-Za-z0-9_-]`.
    public let id: String
    /// The secret, used as raw bytes.
    @usableFromInline
    let key: SymmetricKey

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
        self.key = SymmetricKey(data: secretBytes)
    }

    /// Whether `id` is a valid key id.
    /// - Parameter id: The candidate id.
    /// - Returns: `true` for 1 to 32 characters from `[A-Za-z0-9_-]`.
    public static func isValidID(_ id: some StringProtocol) -> Bool {
        let bytes = id.utf8
        guard !bytes.isEmpty, bytes.count <= 32 else { return false }
        return bytes.allSatisfy { isIDByte($0) }
    }

    @inlinable
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
    @inlinable
    func mac(_ message: some Collection<UInt8>) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: key)
        message.withContiguousStorageIfAvailable { hmac.update(data: UnsafeRawBufferPointer($0)) }
            ?? hmac.update(data: Array(message))
        return Array(hmac.finalize())
    }
}
