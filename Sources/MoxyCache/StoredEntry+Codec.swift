// SPDX-License-Identifier: Apache-2.0

public import NIOCore

extension StoredEntry {
    /// Bounds on what a header may hold, so a corrupt length cannot make a reader allocate much.
    static let maxKeyBytes = 64 << 10
    static let maxFields = 1_000
    static let maxTextBytes = 1 << 20
    /// The largest header read (a length above it is corrupt).
    public static let maxHeaderBytes = 8 << 20

    /// The file's bytes: the header (``encodeHeader(bodyLength:allocator:)``), then the body in
    /// checksummed blocks.
    public func encode(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var file = encodeHeader(bodyLength: body.readableBytes, allocator: allocator)
        file.reserveCapacity(minimumWritableBytes: StoredBlocks.storedLength(ofBody: body.readableBytes))
        var rest = body
        while rest.readableBytes > 0 {
            let block = rest.readSlice(length: min(StoredBlocks.blockSize, rest.readableBytes))!
            StoredBlocks.write(block, into: &file)
        }
        return file
    }

    /// The prefix (magic, version, flags, header length), the header and its checksum: the file up
    /// to its first body block. A streaming writer writes it first with the length unknown (0) and
    /// again, of the same size, once the body is complete.
    public func encodeHeader(bodyLength: Int, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var header = allocator.buffer(capacity: 256 + key.utf8.count + fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 6 })
        header.writeText(key, lengthBytes: 4)
        header.writeInteger(UInt16(clamping: status))
        header.writeInteger(responseTime)
        header.writeInteger(downstreamMaxAge)
        header.writeFreshness(freshness)
        header.writeInteger(UInt16(fields.count))
        for field in fields {
            header.writeText(field.name, lengthBytes: 2)
            header.writeText(field.value, lengthBytes: 4)
        }
        header.writeTextList(varyNames)
        header.writeOptional(variantGeneration)
        header.writeTextList(surrogateKeys)
        header.writeOptional(lastGoodUntil.map { UInt64(bitPattern: $0) })
        header.writeInteger(UInt64(bodyLength))

        var file = allocator.buffer(capacity: Self.prefixLength + header.readableBytes + Self.checksumLength)
        file.writeInteger(Self.magic)
        file.writeInteger(Self.version)
        file.writeInteger(UInt16(0))  // flags, none yet
        file.writeInteger(UInt32(header.readableBytes))
        file.writeImmutableBuffer(header)
        let checksum = file.withUnsafeReadableBytes { CRC32C.checksum($0) }
        file.writeInteger(checksum)
        return file
    }

    /// Reads a file's bytes back, every block's checksum checked.
    /// - Parameters:
    ///   - file: The whole file.
    ///   - expectedKey: The key looked up; a file holding another one is refused.
    /// - Throws: ``StoredEntryError``.
    public static func decode(_ file: ByteBuffer, expectedKey: String?) throws(StoredEntryError) -> StoredEntry {
        var (entry, bodyOffset, bodyLength) = try decodeHeader(file, expectedKey: expectedKey)
        entry.body = try body(of: file, at: bodyOffset, length: bodyLength)
        return entry
    }

    /// The body of a whole file whose header said where it starts and how long it is, every
    /// block's checksum checked.
    /// - Throws: ``StoredEntryError``: the file's length does not match, or a block is damaged.
    public static func body(of file: ByteBuffer, at bodyOffset: Int, length bodyLength: Int) throws(StoredEntryError) -> ByteBuffer {
        let expected = bodyOffset + StoredBlocks.storedLength(ofBody: bodyLength)
        guard file.readableBytes == expected else { throw StoredEntryError(expected > file.readableBytes ? .truncated : .malformed) }
        var blocks = file.getSlice(at: file.readerIndex + bodyOffset, length: file.readableBytes - bodyOffset)!
        if bodyLength <= StoredBlocks.blockSize {
            return bodyLength == 0 ? ByteBuffer() : try StoredBlocks.read(&blocks, length: bodyLength)
        }
        var body = ByteBuffer()
        body.reserveCapacity(bodyLength)
        var remaining = bodyLength
        while remaining > 0 {
            var block = try StoredBlocks.read(&blocks, length: min(StoredBlocks.blockSize, remaining))
            remaining -= block.readableBytes
            body.writeBuffer(&block)
        }
        return body
    }

    /// Reads the prefix and header of a file (or of its first bytes) and checks their checksum.
    /// - Returns: The entry without its body, where the body's first block starts, and its length.
    /// - Throws: ``StoredEntryError``; `truncated` when `bytes` end before the header does.
    public static func decodeHeader(_ bytes: ByteBuffer, expectedKey: String?) throws(StoredEntryError)
        -> (entry: StoredEntry, bodyOffset: Int, bodyLength: Int)
    {
        let headerLength = try Self.headerLength(bytes)
        guard bytes.readableBytes >= prefixLength + headerLength + checksumLength else { throw StoredEntryError(.truncated) }
        // The checksum covers the prefix and the header, so it is checked before any length inside is trusted.
        let covered = prefixLength + headerLength
        let stored = bytes.getInteger(at: bytes.readerIndex + covered, as: UInt32.self)
        let computed = bytes.withUnsafeReadableBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<covered])) }
        guard stored == computed else { throw StoredEntryError(.badChecksum) }

        var header = bytes.getSlice(at: bytes.readerIndex + prefixLength, length: headerLength)!
        let key = try header.readText(lengthBytes: 4, limit: maxKeyBytes)
        if let expectedKey, key != expectedKey { throw StoredEntryError(.wrongKey) }
        guard let status = header.readInteger(as: UInt16.self), let responseTime = header.readInteger(as: Int64.self),
            let downstreamMaxAge = header.readInteger(as: Int64.self)
        else { throw StoredEntryError(.malformed) }
        let freshness = try header.readFreshness()
        guard let fieldCount = header.readInteger(as: UInt16.self), Int(fieldCount) <= maxFields else { throw StoredEntryError(.malformed) }
        var fields: [(name: String, value: String)] = []
        fields.reserveCapacity(Int(fieldCount))
        for _ in 0..<fieldCount {
            let name = try header.readText(lengthBytes: 2, limit: maxTextBytes)
            let value = try header.readText(lengthBytes: 4, limit: maxTextBytes)
            fields.append((name, value))
        }
        let varyNames = try header.readTextList()
        let variantGeneration = try header.readOptional()
        let surrogateKeys = try header.readTextList()
        let lastGoodUntil = try header.readOptional().map { Int64(bitPattern: $0) }
        guard let bodyLength = header.readInteger(as: UInt64.self), header.readableBytes == 0, bodyLength < 1 << 48 else {
            throw StoredEntryError(.malformed)
        }
        let entry = StoredEntry(
            key: key, status: Int(status), fields: fields, body: ByteBuffer(), responseTime: responseTime, freshness: freshness,
            downstreamMaxAge: downstreamMaxAge, varyNames: varyNames, variantGeneration: variantGeneration,
            surrogateKeys: surrogateKeys, lastGoodUntil: lastGoodUntil)
        return (entry, covered + checksumLength, Int(bodyLength))
    }

    /// The header length a file's first bytes announce (magic and version checked).
    /// - Throws: ``StoredEntryError``.
    public static func headerLength(_ bytes: ByteBuffer) throws(StoredEntryError) -> Int {
        guard bytes.readableBytes >= prefixLength + checksumLength else { throw StoredEntryError(.truncated) }
        var buffer = bytes
        guard buffer.readInteger(as: UInt32.self) == magic else { throw StoredEntryError(.badMagic) }
        guard buffer.readInteger(as: UInt16.self) == version else { throw StoredEntryError(.unknownVersion) }
        _ = buffer.readInteger(as: UInt16.self)
        guard let headerLength = buffer.readInteger(as: UInt32.self).map(Int.init), headerLength <= maxHeaderBytes else {
            throw StoredEntryError(.malformed)
        }
        return headerLength
    }
}

