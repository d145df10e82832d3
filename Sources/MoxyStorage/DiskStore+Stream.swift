// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import NIOConcurrencyHelpers
import NIOCore
import _NIOFileSystem

/// What a lookup found on disk.
public enum DiskRead: Sendable {
    /// The entry, read whole.
    case whole(StoredEntry)
    /// An entry whose body is larger than the caller holds in memory: its header (the body left
    /// empty) and its body, to be read block by block as it is sent.
    case large(StoredEntry, DiskBody)

    /// The entry (without its body when large).
    public var entry: StoredEntry {
        switch self {
        case .whole(let entry), .large(let entry, _): entry
        }
    }
}

extension DiskStore {
    /// Bytes read first: most entries' whole file, every usual header.
    static let firstRead = 64 << 10

    /// The entry stored for `key`, or nil: no file, or a file that is not a valid entry for this
    /// key (then deleted and counted).
    /// - Parameter inMemoryLimit: The largest body read whole; a larger one is left on disk and
    ///   checked block by block as it is read.
    public func read(_ key: String, inMemoryLimit: Int) async -> DiskRead? {
        let hash = Self.hash(key)
        let path = path(forHash: hash)
        let handle: ReadFileHandle
        do {
            handle = try await fileSystem.openFile(forReadingAt: path, options: OpenOptions.Read())
        } catch let error as FileSystemError where error.code == .notFound {
            state.withLockedValue {
                $0.stats.misses += 1
                $0.index.remove(hash)
            }
            return nil
        } catch {
            await discard(path, hash: hash, reason: .malformed)
            return nil
        }
        let found: Result<DiskRead, StoredEntryError>
        do {
            found = .success(try await read(handle, key: key, path: path, hash: hash, inMemoryLimit: inMemoryLimit))
        } catch let error as StoredEntryError {
            found = .failure(error)
        } catch {
            // Unreadable: unusable either way.
            found = .failure(StoredEntryError(.malformed))
        }
        if case .success(.whole) = found { closeNow(handle) }
        switch found {
        case .success(let read):
            state.withLockedValue {
                $0.stats.hits += 1
                $0.index.touch(hash)
            }
            return read
        case .failure(let error):
            closeNow(handle)
            // Also a wrong key (a replaced file, or the rare name collision): a miss either way.
            await discard(path, hash: hash, reason: error.code)
            return nil
        }
    }

    private func read(_ handle: ReadFileHandle, key: String, path: FilePath, hash: UInt64, inMemoryLimit: Int) async throws -> DiskRead {
        let size = Int(try await handle.info().size)
        guard size <= maxFileSize else { throw StoredEntryError(.malformed) }
        var first = try await handle.readChunk(fromAbsoluteOffset: 0, length: .bytes(Int64(min(size, Self.firstRead))))
        if first.readableBytes < size {
            let headerEnd = try StoredEntry.headerLength(first) + StoredEntry.prefixLength + StoredEntry.checksumLength
            if headerEnd > first.readableBytes {
                guard headerEnd <= size else { throw StoredEntryError(.truncated) }
                first = try await handle.readChunk(fromAbsoluteOffset: 0, length: .bytes(Int64(headerEnd)))
            }
        }
        var (entry, bodyOffset, bodyLength) = try StoredEntry.decodeHeader(first, expectedKey: key)
        let expected = bodyOffset + StoredBlocks.storedLength(ofBody: bodyLength)
        guard size == expected else { throw StoredEntryError(size < expected ? .truncated : .malformed) }
        guard bodyLength > inMemoryLimit else {
            let file = first.readableBytes == size ? first : try await handle.readChunk(fromAbsoluteOffset: 0, length: .bytes(Int64(size)))
            // The header is checked already: only the blocks are left.
            entry.body = try StoredEntry.body(of: file, at: bodyOffset, length: bodyLength)
            return .whole(entry)
        }
        let descriptor = try handle.detachUnsafeFileDescriptor().rawValue
        let body = DiskBody(descriptor: descriptor, bodyOffset: bodyOffset, length: bodyLength) { [self] in
            // A block that fails its checksum: the file goes, the client's answer is cut before it.
            await self.discard(path, hash: hash, reason: .badChecksum)
        }
        return .large(entry, body)
    }

