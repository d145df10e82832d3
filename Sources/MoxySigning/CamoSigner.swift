// SPDX-License-Identifier: Apache-2.0

import Crypto

/// The URL formats of camo and go-camo (HMAC-SHA1 over the target URL, the key's raw bytes as key),
/// so that sites can move to Moxy without re-signing a URL (`docs/security.md`, CAMO-COMPAT §1).
///
/// - camo hex: `/<40 hex digest>/<hex of the URL>`
/// - camo query: `/<40 hex digest>?url=<percent-encoded URL>`
/// - go-camo base64: `/<base64url digest>/<base64url URL>` (a 40-character digest is hex, as go-camo does)
public struct CamoSigner: Sendable {
    /// Which formats are accepted.
    public struct Formats: OptionSet, Sendable, Hashable {
        /// The raw value.
        public let rawValue: UInt8
        /// Creates formats from a raw value.
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// `/<hex digest>/<hex url>` (camo and go-camo).
        public static let hex = Formats(rawValue: 1)
        /// `/<hex digest>?url=…` (camo only).
        public static let query = Formats(rawValue: 2)
        /// `/<base64url digest>/<base64url url>` (go-camo only).
        public static let base64 = Formats(rawValue: 4)
        /// What camo accepts.
        public static let camo: Formats = [.hex, .query]
        /// What go-camo accepts.
        public static let goCamo: Formats = [.hex, .base64]

        /// The formats' configuration names.
        public var names: [String] {
            [(Formats.hex, "camo-hex"), (.query, "camo-query"), (.base64, "go-camo-base64")].filter { contains($0.0) }.map(\.1)
        }
    }

    private let keys: [SymmetricKey]
    /// The accepted formats.
    public let formats: Formats

    /// Creates a verifier.
    /// - Parameters:
    ///   - keys: The keys, as the raw bytes of their text (not hex-decoded, as camo and go-camo do);
    ///     several keys allow rotation.
    ///   - formats: The accepted formats.
    /// - Throws: ``SigningError`` `invalidKey` when a key is empty or there is none.
    public init(keys: [String], formats: Formats) throws {
        guard !keys.isEmpty, keys.allSatisfy({ !$0.isEmpty }) else {
            throw SigningError(.invalidKey, "a camo key must not be empty")
        }
        self.keys = keys.map { SymmetricKey(data: Array($0.utf8)) }
        self.formats = formats
    }

    /// Signs a URL in a format (for tests and tools).
    /// - Parameters:
    ///   - url: The target URL.
    ///   - format: `.hex`, `.query` or `.base64`.
    /// - Returns: The path (with `?url=` for the query format).
    public func sign(_ url: String, format: Formats) -> String {
        let digest = Array(HMAC<Insecure.SHA1>.authenticationCode(for: Array(url.utf8), using: keys[0]))
        switch format {
        case .base64: return "/" + Base64URL.encode(digest) + "/" + Base64URL.encode(Array(url.utf8))
        case .query: return "/" + Self.hex(digest) + "?url=" + Self.percentEncode(url)
        default: return "/" + Self.hex(digest) + "/" + Self.hex(Array(url.utf8))
        }
    }

    /// Verifies a camo-family path.
    /// - Parameters:
    ///   - path: The request path without query.
    ///   - query: The query string (without `?`), if any.
    /// - Returns: The target URL, with only spaces, controls and non-ASCII bytes percent-encoded (so it
    ///   can be sent; everything else is fetched exactly as signed), or `nil` when the path does not
    ///   have the shape of an enabled camo format.
    /// - Throws: ``SigningError`` `badSignature` or `invalidTarget` for a path of the right shape.
    public func verify(path: Substring, query: Substring?) throws -> String? {
        guard path.utf8.first == UInt8(ascii: "/"), path.utf8.count <= 16_384 else { return nil }
        let parts = path.utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        let digest: [UInt8]
        let target: [UInt8]
        if parts.count == 2, !parts[1].isEmpty, parts[0].count == 40, formats.contains(.hex) || formats.contains(.base64) {
            guard let decoded = Self.hexDecode(parts[0]) else { return nil }
            digest = decoded
            guard let url = Self.hexDecode(parts[1]) else {
                throw SigningError(.invalidTarget, "target is not hex")
            }
            target = url
        } else if parts.count == 2, !parts[1].isEmpty, (27...28).contains(parts[0].count), formats.contains(.base64) {
            guard let decoded = Self.lenientBase64(parts[0]), decoded.count == 20 else { return nil }
            digest = decoded
            guard let url = Self.lenientBase64(parts[1]) else { throw SigningError(.invalidTarget, "target is not base64url") }
            target = url
        } else if parts.count == 1, parts[0].count == 40, formats.contains(.query), let query {
            guard let decoded = Self.hexDecode(parts[0]) else { return nil }
            digest = decoded
            let values = query.split(separator: "&").filter { $0.hasPrefix("url=") }
            // camo answers 404 for a repeated url= (its HMAC throws on an array).
            guard values.count == 1, let url = Self.percentDecode(values[0].dropFirst(4)) else {
                throw SigningError(.invalidTarget, "exactly one url= parameter is required")
            }
            target = url
        } else {
            return nil
        }
        guard keys.contains(where: { key in
            constantTimeEquals(Array(HMAC<Insecure.SHA1>.authenticationCode(for: target, using: key)), digest)
        }) else {
            throw SigningError(.badSignature, "bad signature")
        }
        return try Self.fetchable(target)
    }

