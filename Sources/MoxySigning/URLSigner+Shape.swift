// SPDX-License-Identifier: Apache-2.0

extension URLSigner {
    /// Whether a path starts like a Moxy URL, `/<43 base64url characters>/…`, without checking the
    /// signature: for tools deciding whether a URL is already signed before paying for an HMAC.
    public static func hasSignedShape(_ path: some StringProtocol) -> Bool {
        let bytes = path.utf8
        guard bytes.count > 45, bytes.first == UInt8(ascii: "/"), bytes.dropFirst(44).first == UInt8(ascii: "/") else {
            return false
        }
        return bytes.dropFirst().prefix(43).allSatisfy { Base64URL.decodeTable[Int($0)] != 0xFF }
    }

    /// Whether `url` is a target ``sign(_:options:)`` accepts: an absolute `http://` or `https://`
    /// URL without spaces or control characters, in UTF-8. Also what a Moxy base URL must be.
    public static func isSignableTarget(_ url: String) -> Bool {
        (try? checkTarget(Array(url.utf8))) != nil
    }
}
