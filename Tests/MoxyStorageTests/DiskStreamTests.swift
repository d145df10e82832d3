// SPDX-License-Identifier: Apache-2.0

import Foundation
import MoxyCache
@testable import MoxyStorage
import MoxySimulation
import NIOCore
import Testing

/// Entries whose body streams in and out block by block: the writer, readers of the growing
/// file, large published bodies read without holding them, and damage found block by block.
@Suite struct DiskStreamTests {
    static let key = "https://videos.example.com/big.mp4"

    static func bytes(_ count: Int, seed: UInt64 = 7) -> [UInt8] {
        var random = SplitMix(state: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    static func header(_ key: String = key) -> StoredEntry {
        StoredEntry(key: key, response: SampleResponse.make("", fields: [("Content-Type", "video/mp4")]))
    }

    /// Everything a body source yields, in reads of at most `chunk` bytes.
    static func drain(_ source: some BodySource, from start: Int = 0, chunk: Int = 100_000) async throws -> [UInt8] {
        var collected: [UInt8] = []
        var offset = start
        while true {
            let piece = try await source.read(from: offset, maxLength: chunk)
            if piece.readableBytes == 0 { return collected }
            collected += piece.readableBytesView
            offset += piece.readableBytes
        }
    }

    /// Writes `body` in uneven pieces.
    static func write(_ body: [UInt8], to writer: DiskWriter) async throws {
        var offset = 0
        var step = 1
        while offset < body.count {
            let end = min(body.count, offset + step)
            try await writer.append(ByteBuffer(bytes: body[offset..<end]))
            offset = end
            step = step * 3 + 17
        }
    }

    @Test func aStreamedBodyIsReadWhileItIsWrittenAndAfterItIsPublished() async throws {
        try await DiskStoreTests.withStore { store, directory in
            let body = Self.bytes(3 * StoredBlocks.blockSize + 12_345)
            let writer = try #require(await store.beginWrite(Self.header(), declaredLength: body.count))
            #expect(writer.body.length == body.count && writer.body.isGrowing)
            // A reader that starts before the first byte follows the growing file to its end.
            async let followed = Self.drain(writer.body)
            try await Self.write(body, to: writer)
            #expect(await writer.finish())
            #expect(try await followed == body)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/tmp").isEmpty)

            // Published: read back without the body in memory, and whole.
            guard case .large(let entry, let large) = await store.read(Self.key, inMemoryLimit: 100_000) else {
                Issue.record("expected a large entry")
                return
            }
            #expect(entry.fields.first { $0.name == "Content-Type" }?.value == "video/mp4" && entry.body.readableBytes == 0)
            #expect(large.length == body.count && !large.isGrowing)
            #expect(try await Self.drain(large) == body)
            #expect(try await Self.drain(large, from: StoredBlocks.blockSize - 10, chunk: 70_000) == Array(body[(StoredBlocks.blockSize - 10)...]))
            #expect(await store.get(Self.key)?.body == ByteBuffer(bytes: body))
            let size = try FileManager.default.attributesOfItem(atPath: store.location(of: Self.key))[.size] as! UInt64
            let block = try #require(DiskStore.blockSize(at: NSTemporaryDirectory()))
            #expect(store.stats.entries == 1 && store.stats.bytes == (Int(size) + block - 1) / block * block, "charged in whole blocks")
        }
    }

    @Test func anAbandonedWriteLeavesNothingAndItsReadersFail() async throws {
        try await DiskStoreTests.withStore { store, directory in
            let writer = try #require(await store.beginWrite(Self.header(), declaredLength: nil))
            #expect(writer.body.length == nil)
            try await writer.append(ByteBuffer(bytes: Self.bytes(StoredBlocks.blockSize + 5)))
            let first = try await writer.body.read(from: 0, maxLength: .max)
            #expect(first.readableBytes == StoredBlocks.blockSize, "a full block is readable at once")
            async let waiting: (any Error)? = {
                do {
                    _ = try await writer.body.read(from: StoredBlocks.blockSize, maxLength: .max)
                    return nil
                } catch {
                    return error
                }
            }()
            await writer.abort()
            #expect(await waiting as? StoredEntryError == StoredEntryError(.truncated))
            #expect(await store.get(Self.key) == nil)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/tmp").isEmpty)
            #expect(store.stats.entries == 0 && store.stats.writes == 0)
        }
    }

    @Test func aDamagedBlockIsNeverReturnedAndTheFileGoes() async throws {
        try await DiskStoreTests.withStore { store, _ in
            let body = Self.bytes(3 * StoredBlocks.blockSize)
            let writer = try #require(await store.beginWrite(Self.header(), declaredLength: nil))
            try await Self.write(body, to: writer)
            #expect(await writer.finish())
            guard case .large(_, let large) = await store.read(Self.key, inMemoryLimit: 0) else {
                Issue.record("expected a large entry")
                return
            }
            // One byte of the third block changes on disk after the lookup.
            let path = store.location(of: Self.key)
            let handle = try #require(FileHandle(forUpdatingAtPath: path))
            try handle.seek(toOffset: UInt64(large.bodyOffset + StoredBlocks.offset(ofBlock: 2) + 100))
            let original = try #require(try handle.read(upToCount: 1)?.first)
            try handle.seek(toOffset: UInt64(large.bodyOffset + StoredBlocks.offset(ofBlock: 2) + 100))
            handle.write(Data([original ^ 0x40]))
            try handle.close()
            #expect(try await large.read(from: 0, maxLength: .max) == ByteBuffer(bytes: body[0..<StoredBlocks.blockSize]))
            await #expect(throws: StoredEntryError(.badChecksum)) { try await large.read(from: 2 * StoredBlocks.blockSize, maxLength: .max) }
            #expect(!FileManager.default.fileExists(atPath: path) && store.stats.corrupt[.badChecksum] == 1)
        }
    }

    @Test func aTruncatedLargeFileIsRefusedAtItsLookup() async throws {
        try await DiskStoreTests.withStore { store, _ in
            let writer = try #require(await store.beginWrite(Self.header(), declaredLength: nil))
            try await Self.write(Self.bytes(2 * StoredBlocks.blockSize + 1), to: writer)
            #expect(await writer.finish())
            let path = store.location(of: Self.key)
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! UInt64
            truncate(path, off_t(size - 1))
            #expect(await store.read(Self.key, inMemoryLimit: 0) == nil)
            #expect(store.stats.corrupt[.truncated] == 1 && !FileManager.default.fileExists(atPath: path))
        }
    }
}