    /// Whether a path has the shape of a URL in one of the accepted formats (`/<digest>/<target>`,
    /// or `/<digest>?url=` for the query form) whatever its digest looks like: a digest of the wrong
    /// length, or hex where base64 belongs, is then a bad signature, as the originals answer it,
    /// rather than "not a signed URL".
    public func hasSignedShape(path: Substring, query: Substring?) -> Bool {
        guard path.utf8.first == UInt8(ascii: "/") else { return false }
        let parts = path.utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        if parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, formats.contains(.hex) || formats.contains(.base64) { return true }
        if parts.count == 1, !parts[0].isEmpty, formats.contains(.query), let query {
            return query.split(separator: "&").contains { $0.hasPrefix("url=") }
        }
        return false
    }

    /// Checks an http(s) URL and escapes the bytes a request line cannot carry.
    static func fetchable(_ bytes: [UInt8]) throws -> String {
        guard bytes.count <= 8192, String(validating: bytes, as: UTF8.self) != nil else {
            throw SigningError(.invalidTarget, "target is not valid UTF-8")
        }
        var escaped: [UInt8] = []
        escaped.reserveCapacity(bytes.count)
        for byte in bytes {
            if byte < 0x20 || byte == 0x7F { throw SigningError(.invalidTarget, "target contains control characters") }
            if byte == 0x20 || byte >= 0x80 {
                escaped += Array("%".utf8) + Array(Self.hex([byte]).uppercased().utf8)
            } else {
                escaped.append(byte)
            }
        }
        try URLSigner.checkTarget(escaped)
        return String(decoding: escaped, as: UTF8.self)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 15)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes hex, either case (go-camo accepts uppercase); `nil` for odd lengths or other characters.
    public static func hexDecode(_ text: some Collection<UInt8>) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        func value(_ char: UInt8) -> UInt8? {
            switch char {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): char - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): char - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): char - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var output: [UInt8] = []
        output.reserveCapacity(text.count / 2)
        var high: UInt8? = nil
        for char in text {
            guard let nibble = value(char) else { return nil }
            if let first = high {
                output.append(first << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return output
    }

    /// base64url with or without `=` padding, as go-camo accepts.
    public static func lenientBase64(_ text: some Collection<UInt8>) -> [UInt8]? {
        var trimmed = Array(text)
        while trimmed.last == UInt8(ascii: "=") { trimmed.removeLast() }
        guard trimmed.count + 3 >= text.count else { return nil }
        return Base64URL.decode(trimmed)
    }

    /// Decodes `%XX` escapes and `+` (as Node's `querystring` does); `nil` for a broken escape.
    public static func percentDecode(_ text: Substring) -> [UInt8]? {
        var output: [UInt8] = []
        var bytes = text.utf8.makeIterator()
        while let byte = bytes.next() {
            switch byte {
            case UInt8(ascii: "+"): output.append(0x20)
            case UInt8(ascii: "%"):
                guard let high = bytes.next(), let low = bytes.next(), let value = hexDecode([high, low]) else { return nil }
                output += value
            default: output.append(byte)
            }
        }
        return output
    }

    static func percentEncode(_ text: String) -> String {
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
        var output = ""
        for byte in text.utf8 {
            if unreserved.contains(byte) {
                output.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                output += "%" + hex([byte]).uppercased()
            }
        }
        return output
    }
}
