// SPDX-License-Identifier: Apache-2.0

import MoxyCache
@testable import MoxyStorage
import MoxySimulation
import NIOCore
import Testing

/// The disk tier's file format, without files.
@Suite struct DiskEntryTests {
    static func response(_ body: String = "image bytes", fields: [(name: String, value: String)]? = nil) -> CachedResponse {
        var freshness = Freshness(
            lifetime: 3600, initialAge: 12, isExplicit: true, mustRevalidate: true, staleWhileRevalidate: 30, staleIfError: 600,
            staleIfErrorFromOrigin: true, immutable: false, maxStale: 900)
        freshness.withheldFields = ["set-cookie"]
        return CachedResponse(
            status: 200,
            fields: fields ?? [("Date", "Tue, 01 Dec 2026 10:00:00 GMT"), ("Content-Type", "image/png"), ("ETag", "\"v1\""),
                               ("Cache-Control", "max-age=3600"), ("Surrogate-Key", "post-1 author-7"), ("Cache-Tag", "post-1,home")],
            body: ByteBuffer(string: body), responseTime: 1_764_583_200, freshness: freshness, downstreamMaxAge: 3600,
            varyNames: ["accept-language"])
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
        let original = DiskEntry(key: key, response: Self.response(), lastGoodUntil: 1_764_600_000)
        let decoded = try DiskEntry.decode(original.encode(), expectedKey: key)
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
        let marker = DiskEntry(key: "k", response: .variantMarker(names: ["accept-encoding", "accept-language"], generation: 42))
        let decoded = try DiskEntry.decode(marker.encode(), expectedKey: "k")
        #expect(decoded.response.variantGeneration == 42 && decoded.response.varyNames == ["accept-encoding", "accept-language"])
    }

    @Test func anotherKeyIsRefused() {
        let entry = DiskEntry(key: "https://a.example/x.png", response: Self.response())
        #expect(throws: DiskEntryError(.wrongKey)) { try DiskEntry.decode(entry.encode(), expectedKey: "https://b.example/x.png") }
    }

    /// Every single flipped bit and every truncation is detected, never decoded into an entry.
    @Test func everyFlippedBitAndEveryTruncationIsDetected() {
        let bytes = Array(DiskEntry(key: "k", response: Self.response("0123456789")).encode().readableBytesView)
        for index in bytes.indices {
            for bit in [0, 3, 7] {
                var damaged = bytes
                damaged[index] ^= 1 << bit
                #expect(throws: DiskEntryError.self, "bit \(bit) of byte \(index)") { try DiskEntry.decode(ByteBuffer(bytes: damaged), expectedKey: "k") }
            }
        }
        for length in 0..<bytes.count {
            #expect(throws: DiskEntryError.self, "truncated to \(length)") { try DiskEntry.decode(ByteBuffer(bytes: bytes[0..<length]), expectedKey: "k") }
        }
    }

    @Test func otherFilesAndVersionsAreRefusedWithTheirReason() {
        var bytes = Array(DiskEntry(key: "k", response: Self.response()).encode().readableBytesView)
        #expect(throws: DiskEntryError(.badMagic)) { try DiskEntry.decode(ByteBuffer(string: "GIF89a and then some more bytes"), expectedKey: "k") }
        bytes[5] = 3  // version 3
        #expect(throws: DiskEntryError(.unknownVersion)) { try DiskEntry.decode(ByteBuffer(bytes: bytes), expectedKey: "k") }
    }
}
