// SPDX-License-Identifier: Apache-2.0

public import NIOCore

/// How a body is laid out in an entry's file: blocks of ``blockSize`` bytes (the last one
/// shorter), each followed by its CRC-32C. A reader checks each block before passing it on, so a
/// large body streams from disk in bounded memory and a damaged byte is never sent: the block
/// holding it fails its checksum first.
public enum StoredBlocks {
    /// Body bytes per block.
    public static let blockSize = 256 << 10
    /// Bytes of each block's checksum.
    public static let checksumLength = 4

    /// Bytes a body of `length` takes in the file, checksums included.
    public static func storedLength(ofBody length: Int) -> Int {
        length + checksumLength * blockCount(length)
    }

    /// Blocks of a body of `length`.
    public static func blockCount(_ length: Int) -> Int {
        (length + blockSize - 1) / blockSize
    }

    /// Where block `index` starts, relative to the first block.
    public static func offset(ofBlock index: Int) -> Int {
        index * (blockSize + checksumLength)
    }

    /// Appends a block and its checksum.
    public static func write(_ block: ByteBuffer, into file: inout ByteBuffer) {
        file.writeImmutableBuffer(block)
        file.writeInteger(block.withUnsafeReadableBytes { CRC32C.checksum($0) })
    }

    /// Reads a block of `length` body bytes and its checksum from the front of `stored`.
    /// - Throws: ``StoredEntryError`` `truncated` or `bad-checksum`.
    public static func read(_ stored: inout ByteBuffer, length: Int) throws(StoredEntryError) -> ByteBuffer {
        guard let block = stored.readSlice(length: length), let checksum = stored.readInteger(as: UInt32.self) else {
            throw StoredEntryError(.truncated)
        }
        guard block.withUnsafeReadableBytes({ CRC32C.checksum($0) }) == checksum else { throw StoredEntryError(.badChecksum) }
        return block
    }
}
