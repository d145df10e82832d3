// SPDX-License-Identifier: Apache-2.0

import Foundation
import MoxyCache
@testable import MoxyStorage
import NIOCore
import Testing

/// The disk tier's files, on a real directory.
@Suite struct DiskStoreTests {
    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "moxy-disk-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func withStore(_ body: (DiskStore, String) async throws -> Void) async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await body(DiskStore(directory: directory), directory)
    }

    @Test func entriesAreWrittenUnderTheirHashAndReadBack() async throws {
        try await Self.withStore { store, directory in
            let key = "https://images.example.com/a.png"
            #expect(await store.get(key) == nil)
            #expect(await store.put(DiskEntry(key: key, response: DiskEntryTests.response())))
            let path = store.location(of: key)
            let name = DiskStore.hexDigest(key)
            #expect(path == "\(directory)/\(name.suffix(1))/\(name.dropLast().suffix(2))/\(name)")
            #expect(FileManager.default.fileExists(atPath: path))
            let entry = try #require(await store.get(key))
            #expect(entry.body == ByteBuffer(string: "image bytes"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/tmp").isEmpty, "no temporary file is left")
            #expect(store.stats.writes == 1 && store.stats.hits == 1 && store.stats.misses == 1)
        }
    }

    @Test func aSecondWriteReplacesTheFirstWhole() async throws {
        try await Self.withStore { store, _ in
            let key = "k"
            await store.put(DiskEntry(key: key, response: DiskEntryTests.response(String(repeating: "a", count: 10_000))))
            await store.put(DiskEntry(key: key, response: DiskEntryTests.response("short")))
            let replaced = await store.get(key)
            #expect(replaced?.body == ByteBuffer(string: "short"))
            await store.remove(key)
            #expect(await store.get(key) == nil)
        }
    }

    /// Damaged files (a flipped byte, a truncation, another file put in its place, another key's
    /// entry under this name) are detected, deleted, counted, and never returned.
    @Test func damagedFilesAreDetectedDeletedAndCounted() async throws {
        try await Self.withStore { store, _ in
            let keys = ["flip", "cut", "other", "moved"]
            for key in keys + ["donor"] { await store.put(DiskEntry(key: key, response: DiskEntryTests.response("body of \(key)"))) }
            func path(_ key: String) -> String { store.location(of: key) }
            var flipped = try Data(contentsOf: URL(fileURLWithPath: path("flip")))
            flipped[flipped.count - 10] ^= 0x40
            try flipped.write(to: URL(fileURLWithPath: path("flip")))
            let whole = try Data(contentsOf: URL(fileURLWithPath: path("cut")))
            try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: path("cut")))
            try Data("<html>not an entry</html>".utf8).write(to: URL(fileURLWithPath: path("other")))
            try FileManager.default.removeItem(atPath: path("moved"))
            try FileManager.default.copyItem(atPath: path("donor"), toPath: path("moved"))

            for key in keys { #expect(await store.get(key) == nil, "\(key) is not served") }
            for key in keys { #expect(!FileManager.default.fileExists(atPath: path(key)), "\(key) is deleted") }
            let corrupt = store.stats.corrupt
            #expect(corrupt.values.reduce(0, +) == 4, "\(corrupt)")
            #expect(corrupt[.badMagic] == 1 && corrupt[.wrongKey] == 1 && corrupt[.badChecksum, default: 0] >= 1, "\(corrupt)")
            #expect(await store.get("donor")?.body == ByteBuffer(string: "body of donor"), "the file's own key still reads it")
        }
    }

    @Test func aDirectoryThatCannotBeWrittenFailsTheWriteAndIsCounted() async throws {
        let store = DiskStore(directory: "/proc/moxy-cannot-write-here")
        #expect(await store.put(DiskEntry(key: "k", response: DiskEntryTests.response())) == false)
        #expect(store.stats.writeErrors == 1)
        #expect(await store.get("k") == nil)
    }
}
