// SPDX-License-Identifier: Apache-2.0

extension URLSigner {
    /// Signs a target URL into a Moxy path.
    ///
    /// - Parameters:
    ///   - url: An absolute `http` or `https` URL; it is encoded byte for byte, never normalised.
    ///   - options: Key id, expiry and extension hint.
    /// - Returns: The path, e.g. `/<sig>/k2,e1767225600/aHR0cDovL2V4YW1wbGUuY29tL2EucG5n.png`.
    /// - Throws: ``SigningError`` (`invalidTarget`, `unknownKey`, `invalidOptions`).
    public func sign(_ url: String, options: SignOptions = SignOptions()) throws -> String {
        try URLSigner.checkTarget(Array(url.utf8))
        let keyID = options.keyID ?? defaultKeyID
        guard let key = keys[keyID] else {
            throw SigningError(.unknownKey, "no key with id '\(keyID)'")
        }
        if let ext = options.fileExtension, !URLSigner.isValidExtension(ext.utf8) {
            throw SigningError(.invalidOptions, "extension '\(ext)' must be 1-8 letters or digits")
        }
        var rest = ""
        // The k option is written only when it differs from the default: shorter URLs, same meaning.
        var written = options
        if written.keyID == defaultKeyID { written.keyID = nil }
        if let segment = written.segment { rest += "/" + segment }
        rest += "/" + Base64URL.encode(url.utf8)
        if let ext = options.fileExtension { rest += "." + ext }
        let signature = Base64URL.encode(key.mac(rest))
        return "/" + signature + rest
    }

    /// Checks that bytes form an absolute `http:` or `https:` URL with no spaces or controls, in UTF-8.
    static func checkTarget(_ bytes: [UInt8]) throws {
        func lower(_ index: Int) -> UInt8 { index < bytes.count ? bytes[index] | 0x20 : 0 }
        let isHTTP = lower(0) == UInt8(ascii: "h") && lower(1) == UInt8(ascii: "t") && lower(2) == UInt8(ascii: "t")
            && lower(3) == UInt8(ascii: "p")
        let schemeEnd = isHTTP && lower(4) == UInt8(ascii: "s") ? 5 : 4
        guard isHTTP, bytes.count > schemeEnd + 3, bytes[schemeEnd] == UInt8(ascii: ":"),
            bytes[schemeEnd + 1] == UInt8(ascii: "/"), bytes[schemeEnd + 2] == UInt8(ascii: "/")
        else {
            throw SigningError(.invalidTarget, "target must be an absolute http:// or https:// URL")
        }
        var isASCII = true
        for byte in bytes {
            if byte <= 0x20 || byte == 0x7F {
                throw SigningError(.invalidTarget, "target contains spaces or control characters")
            }
            if byte >= 0x80 { isASCII = false }
        }
        guard isASCII || String(validating: bytes, as: UTF8.self) != nil else {
            throw SigningError(.invalidTarget, "target is not valid UTF-8")
        }
    }

    static func isValidExtension(_ ext: some Collection<UInt8>) -> Bool {
        !ext.isEmpty && ext.count <= 8
            && ext.allSatisfy {
                ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z"))
                    || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
            }
    }
}