    /// Starts writing an entry whose body streams in (``DiskWriter``).
    /// - Parameters:
    ///   - header: The entry, its body left empty.
    ///   - declaredLength: The length the upstream announced, if any.
    /// - Returns: The writer, or nil when nothing may be written now (below `min_free`, or the
    ///   file cannot be created).
    public func beginWrite(_ header: StoredEntry, declaredLength: Int?) async -> DiskWriter? {
        guard mayWrite(), await hasRoom() else { return nil }
        let hash = Self.hash(header.key)
        let path = path(forHash: hash)
        let temporary = temporaryPath(for: path)
        let headerBytes = header.encodeHeader(bodyLength: 0)
        do {
            try await ensureDirectory(path.removingLastComponent())
            try await ensureDirectory(temporary.removingLastComponent())
            // Not `_NIOFileSystem`'s transactional creation: readers open the growing file by its name.
            let options = OpenOptions.Write(existingFile: .truncate, newFile: OpenOptions.NewFile(transactionalCreation: false))
            let handle = try await fileSystem.openFile(forWritingAt: temporary, options: options)
            do {
                try await handle.write(contentsOf: headerBytes, toAbsoluteOffset: 0)
                let reader = try await fileSystem.openFile(forReadingAt: temporary, options: OpenOptions.Read())
                let descriptor = try reader.detachUnsafeFileDescriptor().rawValue
                let progress = DiskWriteProgress(declaredLength: declaredLength)
                return DiskWriter(
                    store: self, header: header, hash: hash, path: path, temporary: temporary, handle: handle,
                    bodyOffset: headerBytes.readableBytes, progress: progress,
                    body: DiskBody(descriptor: descriptor, bodyOffset: headerBytes.readableBytes, progress: progress))
            } catch {
                closeNow(handle)
                throw error
            }
        } catch {
            writeFailed(error)
            await abandon(temporary)
            return nil
        }
    }

    /// Publishes a written temporary file under its entry's name and indexes it.
    func publish(_ temporary: FilePath, as path: FilePath, hash: UInt64, size: Int, usableUntil: Int64?) async -> Bool {
        // From the rename to the indexing the file exists unrecorded: a removal meanwhile must
        // still delete it.
        state.withLockedValue { $0.unsettle(hash) }
        do {
            try await Self.rename(temporary, to: path)
        } catch {
            state.withLockedValue { $0.settle(hash) }
            writeFailed(error)
            await abandon(temporary)
            return false
        }
        let recovered = state.withLockedValue { state -> Bool in
            state.settle(hash)
            state.stats.writes += 1
            state.index.insert(hash, size: size, usableUntil: usableUntil)
            defer { state.writesFailing = false }
            return state.writesFailing
        }
        if recovered { onWritesFailing(false, "") }
        await evictIfNeeded()
        return true
    }

    /// Whether writes may be tried now: not while they pause after a failure (counted).
    func mayWrite() -> Bool {
        state.withLockedValue { state in
            guard state.writesFailing, NIODeadline.now() < state.writesPauseUntil else { return true }
            state.stats.writesPaused += 1
            return false
        }
    }

    /// A write failed (a full disk, an I/O error, permissions): counted, writes pause for
    /// ``writeRetry``, and the first failure of a run is told (once, for the log).
    func writeFailed(_ error: any Error) {
        let first = state.withLockedValue { state -> Bool in
            state.stats.writeErrors += 1
            state.writesPauseUntil = NIODeadline.now() + .nanoseconds(Int64(writeRetry.components.seconds) * 1_000_000_000 + writeRetry.components.attoseconds / 1_000_000_000)
            defer { state.writesFailing = true }
            return !state.writesFailing
        }
        if first { onWritesFailing(true, "\(error)") }
    }

    /// Removes a temporary file that will not be published.
    func abandon(_ temporary: FilePath) async {
        _ = try? await fileSystem.removeItem(at: temporary, strategy: .platformDefault, recursively: false)
    }
}
