// SPDX-License-Identifier: Apache-2.0

import Crypto
import MoxyHTTP

/// What the admin listener reads from the wire before anything is trusted: form-encoded
/// parameters and the credentials of `Authorization`. Pure; public as SPI for the fuzz targets
/// (`@_spi(Fuzzing) import MoxyServer`).
public enum AdminWire {
    /// `application/x-www-form-urlencoded` pairs (`+` is a space, `%XX` a byte).
    @_spi(Fuzzing) public static func form(_ text: Substring) -> [(name: String, value: String)] {
        text.split(separator: "&").map { pair in
            let halves = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (PercentEncoding.decode(halves[0], plusIsSpace: true), halves.count > 1 ? PercentEncoding.decode(halves[1], plusIsSpace: true) : "")
        }
    }

    /// The token in `Authorization: Bearer TOKEN`, or the password of `Basic` credentials.
    /// Split at the first space byte, not by `Character`: a token that starts with a combining
    /// mark would otherwise fuse with the space (FuzzAdminWire found it).
    @_spi(Fuzzing) public static func offeredToken(_ field: String?) -> [UInt8]? {
        guard let field else { return nil }
        let bytes = Array(field.utf8).drop { $0 == UInt8(ascii: " ") }
        guard let space = bytes.firstIndex(of: UInt8(ascii: " ")) else { return nil }
        let credentials = bytes[(space + 1)...]
        guard !credentials.isEmpty else { return nil }
        switch String(decoding: bytes[..<space], as: UTF8.self).lowercased() {
        case "bearer": return Array(credentials)
        case "basic":
            guard let decoded = Base64.decode(String(decoding: credentials, as: UTF8.self)), let colon = decoded.firstIndex(of: UInt8(ascii: ":"))
            else { return nil }
            return Array(decoded[(colon + 1)...])
        default: return nil
        }
    }

    /// Equal bytes, compared in time that depends only on the lengths (HMACs of both, so not
    /// even the length leaks through an early exit).
    @_spi(Fuzzing) public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        let key = SymmetricKey(size: .bits256)
        let left = HMAC<SHA256>.authenticationCode(for: a, using: key)
        let right = HMAC<SHA256>.authenticationCode(for: b, using: key)
        return left == right
    }
}
