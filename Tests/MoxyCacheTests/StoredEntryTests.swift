// SPDX-License-Identifier: Apache-2.0

@testable import MoxyCache
import MoxySimulation
import NIOCore
import Testing

/// The stored-entry format (a disk file, a shared-tier value), without files.
@Suite struct StoredEntryTests {
    static func response(_ body: String = "image bytes", fields: [(name: String, value: String)]? = nil) -> CachedResponse {
        SampleResponse.make(body, fields: fields)
    }

    @Test func crc32cMatchesTheStandardCheckValue() {
        #expect(Array("123456789".utf8).withUnsafeBytes { CRC32C.checksum($0) } == 0xE306_9283)
        #expect([UInt8]().withUnsafeBytes { CRC32C.checksum($0) } == 0)
        var split = CRC32C()
        split.update(Array("1234".utf8))
        split.update(Array("56789".utf8))
        #expect(split.value == 0xE306_9283)
    }

    /// The CPU instruction and the portable tables agree on every length, offset and split.
    @Test func crc32cTheInstructionAndTheTablesAgree() {
        var random = SplitMix(state: 99)
        let bytes = (0..<4_200).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        var portableCheck = CRC32C()
        Array("123456789".utf8).withUnsafeBytes { portableCheck.updatePortably($0) }
        #expect(portableCheck.value == 0xE306_9283)
        bytes.withUnsafeBytes { all in
            for start in 0..<9 {
                for length in [0, 1, 7, 8, 9, 15, 16, 63, 64, 65, 1_000, 4_000] {
                    let slice = UnsafeRawBufferPointer(rebasing: all[start..<(start + length)])
                    var fast = CRC32C()
                    var portable = CRC32C()
                    fast.update(UnsafeRawBufferPointer(rebasing: slice[0..<(length / 3)]))
                    fast.update(UnsafeRawBufferPointer(rebasing: slice[(length / 3)...]))
                    portable.updatePortably(slice)
                    #expect(fast.value == portable.value, "offset \(start), length \(length)")
                }
            }
        }
    }

    @Test func anEntryRoundTripsWhole() throws {
        let key = "route:api\u{1}example.test/wp-json/wp/v2/posts?page=2"
        let original = StoredEntry(key: key, response: Self.response(), lastGoodUntil: 1_764_600_000)
        let decoded = try StoredEntry.decode(original.encode(), expectedKey: key)
        #expect(decoded.key == key && decoded.status == 200 && decoded.responseTime == 1_764_583_200)
        #expect(decoded.fields.map { "\($0.name): \($0.value)" } == original.fields.map { "\($0.name): \($0.value)" })
        #expect(decoded.body == ByteBuffer(string: "image bytes"))
        #expect(decoded.freshness == original.freshness && decoded.freshness.withheldFields == ["set-cookie"])
        #expect(decoded.downstreamMaxAge == 3600 && decoded.varyNames == ["accept-language"] && decoded.variantGeneration == nil)
        #expect(decoded.surrogateKeys == ["post-1", "author-7", "home"])
        #expect(decoded.lastGoodUntil == 1_764_600_000)
        let response = decoded.response
        #expect(response.head == Self.response().head, "the rebuilt response encodes the same head")
    }

    @Test func variantMarkersRoundTrip() throws {
        let marker = StoredEntry(key: "k", response: .variantMarker(names: ["accept-encoding", "accept-language"], generation: 42))
        let decoded = try StoredEntry.decode(marker.encode(), expectedKey: "k")
        #expect(decoded.response.variantGeneration == 42 && decoded.response.varyNames == ["accept-encoding", "accept-language"])
    }

    @Test func anotherKeyIsRefused() {
        let entry = StoredEntry(key: "https://a.example/x.png", response: Self.response())
        #expect(throws: StoredEntryError(.wrongKey)) { try StoredEntry.decode(entry.encode(), expectedKey: "https://b.example/x.png") }
    }

    /// Every single flipped bit and every truncation is detected, never decoded into an entry.
    @Test func everyFlippedBitAndEveryTruncationIsDetected() {
        let bytes = Array(StoredEntry(key: "k", response: Self.response("0123456789")).encode().readableBytesView)
        for index in bytes.indices {
            for bit in [0, 3, 7] {
                var damaged = bytes
                damaged[index] ^= 1 << bit
                #expect(throws: StoredEntryError.self, "bit \(bit) of byte \(index)") { try StoredEntry.decode(ByteBuffer(bytes: damaged), expectedKey: "k") }
            }
        }
        for length in 0..<bytes.count {
            #expect(throws: StoredEntryError.self, "truncated to \(length)") { try StoredEntry.decode(ByteBuffer(bytes: bytes[0..<length]), expectedKey: "k") }
        }
    }

    @Test func otherFilesAndVersionsAreRefusedWithTheirReason() {
        var bytes = Array(StoredEntry(key: "k", response: Self.response()).encode().readableBytesView)
        #expect(throws: StoredEntryError(.badMagic)) { try StoredEntry.decode(ByteBuffer(string: "GIF89a and then some more bytes"), expectedKey: "k") }
        bytes[5] = 3  // version 3
        #expect(throws: StoredEntryError(.unknownVersion)) { try StoredEntry.decode(ByteBuffer(bytes: bytes), expectedKey: "k") }
    }
}
