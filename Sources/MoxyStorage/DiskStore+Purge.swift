// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import MoxyCache
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import _NIOFileSystem

extension DiskStore {
    /// The most purges the log keeps (the oldest are dropped past it).
    public static let maxPurges = 1000

    /// The purge log: one ``PurgeRecord`` per line, appended and synced before a purge answers,
    /// so that no restart brings back what was purged (files the sweep did not reach, or that a
    /// write in flight published afterwards, are refused when read).
    var purgeLogPath: FilePath { directory.appending("purges.log") }

    /// The purges recorded by earlier runs, oldest first (torn or foreign lines skipped).
    public func loadPurges() async -> [PurgeRecord] {
        let path = purgeLogPath
        let bytes: ByteBuffer
        do {
            bytes = try await fileSystem.withFileHandle(forReadingAt: path) { handle in
                try await handle.readToEnd(maximumSizeAllowed: .mebibytes(16))
            }
        } catch {
            return []
        }
        let text = String(buffer: bytes)
        return Array(text.split(separator: "\n").compactMap { PurgeRecord(line: $0) }.suffix(Self.maxPurges))
    }

    /// Appends a purge to the log and syncs it; with more than ``maxPurges`` in `all`, rewrites
    /// the log with the newest ones (a temporary file renamed over it).
    /// - Throws: When the log cannot be written (the purge is then refused: it would not persist).
    public func recordPurge(_ record: PurgeRecord, all records: [PurgeRecord]) async throws {
        try await ensureDirectory(directory)
        let path = purgeLogPath.string
        if records.count > Self.maxPurges {
            let temporary = path + ".tmp"
            let text = records.suffix(Self.maxPurges).map { $0.line + "\n" }.joined()
            try await Self.writeSynced(text, to: temporary, append: false)
            try await Self.rename(FilePath(temporary), to: FilePath(path))
        } else {
            try await Self.writeSynced(record.line + "\n", to: path, append: true)
        }
    }

    private static func writeSynced(_ text: String, to path: String, append: Bool) async throws {
        let failure = try await NIOThreadPool.singleton.runIfActive { () -> Int32? in
            let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0o644)
            guard fd >= 0 else { return errno }
            defer { close(fd) }
            var bytes = Array(text.utf8)[...]
            while !bytes.isEmpty {
                let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return errno }
                bytes = bytes.dropFirst(written)
            }
            return fsync(fd) == 0 ? nil : errno
        }
        if let failure { throw DiskStoreError(errno: failure) }
    }

    /// Applies a purge to the indexed files: a hard purge deletes what it selects (everything
    /// for `all`, without reading a file), a soft one only counts it (the log makes it stale
    /// when read). Other files are read for their header (key, response time, surrogate keys).
    /// - Returns: The entries selected (variant markers not counted) and, unless everything was
    ///   purged, their keys.
    public func sweep(_ record: PurgeRecord) async -> (count: Int, keys: Set<String>?) {
        let hashes = state.withLockedValue { Array($0.index.entries.keys) }
        if record.selector == .all {
            guard !record.soft else { return (hashes.count, nil) }
            state.withLockedValue { state in for hash in hashes { state.index.remove(hash) } }
            for hash in hashes {
                _ = try? await fileSystem.removeItem(at: path(forHash: hash), strategy: .platformDefault, recursively: false)
            }
            return (hashes.count, nil)
        }
        var selected: Set<String> = []
        // Eight headers read at once: the reads wait on the blocking-I/O pool, not on each other.
        await withTaskGroup(of: (UInt64, StoredEntry?).self) { group in
            var pending = hashes.makeIterator()
            for _ in 0..<8 {
                guard let hash = pending.next() else { break }
                group.addTask { (hash, await self.header(ofHash: hash)) }
            }
            while let (hash, entry) = await group.next() {
                if let next = pending.next() { group.addTask { (next, await self.header(ofHash: next)) } }
                guard let entry, record.verdict(responseTime: entry.responseTime, key: entry.key, tags: entry.surrogateKeys) != nil
                else { continue }
                if entry.variantGeneration == nil { selected.insert(entry.key) }
                if !record.soft {
                    state.withLockedValue { $0.index.remove(hash) }
                    _ = try? await fileSystem.removeItem(at: path(forHash: hash), strategy: .platformDefault, recursively: false)
                }
            }
        }
        return (selected.count, selected)
    }

    /// The headers of indexed entries that `include` accepts, up to `limit` of them, reading at
    /// most `scanLimit` files (for `/entries`).
    public func headers(limit: Int, scanLimit: Int = 10_000, where include: (StoredEntry) -> Bool) async -> [(entry: StoredEntry, size: Int)] {
        let hashes = state.withLockedValue { state in Array(state.index.entries.prefix(scanLimit)).map { ($0.key, Int($0.value.size)) } }
        var found: [(entry: StoredEntry, size: Int)] = []
        for (hash, size) in hashes {
            guard found.count < limit else { break }
            if let entry = await header(ofHash: hash), entry.variantGeneration == nil, include(entry) { found.append((entry, size)) }
        }
        return found
    }

    /// A file's header (its body left empty), or nil when it is gone or unreadable.
    func header(ofHash hash: UInt64) async -> StoredEntry? {
        try? await fileSystem.withFileHandle(forReadingAt: path(forHash: hash)) { handle in
            let size = Int(try await handle.info().size)
            let first = try await handle.readChunk(fromAbsoluteOffset: 0, length: .bytes(Int64(min(size, Self.firstRead))))
            return try StoredEntry.decodeHeader(first, expectedKey: nil).entry
        }
    }
}
