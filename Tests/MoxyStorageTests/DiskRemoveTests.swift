// SPDX-License-Identifier: Apache-2.0

import Foundation
import MoxyCache
import MoxySimulation
@testable import MoxyStorage
import NIOConcurrencyHelpers
import Testing

/// Removing a key from the disk tier: every answer that may not be stored invalidates its key, so
/// a key the complete index does not hold must cost no trip to the file system, and a key that
/// may have a file (indexed, being published, being checked, or not loaded yet) must lose it.
@Suite struct DiskRemoveTests {
    @Test func whetherAFileMayBeOnDiskIsDecidedFromTheIndexAndTheUnsettledFiles() {
        var state = DiskStore.State()
        #expect(state.mayHoldFile(1), "before the loader finished, any key may have a file")
        state.indexComplete = true
        #expect(!state.mayHoldFile(1))
        state.index.insert(1, size: 10)
        #expect(state.mayHoldFile(1))
        state.index.remove(1)
        state.unsettle(2)
        state.unsettle(2)
        #expect(state.mayHoldFile(2))
        state.settle(2)
        #expect(state.mayHoldFile(2), "one of two publishers is still between its rename and its indexing")
        state.settle(2)
        #expect(!state.mayHoldFile(2) && state.unsettled.isEmpty)
    }

    @Test func removalsDeleteWhatMayBeThereAndSkipWhatTheLoadedIndexDoesNotHold() async throws {
        let directory = DiskStoreTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = DiskStore(directory: directory)
        #expect(await writer.put(StoredEntry(key: "a", response: SampleResponse.make())))
        #expect(await writer.put(StoredEntry(key: "b", response: SampleResponse.make())))

        // A store that has not loaded its index yet deletes the file of any key it is told to remove.
        let unloaded = DiskStore(directory: directory)
        await unloaded.remove("a")
        #expect(!FileManager.default.fileExists(atPath: unloaded.location(of: "a")))

        let loaded = DiskStore(directory: directory)
        _ = await loaded.load()
        // A file the complete index does not know (put there behind the store's back) is not looked at...
        let stray = loaded.location(of: "stray")
        try FileManager.default.createDirectory(atPath: (stray as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: stray, contents: Data("not an entry".utf8)))
        await loaded.remove("stray")
        #expect(FileManager.default.fileExists(atPath: stray))
        // ...while an indexed file (found by the loader, or written since) is deleted.
        await loaded.remove("b")
        #expect(!FileManager.default.fileExists(atPath: loaded.location(of: "b")))
        #expect(await loaded.put(StoredEntry(key: "c", response: SampleResponse.make())))
        await loaded.remove("c")
        #expect(!FileManager.default.fileExists(atPath: loaded.location(of: "c")))
        #expect(await loaded.get("c") == nil)
        #expect(loaded.state.withLockedValue { $0.unsettled.isEmpty })
    }

    @Test func aStoreWhoseDirectoryDoesNotExistYetHasACompleteIndex() async {
        let store = DiskStore(directory: "/tmp/moxy-remove-missing-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        _ = await store.load()
        #expect(store.state.withLockedValue { $0.indexComplete })
    }
}
