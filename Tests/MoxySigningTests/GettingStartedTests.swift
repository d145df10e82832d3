// SPDX-License-Identifier: Apache-2.0

import Foundation
import MoxySigning
import Testing

/// The code of the DocC article `GettingStarted.md`, as written there, so the article stays true.
@Suite struct GettingStartedTests {
    @Test func theArticlesCodeSignsAndVerifies() throws {
        let key = "the MOXY_KEY of your server"
        let signer = try URLSigner(keys: [SigningKey(id: "default", secret: key)])

        let path = try signer.sign("https://example.org/cat.png")
        let url = "https://img.example.com" + path
        #expect(url.hasPrefix("https://img.example.com/") && url.hasSuffix("/aHR0cHM6Ly9leGFtcGxlLm9yZy9jYXQucG5n"))
        #expect(path.split(separator: "/").first?.count == 43)

        let inADay = Int64(Date().timeIntervalSince1970) + 86_400
        let expiring = try signer.sign("https://example.org/cat.png", options: SignOptions(expires: inADay, fileExtension: "png"))
        #expect(expiring.contains("/e\(inADay)/") && expiring.hasSuffix(".png"))

        let rotating = try URLSigner(
            keys: [SigningKey(id: "default", secret: key), SigningKey(id: "2", secret: "new key")], defaultKeyID: "default")
        let withNewKey = try rotating.sign("https://example.org/cat.png", options: SignOptions(keyID: "2"))
        #expect(withNewKey.contains("/k2/aHR0cHM6"))

        let target = try signer.verify(path: path, now: Int64(Date().timeIntervalSince1970))
        #expect(target.url == "https://example.org/cat.png")
        #expect(try rotating.verify(path: withNewKey, now: 0).url == "https://example.org/cat.png")
        #expect(throws: SigningError.self) { try signer.verify(path: withNewKey, now: 0) }
        #expect(throws: SigningError.self) { try signer.verify(path: expiring, now: inADay) }
        #expect(throws: SigningError.self) { try signer.sign("javascript:alert(1)") }
    }
}

/// The shape and target checks that tools (`moxy warm`, `moxy rewrite`) use before signing.
@Suite struct SignedShapeTests {
    @Test func shapesAndTargets() throws {
        let signer = try URLSigner(keys: [SigningKey(id: "default", secret: "k")])
        let path = try signer.sign("http://example.com/a.png")
        #expect(URLSigner.hasSignedShape(path) && URLSigner.hasSignedShape(Substring(path)))
        #expect(!URLSigner.hasSignedShape("/images/cat.png"))
        #expect(!URLSigner.hasSignedShape("/" + String(repeating: "a", count: 43)))  // nothing after it
        #expect(!URLSigner.hasSignedShape("/" + String(repeating: "+", count: 43) + "/x"))
        #expect(URLSigner.isSignableTarget("https://img.example.com") && URLSigner.isSignableTarget("HTTP://a.example/x?y"))
        for bad in ["img.example.com", "ftp://a.example/", "http://a b/", "http://", "/relative"] {
            #expect(!URLSigner.isSignableTarget(bad), "\(bad)")
        }
    }
}