extension ByteBuffer {
    fileprivate mutating func writeText(_ text: String, lengthBytes: Int) {
        let count = text.utf8.count
        if lengthBytes == 2 { writeInteger(UInt16(clamping: count)) } else { writeInteger(UInt32(clamping: count)) }
        writeString(text)
    }

    fileprivate mutating func readText(lengthBytes: Int, limit: Int) throws(StoredEntryError) -> String {
        let count: Int?
        if lengthBytes == 2 { count = readInteger(as: UInt16.self).map(Int.init) } else { count = readInteger(as: UInt32.self).map(Int.init) }
        guard let count, count <= limit, let text = readString(length: count) else { throw StoredEntryError(.malformed) }
        return text
    }

    fileprivate mutating func writeTextList(_ list: [String]) {
        writeInteger(UInt16(list.count))
        for text in list { writeText(text, lengthBytes: 2) }
    }

    fileprivate mutating func readTextList() throws(StoredEntryError) -> [String] {
        guard let count = readInteger(as: UInt16.self), Int(count) <= StoredEntry.maxFields else { throw StoredEntryError(.malformed) }
        var list: [String] = []
        for _ in 0..<count { list.append(try readText(lengthBytes: 2, limit: StoredEntry.maxTextBytes)) }
        return list
    }

    fileprivate mutating func writeOptional(_ value: UInt64?) {
        writeInteger(UInt8(value == nil ? 0 : 1))
        writeInteger(value ?? 0)
    }

    fileprivate mutating func readOptional() throws(StoredEntryError) -> UInt64? {
        guard let present = readInteger(as: UInt8.self), present <= 1, let value = readInteger(as: UInt64.self) else {
            throw StoredEntryError(.malformed)
        }
        return present == 1 ? value : nil
    }

    fileprivate mutating func writeFreshness(_ freshness: Freshness) {
        writeInteger(freshness.lifetime)
        writeInteger(freshness.initialAge)
        writeInteger(freshness.staleWhileRevalidate)
        writeInteger(freshness.staleIfError)
        writeInteger(freshness.maxStale ?? -1)
        var flags: UInt8 = 0
        if freshness.isExplicit { flags |= 1 }
        if freshness.mustRevalidate { flags |= 2 }
        if freshness.alwaysRevalidate { flags |= 4 }
        if freshness.staleIfErrorFromOrigin { flags |= 8 }
        if freshness.immutable { flags |= 16 }
        writeInteger(flags)
        writeTextList(freshness.withheldFields)
    }

    fileprivate mutating func readFreshness() throws(StoredEntryError) -> Freshness {
        guard let lifetime = readInteger(as: Int64.self), let initialAge = readInteger(as: Int64.self),
            let staleWhileRevalidate = readInteger(as: Int64.self), let staleIfError = readInteger(as: Int64.self),
            let maxStale = readInteger(as: Int64.self), let flags = readInteger(as: UInt8.self), flags < 32
        else { throw StoredEntryError(.malformed) }
        var freshness = Freshness(
            lifetime: lifetime, initialAge: initialAge, isExplicit: flags & 1 != 0, mustRevalidate: flags & 2 != 0,
            alwaysRevalidate: flags & 4 != 0, staleWhileRevalidate: staleWhileRevalidate, staleIfError: staleIfError,
            staleIfErrorFromOrigin: flags & 8 != 0, immutable: flags & 16 != 0, maxStale: maxStale < 0 ? nil : maxStale)
        freshness.withheldFields = try readTextList()
        return freshness
    }
}
