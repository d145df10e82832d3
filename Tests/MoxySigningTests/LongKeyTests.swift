// SPDX-License-Identifier: Apache-2.0

import Crypto
import MoxySigning
import Testing

/// RFC 2104: a key longer than the hash's block (64 bytes for SHA-256) is hashed first. The signer
/// precomputes its inner and outer states, so keys around and past the block are checked against
/// swift-crypto's own HMAC (issue 21: the claim was untested).
@Suite struct LongKeyTests {
    @Test(arguments: [1, 32, 63, 64, 65, 100, 300])
    func signaturesMatchHMACForEveryKeyLength(_ length: Int) throws {
        let secret = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let signer = try URLSigner(keys: [try SigningKey(id: "default", secretBytes: secret)], defaultKeyID: "default")
        let url = "https://images.example.com/a/b.png?size=large"
        let path = try signer.sign(url)
        let signature = path.dropFirst().prefix { $0 != "/" }
        let message = path.dropFirst(1 + signature.count)
        let expected = HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: SymmetricKey(data: secret))
        #expect(String(signature) == Base64URL.encode(Array(expected)), "key of \(length) bytes")
        #expect(try signer.verify(path: Substring(path), now: 0).url == url)
        // A key that differs only past the 64th byte is another key.
        if length > 64 {
            var other = secret
            other[length - 1] ^= 1
            let otherSigner = try URLSigner(keys: [try SigningKey(id: "default", secretBytes: other)], defaultKeyID: "default")
            #expect(throws: SigningError.self) { try otherSigner.verify(path: Substring(path), now: 0) }
        }
    }
}
