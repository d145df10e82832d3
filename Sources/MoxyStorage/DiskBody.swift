// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import MoxyCache
public import NIOCore
import NIOConcurrencyHelpers
import NIOPosix
import _NIOFileSystem

/// The body of an entry's file, read block by block as it is sent: a published file, or the
/// temporary file of a body still arriving (``DiskWriter``), whose blocks are read as they are
/// written. Every block is checked against its CRC-32C before any of its bytes is returned.
///
/// It holds its own read-only file descriptor, closed when the last response using it is gone:
/// a file replaced or evicted meanwhile goes on being read whole (the old inode lives until the
/// descriptor is closed), so a client never gets a mix of two versions. Reads are `pread(2)` on
/// NIO's blocking-I/O pool, so many clients share the descriptor.
public final class DiskBody: BodySource {
    private let descriptor: Int32
    /// Where the first block starts in the file.
    let bodyOffset: Int
    private let completeLength: Int?
    private let progress: DiskWriteProgress?
    private let onCorrupt: @Sendable () async -> Void
    /// Blocks checked already, one bit each: a published file is never written again (a new
    /// version is another file), so a block that passed through this descriptor once is not
    /// checked at every read.
    private let verified = NIOLockedValueBox<[UInt64]>([])
    private let damaged = NIOLockedValueBox(false)

    /// Whether a block failed its checksum (the file is deleted then; this descriptor must not
    /// answer again).
    public var isDamaged: Bool { damaged.withLockedValue { $0 } }

    /// A published file's body of `length` bytes.
    init(descriptor: Int32, bodyOffset: Int, length: Int, onCorrupt: @escaping @Sendable () async -> Void) {
        self.descriptor = descriptor
        self.bodyOffset = bodyOffset
        self.completeLength = length
        self.progress = nil
        self.onCorrupt = onCorrupt
    }

    /// The body of a file still being written.
    init(descriptor: Int32, bodyOffset: Int, progress: DiskWriteProgress) {
        self.descriptor = descriptor
        self.bodyOffset = bodyOffset
        self.completeLength = nil
        self.progress = progress
        self.onCorrupt = {}
    }

    deinit {
        // close(2) of a regular file does not block.
        _ = systemClose(descriptor)
    }

    /// The length: the file's, or the one announced for a body still arriving.
    public var length: Int? { completeLength ?? progress?.declaredLength }

    /// Whether the body is still being written.
    public var isGrowing: Bool { progress.map { !$0.isFinished } ?? false }

    public func read(from offset: Int, maxLength: Int) async throws -> ByteBuffer {
        let index = offset / StoredBlocks.blockSize
        let blockLength: Int
        if let progress {
            guard let length = try await progress.waitForBlock(index) else { return ByteBuffer() }
            blockLength = length
        } else {
            guard let completeLength, offset < completeLength else { return ByteBuffer() }
            blockLength = min(StoredBlocks.blockSize, completeLength - index * StoredBlocks.blockSize)
        }
        var stored = try await Self.pread(descriptor, at: bodyOffset + StoredBlocks.offset(ofBlock: index), count: blockLength + 4)
        let block: ByteBuffer
        if isVerified(index), let bytes = stored.readSlice(length: blockLength) {
            block = bytes
        } else {
            do {
                block = try StoredBlocks.read(&stored, length: blockLength)
            } catch {
                damaged.withLockedValue { $0 = true }
                await onCorrupt()
                throw error
            }
            markVerified(index)
        }
        let within = offset - index * StoredBlocks.blockSize
        return block.getSlice(at: block.readerIndex + within, length: min(maxLength, blockLength - within))!
    }

    public func fileRegions(from first: Int, to end: Int) -> FileRegions? {
        guard progress == nil, let completeLength, first < end, end <= completeLength, !isDamaged else { return nil }
        let firstBlock = first / StoredBlocks.blockSize
        let lastBlock = (end - 1) / StoredBlocks.blockSize
        let checked = verified.withLockedValue { words in
            (firstBlock...lastBlock).allSatisfy { index in index / 64 < words.count && words[index / 64] & (1 << UInt64(index % 64)) != 0 }
        }
        guard checked else { return nil }
        let copy = dup(descriptor)
        guard copy >= 0 else { return nil }
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: copy)
        var regions: [FileRegion] = []
        regions.reserveCapacity(lastBlock - firstBlock + 1)
        for index in firstBlock...lastBlock {
            // Each block's bytes, without the checksum that follows them in the file.
            let blockStart = index * StoredBlocks.blockSize
            let from = max(first, blockStart) - blockStart
            let to = min(end, blockStart + StoredBlocks.blockSize) - blockStart
            let fileOffset = bodyOffset + StoredBlocks.offset(ofBlock: index)
            regions.append(FileRegion(fileHandle: handle, readerIndex: fileOffset + from, endIndex: fileOffset + to))
        }
        return FileRegions(handle: handle, regions: regions)
    }

    private func isVerified(_ index: Int) -> Bool {
        verified.withLockedValue { words in index / 64 < words.count && words[index / 64] & (1 << UInt64(index % 64)) != 0 }
    }

    private func markVerified(_ index: Int) {
        verified.withLockedValue { words in
            while words.count <= index / 64 { words.append(0) }
            words[index / 64] |= 1 << UInt64(index % 64)
        }
    }

    /// Reads `count` bytes at `offset` on the blocking-I/O pool (short only at the end of the file).
    static func pread(_ descriptor: Int32, at offset: Int, count: Int) async throws -> ByteBuffer {
        try await NIOThreadPool.singleton.runIfActive {
            var buffer = ByteBufferAllocator().buffer(capacity: count)
            var done = 0
            while done < count {
                let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count - done) { pointer -> Int in
                    let result = systemPread(descriptor, pointer.baseAddress, count - done, off_t(offset + done))
                    return max(0, result)
                }
                if read == 0 {
                    if errno == EINTR { continue }
                    break
                }
                done += read
            }
            return buffer
        }
    }
}

private func systemClose(_ descriptor: Int32) -> Int32 { close(descriptor) }

/// Closes a handle this module opened itself, synchronously: its descriptor is taken back and
/// closed (close(2) of a regular file does not block). `_NIOFileSystem`'s own `close()` runs on
/// the thread pool and does not run for a cancelled task (a server stopping), which would leave
/// the handle open, and an open handle traps when it is released.
func closeNow(_ handle: some FileHandleProtocol) {
    if let descriptor = try? handle.detachUnsafeFileDescriptor() { _ = systemClose(descriptor.rawValue) }
}
private func systemPread(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ offset: off_t) -> Int {
    pread(descriptor, buffer, count, offset)
}
