// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxySharedTier
import NIOCore
import Testing

/// The shared entry's metadata, without Redis: a torn, mixed or foreign value is never a body.
@Suite struct SharedEntryMetaTests {
    static func file(_ length: Int) -> ByteBuffer {
        ByteBuffer(bytes: (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) })
    }

    @Test func aSmallFileTravelsInline() throws {
        let file = Self.file(1_000)
        let meta = SharedEntryMeta(file: file, writeID: 7, chunkSize: 4_096)
        #expect(meta.chunkCount == 0 && meta.inline == file)
        let read = try #require(SharedEntryMeta(decoding: meta.encode(), maxLength: 1 << 20))
        #expect(read == meta && read.matches(file))
    }

    @Test func aLargeFileIsCutIntoChunksThatMustAllMatch() throws {
        let file = Self.file(10_000)
        let meta = SharedEntryMeta(file: file, writeID: 9, chunkSize: 4_096)
        #expect(meta.chunkCount == 3 && meta.inline == nil)
        let chunks = SharedEntryMeta.chunks(of: file, size: 4_096)
        #expect(chunks.map(\.readableBytes) == [4_096, 4_096, 1_808])
        var whole = ByteBuffer()
        for var chunk in chunks { whole.writeBuffer(&chunk) }
        #expect(meta.matches(whole))
        // A chunk of another write (same length, other bytes) is caught.
        var mixed = ByteBuffer()
        for (index, var chunk) in chunks.enumerated() {
            if index == 1 { chunk = ByteBuffer(repeating: 0, count: 4_096) }
            mixed.writeBuffer(&chunk)
        }
        #expect(!meta.matches(mixed))
        #expect(!meta.matches(file.getSlice(at: 0, length: 9_999)!))
    }

    @Test func valuesThatAreNotMetadataAreRefused() {
        let meta = SharedEntryMeta(file: Self.file(100), writeID: 1, chunkSize: 4_096).encode()
        #expect(SharedEntryMeta(decoding: ByteBuffer(string: "hello"), maxLength: 1 << 20) == nil)
        #expect(SharedEntryMeta(decoding: meta.getSlice(at: 0, length: meta.readableBytes - 1)!, maxLength: 1 << 20) == nil, "truncated")
        #expect(SharedEntryMeta(decoding: meta, maxLength: 50) == nil, "longer than allowed")
        let chunked = SharedEntryMeta(file: Self.file(10_000), writeID: 1, chunkSize: 4_096).encode()
        var trailing = chunked
        trailing.writeString("x")
        #expect(SharedEntryMeta(decoding: trailing, maxLength: 1 << 20) == nil, "bytes after a chunked entry's metadata")
    }

    @Test func anEntrysKeysShareOneHashTag() {
        let keys = SharedKeys(prefix: "moxy:")
        let key = "route:api example.com /v1/posts"
        let tag = keys.tag(key)
        #expect(tag.hasPrefix("{") && tag.hasSuffix("}") && tag.count == 18)
        for name in [keys.meta(key), keys.chunk(key, writeID: 1, index: 3), keys.fill(key)] {
            #expect(name.hasPrefix("moxy:" + tag + ":"))
        }
        #expect(keys.surrogate("post-1") == "moxy:tag:post-1")
    }
}
