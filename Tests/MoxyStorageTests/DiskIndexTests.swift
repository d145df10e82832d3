// SPDX-License-Identifier: Apache-2.0

@testable import MoxyStorage
import Testing

/// The disk tier's in-memory index and its CLOCK eviction, without files.
@Suite struct DiskIndexTests {
    @Test func bytesFollowInsertsReplacementsAndRemovals() {
        var index = DiskIndex()
        index.insert(1, size: 100)
        index.insert(2, size: 50)
        index.insert(1, size: 30)
        #expect(index.bytes == 80 && index.count == 2)
        index.remove(2)
        index.remove(2)
        #expect(index.bytes == 30 && index.count == 1)
        index.insertIfAbsent(1, size: 999)
        #expect(index.bytes == 30, "a file found at start-up does not replace a newer write")
    }

    @Test func theClockEvictsTheOldestUnreadFirstAndPassesOverReadOnes() {
        var index = DiskIndex()
        for hash in 1...5 { index.insert(UInt64(hash), size: 10) }
        index.touch(1)
        index.touch(2)
        let victims = index.victims(downTo: 30, limit: 100)
        #expect(victims == [3, 4], "1 and 2 were read: passed over once")
        #expect(index.bytes == 30 && index.count == 3)
        let more = index.victims(downTo: 0, limit: 2)
        #expect(more.count == 2 && index.count == 1, "bounded batches")
    }

    @Test func removedHashesInTheRingAreSkipped() {
        var index = DiskIndex()
        for hash in 1...3 { index.insert(UInt64(hash), size: 10) }
        index.remove(1)
        #expect(index.victims(downTo: 10, limit: 10) == [2])
    }

    @Test func fileNamesGiveTheirHash() {
        #expect(DiskIndex.hash(fileName: "00000000000000ff") == 255)
        #expect(DiskIndex.hash(fileName: "notahash") == nil)
        #expect(DiskIndex.hash(fileName: String(repeating: "g", count: 16)) == nil)
        let name = DiskStore.hexDigest("https://example.test/a.png")
        #expect(DiskIndex.hash(fileName: name) == DiskStore.hash("https://example.test/a.png"))
    }
}
