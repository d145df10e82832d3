// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxySimulation
@testable import MoxyStorage
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A disk hit sent by the kernel (`sendfile`): the regions of a stored file cover exactly the body's
/// bytes (the blocks' checksums left out), and only once every block they cover was checked.
@Suite struct DiskBodyFileRegionTests {
    @Test func regionsComeOnlyForCheckedBlocksAndHoldExactlyTheBody() async throws {
        try await DiskStoreTests.withStore { store, _ in
            // Three blocks and a bit: the regions must skip each block's checksum.
            let text = String(String(repeating: "abcdefghijklmnopqrstuvwxyz0123456789", count: 3 * StoredBlocks.blockSize / 36 + 100).prefix(3 * StoredBlocks.blockSize + 1234))
            let body = ByteBuffer(string: text)
            let length = body.readableBytes
            let key = "https://images.example.com/large.bin"
            #expect(await store.put(StoredEntry(key: key, response: SampleResponse.make(text))))
            guard case .large(_, let disk) = try #require(await store.read(key, inMemoryLimit: 1024)) else {
                Issue.record("a body over the limit stays on disk")
                return
            }
            #expect(disk.fileRegions(from: 0, to: length) == nil, "nothing checked yet")
            // Reading checks the blocks it reads; the second block alone is not enough for all.
            _ = try await disk.read(from: StoredBlocks.blockSize, maxLength: 10)
            #expect(disk.fileRegions(from: 0, to: length) == nil)
            let second = try #require(disk.fileRegions(from: StoredBlocks.blockSize + 5, to: StoredBlocks.blockSize + 500))
            #expect(try bytes(of: second) == Array(body.readableBytesView[(StoredBlocks.blockSize + 5)..<(StoredBlocks.blockSize + 500)]))
            try second.handle.close()
            var offset = 0
            while offset < length { offset += try await disk.read(from: offset, maxLength: length - offset).readableBytes }
            let whole = try #require(disk.fileRegions(from: 0, to: length))
            #expect(whole.regions.count == 4)
            #expect(try bytes(of: whole) == Array(body.readableBytesView))
            try whole.handle.close()
            // A range across a block boundary.
            let across = try #require(disk.fileRegions(from: StoredBlocks.blockSize - 3, to: StoredBlocks.blockSize + 3))
            #expect(try bytes(of: across) == Array(body.readableBytesView[(StoredBlocks.blockSize - 3)..<(StoredBlocks.blockSize + 3)]))
            try across.handle.close()
        }
    }

    /// The bytes the regions name, read with `pread` from their handle.
    private func bytes(of file: FileRegions) throws -> [UInt8] {
        try file.handle.withUnsafeFileDescriptor { descriptor in
            var out: [UInt8] = []
            for region in file.regions {
                var chunk = [UInt8](repeating: 0, count: region.readableBytes)
                let read = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, region.readableBytes, off_t(region.readerIndex)) }
                out += chunk.prefix(max(0, read))
            }
            return out
        }
    }
}
