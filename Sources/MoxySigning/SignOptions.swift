// SPDX-License-Identifier: Apache-2.0

/// The options a Moxy URL may carry in its options segment (`k<id>`, `e<unix seconds>`).
public struct SignOptions: Sendable, Hashable {
    /// The key id to sign with; `nil` means the signer's default key, and no `k` option is written.
    public var keyID: String?
    /// Unix time (seconds) after which the URL is refused; `nil` means it never expires.
    public var expires: Int64?
    /// An extension appended to the last segment as a content-type hint for CDNs (without the dot).
    public var fileExtension: String?

    /// Creates options.
    /// - Parameters:
    ///   - keyID: The key id, or `nil` for the default key.
    ///   - expires: The expiry as Unix seconds, or `nil`.
    ///   - fileExtension: An extension hint such as `png`, or `nil`.
    public init(keyID: String? = nil, expires: Int64? = nil, fileExtension: String? = nil) {
        self.keyID = keyID
        self.expires = expires
        self.fileExtension = fileExtension
    }

    /// The options segment as written in a URL (`k2,e1767225600`), or `nil` when empty.
    public var segment: String? {
        var parts: [String] = []
        if let keyID { parts.append("k" + keyID) }
        if let expires { parts.append("e" + String(expires)) }
        return parts.isEmpty ? nil : parts.joined(separator: ",")
    }

    /// Parses an options segment.
    /// - Parameter segment: The UTF-8 bytes of the segment, e.g. `k2,e1767225600`.
    /// - Returns: The options (without an extension).
    /// - Throws: ``SigningError`` with code `invalidOptions` for unknown, empty, repeated or malformed options.
    public static func parse(_ segment: some Collection<UInt8>) throws -> SignOptions {
        var options = SignOptions()
        for item in segment.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            guard let kind = item.first else {
                throw SigningError(.invalidOptions, "empty option")
            }
            let value = item.dropFirst()
            switch kind {
            case UInt8(ascii: "k"):
                guard options.keyID == nil, SigningKey.isValidID(String(decoding: value, as: UTF8.self)) else {
                    throw SigningError(.invalidOptions, "invalid or repeated key id option")
                }
                options.keyID = String(decoding: value, as: UTF8.self)
            case UInt8(ascii: "e"):
                guard options.expires == nil, let seconds = parseSeconds(value) else {
                    throw SigningError(.invalidOptions, "invalid or repeated expiry option")
                }
                options.expires = seconds
            default:
                throw SigningError(.invalidOptions, "unknown option '\(String(decoding: item, as: UTF8.self))'")
            }
        }
        return options
    }

    /// Parses 1 to 12 decimal digits without sign or leading `+`.
    static func parseSeconds(_ digits: some Collection<UInt8>) -> Int64? {
        guard !digits.isEmpty, digits.count <= 12 else { return nil }
        var value: Int64 = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int64(digit - UInt8(ascii: "0"))
        }
        return value
    }
}
