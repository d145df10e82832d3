// SPDX-License-Identifier: Apache-2.0

@testable import MoxySigning
import Testing

/// Verified paths kept by a signer: a repeat is answered from them, and nothing else is.
@Suite struct VerifiedPathsTests {
    let signer = try! URLSigner(keys: [try! SigningKey(id: "default", secret: "k-default")])

    @Test func aRepeatIsTheSameTargetAndItsExpiryStillHolds() throws {
        let path = try signer.sign("http://example.com/a.png", options: SignOptions(expires: 2_000))
        let first = try signer.verify(path: path, now: 1_000)
        #expect(signer.verified.usage.count == 1)
        #expect(try signer.verify(path: path, now: 1_999) == first)
        #expect(throws: SigningError(.expired, "")) { try signer.verify(path: path, now: 2_000) }
    }

    @Test func aPathOneByteAwayFromAKeptOneIsStillRefused() throws {
        let path = try signer.sign("http://example.com/a.png")
        _ = try signer.verify(path: path, now: 0)
        var bytes = Array(path.utf8)
        for index in [1, 20, 43, bytes.count - 1] {
            let original = bytes[index]
            bytes[index] = original == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            #expect(throws: SigningError.self) { try signer.verify(path: String(decoding: bytes, as: UTF8.self), now: 0) }
            bytes[index] = original
        }
        #expect(signer.verified.usage.count == 1, "refusals are never kept")
    }

    @Test func anotherSignerDoesNotShareThem() throws {
        let path = try signer.sign("http://example.com/a.png")
        _ = try signer.verify(path: path, now: 0)
        let rotated = try URLSigner(keys: [try SigningKey(id: "default", secret: "another")])
        #expect(throws: SigningError(.badSignature, "")) { try rotated.verify(path: path, now: 0) }
    }

    @Test func theSetStaysWithinItsBudget() throws {
        for index in 0..<20_000 {
            _ = try signer.verify(path: try signer.sign("http://example.com/\(index).png"), now: 0)
        }
        let usage = signer.verified.usage
        #expect(usage.bytes <= VerifiedPaths.budget && usage.count > 0 && usage.count <= VerifiedPaths.slotCount)
    }
}
