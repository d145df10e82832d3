// SPDX-License-Identifier: Apache-2.0

import MoxySigning
import Testing

/// Random and mutated inputs: verification must never crash and never accept anything unsigned.
@Suite struct RandomInputTests {
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state
        }
    }

    @Test func randomPathsNeverVerify() throws {
        let signer = try URLSigner(keys: [try SigningKey(id: "default", secret: "fuzz")])
        var random = Generator(state: 42)
        let alphabet = Array("ABCabc019-_/,.ke%?#\u{0}\u{7f}é".unicodeScalars)
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...120, using: &random)
            var path = "/"
            for _ in 0..<length { path.unicodeScalars.append(alphabet.randomElement(using: &random)!) }
            #expect(throws: SigningError.self) { try signer.verify(path: path, now: 0) }
        }
    }

    @Test func everySingleByteMutationOfAValidPathIsRefused() throws {
        let signer = try URLSigner(keys: [try SigningKey(id: "default", secret: "fuzz"), try SigningKey(id: "7", secret: "seven")])
        let path = Array(try signer.sign("https://example.com/a.png?x=1", options: SignOptions(keyID: "7", expires: 9_999_999_999)).utf8)
        let replacements = Array("Aa0-_/,.ek7".utf8)
        for index in path.indices.dropFirst() {
            for replacement in replacements where replacement != path[index] {
                var mutated = path
                mutated[index] = replacement
                let text = String(decoding: mutated, as: UTF8.self)
                #expect(throws: SigningError.self, "\(text)") { try signer.verify(path: text, now: 0) }
            }
        }
        #expect(try signer.verify(path: String(decoding: path, as: UTF8.self), now: 0).url == "https://example.com/a.png?x=1")
    }
}
