// SPDX-License-Identifier: Apache-2.0

import MoxyCache
public import NIOCore

/// The metadata value of a shared entry, written after its chunks: which write it belongs to,
/// how many chunks and bytes it has and their checksum, so that a reader never takes a torn or
/// mixed entry for a whole one. An entry of one chunk's size or less travels inside it (one
/// round trip per hit). The bytes are those of a disk file (``StoredEntry/encode(allocator:)``).
public struct SharedEntryMeta: Sendable, Hashable {
    /// The write's random id (its chunks' keys carry it).
    public var writeID: UInt64
    /// Chunks (0: the file is inline).
    public var chunkCount: Int
    /// The file's length.
    public var length: Int
    /// CRC-32C of the whole file.
    public var checksum: UInt32
    /// The file, when inline.
    public var inline: ByteBuffer?

    static let magic: UInt32 = 0x4D58_5331  // "MXS1"
    static let headerLength = 4 + 8 + 4 + 8 + 4

    /// Metadata for a file cut into chunks of `chunkSize` (inline when it fits in one).
    public init(file: ByteBuffer, writeID: UInt64, chunkSize: Int) {
        self.writeID = writeID
        self.length = file.readableBytes
        self.checksum = file.withUnsafeReadableBytes { CRC32C.checksum($0) }
        if file.readableBytes <= chunkSize {
            chunkCount = 0
            inline = file
        } else {
            chunkCount = (file.readableBytes + chunkSize - 1) / chunkSize
            inline = nil
        }
    }

    /// The value stored.
    public func encode() -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(Self.headerLength + (inline?.readableBytes ?? 0))
        buffer.writeInteger(Self.magic)
        buffer.writeInteger(writeID)
        buffer.writeInteger(UInt32(chunkCount))
        buffer.writeInteger(UInt64(length))
        buffer.writeInteger(checksum)
        if let inline { buffer.writeImmutableBuffer(inline) }
        return buffer
    }

    /// Reads a value back; nil for one that is not (another format, truncated, lengths that do
    /// not add up).
    public init?(decoding value: ByteBuffer, maxLength: Int) {
        var value = value
        guard let magic = value.readInteger(as: UInt32.self), magic == Self.magic,
            let writeID = value.readInteger(as: UInt64.self),
            let chunks = value.readInteger(as: UInt32.self),
            let length = value.readInteger(as: UInt64.self), length <= UInt64(maxLength),
            let checksum = value.readInteger(as: UInt32.self)
        else { return nil }
        self.writeID = writeID
        self.chunkCount = Int(chunks)
        self.length = Int(length)
        self.checksum = checksum
        if chunks == 0 {
            guard value.readableBytes == Int(length) else { return nil }
            inline = value
        } else {
            guard value.readableBytes == 0, Int(chunks) <= Int(length) else { return nil }
            inline = nil
        }
    }

    /// The file cut into this metadata's chunks.
    public static func chunks(of file: ByteBuffer, size: Int) -> [ByteBuffer] {
        var rest = file
        var chunks: [ByteBuffer] = []
        while rest.readableBytes > 0 { chunks.append(rest.readSlice(length: min(size, rest.readableBytes))!) }
        return chunks
    }

    /// Whether these bytes are the file this metadata describes.
    public func matches(_ file: ByteBuffer) -> Bool {
        file.readableBytes == length && file.withUnsafeReadableBytes { CRC32C.checksum($0) } == checksum
    }
}
