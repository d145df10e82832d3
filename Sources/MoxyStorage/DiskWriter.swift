// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import NIOConcurrencyHelpers
public import NIOCore
import _NIOFileSystem

/// Writes one entry whose body arrives in pieces (a large object streaming from the upstream):
/// the header first, each block with its checksum as soon as it is full, the last block and the
/// header with the real length at the end, then `rename(2)` to the entry's name. Until then the
/// file is only under `tmp/`, so an abandoned or crashed write never becomes an entry.
///
/// Memory stays at about one block whatever the body's size. Used by one task at a time (the
/// download), while any number of readers follow the growing file through ``body``.
public final class DiskWriter: Sendable {
    private let store: DiskStore
    private let header: StoredEntry
    private let hash: UInt64
    private let path: FilePath
    private let temporary: FilePath
    private let handle: WriteFileHandle
    private let bodyOffset: Int
    let progress: DiskWriteProgress
    /// Readers of the growing file (one descriptor shared by all of them).
    public let body: DiskBody

    private struct State {
        var pending = ByteBuffer()
        var blocks = 0
        var length = 0
        var ended = false
        var withdrawn = false
    }

    private let state = NIOLockedValueBox(State())

    init(
        store: DiskStore, header: StoredEntry, hash: UInt64, path: FilePath, temporary: FilePath, handle: WriteFileHandle,
        bodyOffset: Int, progress: DiskWriteProgress, body: DiskBody
    ) {
        self.store = store
        self.header = header
        self.hash = hash
        self.path = path
        self.temporary = temporary
        self.handle = handle
        self.bodyOffset = bodyOffset
        self.progress = progress
        self.body = body
    }

    /// Body bytes received so far.
    public var length: Int { state.withLockedValue { $0.length } }

    /// Adds body bytes; full blocks are written at once.
    /// - Throws: When the file cannot be written (the caller then calls ``abort()``).
    public func append(_ chunk: ByteBuffer) async throws {
        var ready: [(block: Int, bytes: ByteBuffer)] = []
        state.withLockedValue { state in
            state.pending.writeImmutableBuffer(chunk)
            state.length += chunk.readableBytes
            while state.pending.readableBytes >= StoredBlocks.blockSize {
                ready.append((state.blocks + ready.count, state.pending.readSlice(length: StoredBlocks.blockSize)!))
            }
            if !ready.isEmpty { state.pending.discardReadBytes() }
        }
        for (index, bytes) in ready {
            do {
                try await writeBlock(index, bytes)
            } catch {
                store.writeFailed(error)
                throw error
            }
            state.withLockedValue { $0.blocks = index + 1 }
            progress.advance(to: index + 1)
        }
    }

    /// Keeps the file from being published (the entry was invalidated or replaced meanwhile):
    /// readers still get the whole body, later lookups do not find it.
    public func withdraw() {
        state.withLockedValue { $0.withdrawn = true }
    }

    /// Writes the last block and the header with the body's length, and publishes the file under
    /// the entry's name (unless it was withdrawn).
    /// - Returns: Whether the entry was published (a failure removes the temporary file).
    public func finish() async -> Bool {
        let (last, index, length) = state.withLockedValue { state in
            state.ended = true
            return (state.pending, state.blocks, state.length)
        }
        defer { state.withLockedValue { $0.pending = ByteBuffer() } }
        do {
            if last.readableBytes > 0 { try await writeBlock(index, last) }
            progress.finish(length: length)
            try await handle.write(contentsOf: header.encodeHeader(bodyLength: length), toAbsoluteOffset: 0)
            try await handle.setTimes(lastAccess: nil, lastDataModification: DiskStore.modificationTime(usableUntil: header.usableUntil))
            closeNow(handle)
        } catch {
            store.writeFailed(error)
            await fail()
            return false
        }
        guard !state.withLockedValue({ $0.withdrawn }) else {
            await store.abandon(temporary)
            return false
        }
        return await store.publish(
            temporary, as: path, hash: hash, size: bodyOffset + StoredBlocks.storedLength(ofBody: length), usableUntil: header.usableUntil)
    }

    /// Gives the write up: readers of the growing file fail, the temporary file is removed.
    public func abort() async {
        let ended = state.withLockedValue { state -> Bool in
            defer { state.ended = true }
            return state.ended
        }
        guard !ended else { return }
        await fail()
    }

    private func fail() async {
        progress.fail()
        closeNow(handle)
        await store.abandon(temporary)
    }

    private func writeBlock(_ index: Int, _ bytes: ByteBuffer) async throws {
        var stored = ByteBuffer()
        stored.reserveCapacity(bytes.readableBytes + 4)
        StoredBlocks.write(bytes, into: &stored)
        try await handle.write(contentsOf: stored, toAbsoluteOffset: Int64(bodyOffset + StoredBlocks.offset(ofBlock: index)))
    }
}
