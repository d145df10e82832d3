// SPDX-License-Identifier: Apache-2.0

import MoxySigning
import Testing

@Suite struct URLSignerTests {
    let signer: URLSigner

    init() throws {
        signer = try URLSigner(
            keys: [try SigningKey(id: "default", secret: "k-default"), try SigningKey(id: "2", secret: "k-two")],
            defaultKeyID: "default"
        )
    }

    @Test func roundTripWithEveryOption() throws {
        let url = "https://example.com/a b/../c.png?x=1&y=%2F"
            .replacingSpaces()
        let path = try signer.sign(url, options: SignOptions(keyID: "2", expires: 2_000_000_000, fileExtension: "png"))
        #expect(path.contains("/k2,e2000000000/"))
        #expect(path.hasSuffix(".png"))
        let target = try signer.verify(path: path, now: 1_000)
        #expect(target == VerifiedTarget(url: url, keyID: "2", expires: 2_000_000_000))
    }

    @Test func tamperedSignatureIsRefused() throws {
        let path = try signer.sign("http://example.com/a.png")
        let chars = Array(path)
        let flipped = chars[1] == "A" ? "B" : "A"
        let tampered = "/" + flipped + String(chars[2...])
        #expect(throws: SigningError(.badSignature, "")) { try signer.verify(path: tampered, now: 0) }
    }

    @Test func signaturesHaveExactlyOneEncoding() throws {
        let path = try signer.sign("http://example.com/a.png")
        var chars = Array(path)
        // The 43rd signature character carries 4 data bits and 2 spare bits; flip a spare bit.
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let index = alphabet.firstIndex(of: chars[43])!
        chars[43] = alphabet[index ^ 1]
        #expect(throws: SigningError(.badSignature, "")) { try signer.verify(path: String(chars), now: 0) }
    }

    @Test func tamperedTargetIsRefused() throws {
        let path = try signer.sign("http://example.com/a.png")
        let other = try signer.sign("http://example.com/b.png")
        let spliced = String(path.prefix(44)) + String(other.dropFirst(44))
        #expect(throws: SigningError(.badSignature, "")) { try signer.verify(path: spliced, now: 0) }
    }

    @Test func addedOptionsBreakTheSignature() throws {
        let path = try signer.sign("http://example.com/a.png")
        let withExpiry = String(path.prefix(44)) + "/e9999999999" + String(path.dropFirst(44))
        #expect(throws: SigningError(.badSignature, "")) { try signer.verify(path: withExpiry, now: 0) }
    }

    @Test func unknownKeyIDIsRefused() throws {
        let other = try URLSigner(keys: [try SigningKey(id: "9", secret: "k-nine")])
        let path = try other.sign("http://example.com/a.png", options: SignOptions(keyID: "9"))
        #expect(path.contains("/k9/") == false)  // 9 is that signer's default: no k option written
        let explicit = try URLSigner(keys: [try SigningKey(id: "x", secret: "a"), try SigningKey(id: "9", secret: "k-nine")])
            .sign("http://example.com/a.png", options: SignOptions(keyID: "9"))
        #expect(throws: SigningError(.unknownKey, "")) { try signer.verify(path: explicit, now: 0) }
    }

    @Test func rotationKeepsOldKeyURLsValid() throws {
        let path = try signer.sign("http://example.com/a.png", options: SignOptions(keyID: "2"))
        let rotated = try URLSigner(
            keys: [try SigningKey(id: "3", secret: "k-three"), try SigningKey(id: "2", secret: "k-two")],
            defaultKeyID: "3"
        )
        #expect(try rotated.verify(path: path, now: 0).url == "http://example.com/a.png")
    }

    @Test(arguments: [
        "", "/", "//", "/abc", "/sig/", "/sig/a/b/c", "/" + String(repeating: "A", count: 43) + "/",
        "/" + String(repeating: "A", count: 43) + "/x.p!g",
    ])
    func malformedPathsAreRefused(_ path: String) {
        #expect(throws: SigningError.self) { try signer.verify(path: path, now: 0) }
    }

    @Test(arguments: ["k2,k2", "e1,e2", "x1", "k", "e", "e-1", "k2,,e1", "e1234567890123"])
    func badOptionsAreRefused(_ options: String) {
        #expect(throws: SigningError(.invalidOptions, "")) { try SignOptions.parse(Array(options.utf8)) }
    }

    @Test(arguments: ["ftp://example.com/a", "example.com/a", "http://exa mple.com/", "javascript:alert(1)", "http://a/\u{7}"])
    func nonHTTPTargetsCannotBeSigned(_ url: String) {
        #expect(throws: SigningError(.invalidTarget, "")) { try signer.sign(url) }
    }

    @Test func keysAreValidated() {
        #expect(throws: SigningError(.invalidKey, "")) { try SigningKey(id: "", secret: "x") }
        #expect(throws: SigningError(.invalidKey, "")) { try SigningKey(id: "a/b", secret: "x") }
        #expect(throws: SigningError(.invalidKey, "")) { try SigningKey(id: "a", secret: "") }
        #expect(throws: SigningError(.invalidKey, "")) { try URLSigner(keys: []) }
        #expect(throws: SigningError(.invalidKey, "")) {
            try URLSigner(keys: [try SigningKey(id: "a", secret: "x"), try SigningKey(id: "a", secret: "y")])
        }
    }

    @Test func base64URLRoundTripsAndIsStrict() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let encoded = Base64URL.encode(bytes)
            #expect(!encoded.contains("=") && !encoded.contains("+") && !encoded.contains("/"))
            #expect(Base64URL.decode(Array(encoded.utf8)) == bytes)
        }
        #expect(Base64URL.decode(Array("aGk=".utf8)) == nil)
        #expect(Base64URL.decode(Array("a+b/".utf8)) == nil)
        #expect(Base64URL.decode(Array("abcde".utf8)) == nil)
        // Non-canonical: "aGk" is "hi"; "aGl" carries the same bytes plus non-zero spare bits.
        #expect(Base64URL.decode(Array("aGk".utf8)) == Array("hi".utf8))
        #expect(Base64URL.decode(Array("aGl".utf8)) == nil)
        #expect(Base64URL.decode(Array("aB".utf8)) == nil)
    }

    @Test func constantTimeComparison() {
        #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEquals([1, 2], [1, 2, 3]))
    }
}

extension String {
    func replacingSpaces() -> String { String(map { $0 == " " ? "_" : $0 }) }
}
