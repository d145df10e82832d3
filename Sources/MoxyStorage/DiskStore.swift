// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto
import MoxyCache
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
public import _NIOFileSystem

/// The disk tier's files: one per entry (nginx's model), named by the first 64 bits of the SHA-256
/// of the full key (16 hex digits; the full key inside the file is compared on read, so the rare
/// collision is a miss, never another URL's answer) in two levels of directories (`levels=1:2`:
/// 16 × 256 = 4,096), written to a temporary file and
/// published with `rename(2)`, so a half-written file is never visible under its final name and
/// no reader ever sees a mix of two versions. No `fsync`: a write lost in a crash is a miss, and
/// a torn file fails its checksum. A file that fails to decode is deleted, counted and treated
/// as a miss; it is never served.
///
/// All I/O runs on NIO's blocking-I/O thread pool (through `_NIOFileSystem`), never on an event loop.
public final class DiskStore: Sendable {
    /// Counters describing the store.
    public struct Stats: Sendable, Hashable {
        /// Entries read back whole.
        public var hits = 0
        /// Lookups that found no file.
        public var misses = 0
        /// Entries written.
        public var writes = 0
        /// Files refused on read (and deleted), by reason.
        public var corrupt: [StoredEntryError.Code: Int] = [:]
        /// Writes that failed (disk full, permissions, I/O errors).
        public var writeErrors = 0
        /// Writes not tried because one failed shortly before (`writeRetry`).
        public var writesPaused = 0
        /// Files deleted to keep the tier under its size or the disk above its free space.
        public var evictions = 0
        /// Files deleted because their entry's last usable window had passed.
        public var expired = 0
        /// Writes not made because the file system had less than `minFree` bytes free.
        public var lowSpaceSkips = 0
        /// Whether the file system is below `minFree` (as last checked).
        public var lowSpace = false
        /// Files indexed and their bytes.
        public var entries = 0
        /// Bytes of the indexed files.
        public var bytes = 0
    }

    /// The directory holding the entries.
    public let directory: FilePath
    /// The most bytes of files kept; past it the janitor deletes files, by CLOCK, down to 90 %.
    public let maxSize: Int
    /// The free bytes the file system keeps: below it nothing is written and files are deleted
    /// (nginx's `min_free`); 0 for no check.
    public let minFree: Int
    /// Told when the file system goes below or back above `minFree` (once per change, for the log).
    private let onSpaceChange: @Sendable (_ low: Bool, _ free: Int) -> Void
    /// Told when writes start failing (with the first error) and when one succeeds again.
    let onWritesFailing: @Sendable (_ failing: Bool, _ error: String) -> Void
    /// How long writes pause after one failed (a full disk, an I/O error) before the next try.
    let writeRetry: Duration
    /// The largest file read back (larger ones are refused as corrupt).
    public let maxFileSize: Int
    let fileSystem: FileSystem
    let state = NIOLockedValueBox(State())

    struct State {
        var stats = Stats()
        var index = DiskIndex()
        var createdDirectories: Set<String> = []
        var temporaryCounter: UInt64 = 0
        /// When free space was last measured (monotonic seconds) and what it was.
        var spaceCheckedAt: Int64 = .min
        var freeBytes = Int.max
        /// Whether the last write failed, and until when (monotonic) writes pause.
        var writesFailing = false
        var writesPauseUntil = NIODeadline.distantPast
        /// The open lock file while this process holds the directory (`-1`: not locked).
        var lockDescriptor: Int32 = -1
        /// Whether the start-up loader has indexed every file that was on disk.
        var indexComplete = false
        /// Files that may exist while the index does not record them, by how many writers or
        /// checks have them so: a write between its rename and its indexing, an expired entry
        /// the janitor forgot while it reads the file.
        var unsettled: [UInt64: Int] = [:]

        /// Whether a file for `hash` may be on disk: the index records it, it is unsettled, or
        /// the index is not complete yet. Pure; ``remove(_:)`` deletes nothing otherwise.
        func mayHoldFile(_ hash: UInt64) -> Bool {
            !indexComplete || index.contains(hash) || unsettled[hash] != nil
        }

        mutating func unsettle(_ hash: UInt64) { unsettled[hash, default: 0] += 1 }

        mutating func settle(_ hash: UInt64) {
            if let count = unsettled[hash], count > 1 { unsettled[hash] = count - 1 } else { unsettled[hash] = nil }
        }
    }

    /// Creates a store over `directory` (created on the first write).
    public init(
        directory: String, maxSize: Int = 1 << 30, minFree: Int = 0, maxFileSize: Int = 1 << 30, fileSystem: FileSystem = .shared,
        writeRetry: Duration = .seconds(10),
        onSpaceChange: @escaping @Sendable (_ low: Bool, _ free: Int) -> Void = { _, _ in },
        onWritesFailing: @escaping @Sendable (_ failing: Bool, _ error: String) -> Void = { _, _ in }
    ) {
        self.writeRetry = writeRetry
        self.onWritesFailing = onWritesFailing
        self.directory = FilePath(directory)
        self.maxSize = maxSize
        self.minFree = minFree
        self.onSpaceChange = onSpaceChange
        self.maxFileSize = maxFileSize
        let blockSize = Self.blockSize(at: directory) ?? 4096
        state.withLockedValue { $0.index = DiskIndex(blockSize: blockSize) }
        self.fileSystem = fileSystem
    }

    /// A snapshot of the counters.
    public var stats: Stats {
        state.withLockedValue {
            var stats = $0.stats
            stats.entries = $0.index.count
            stats.bytes = $0.index.bytes
            return stats
        }
    }

    /// The file of a key: `DIR/a/bc/<16 hex digits>`, the last digit and the two before it naming
    /// the directories (as nginx's `levels=1:2`).
    public func path(for key: String) -> FilePath { path(forHash: Self.hash(key)) }

    func path(forHash hash: UInt64) -> FilePath {
        let name = Self.hexName(hash)
        let characters = Array(name)
        return directory.appending([String(characters[15]), String(characters[13...14]), name].map { FilePath.Component($0)! })
    }

    /// ``path(for:)`` as text.
    public func location(of key: String) -> String { path(for: key).string }

    /// The first 64 bits of the key's SHA-256 (``StoreKey/hash``).
    static func hash(_ key: String) -> UInt64 { StoreKey.hash(key) }

    /// A hash as 16 lowercase hex digits.
    static func hexName(_ hash: UInt64) -> String { StoreKey.hex(hash) }

    /// The file name of a key.
    static func hexDigest(_ key: String) -> String { hexName(hash(key)) }

    /// The entry stored for `key`, read whole, or nil: no file, or a file that is not a valid
    /// entry for this key (then deleted and counted).
    public func get(_ key: String) async -> StoredEntry? {
        guard case .whole(let entry) = await read(key, inMemoryLimit: .max) else { return nil }
        return entry
    }

    /// Writes an entry, replacing any previous one for its key.
    /// - Returns: Whether it was published.
    @discardableResult
    public func put(_ entry: StoredEntry) async -> Bool {
        guard mayWrite(), await hasRoom() else { return false }
        let hash = Self.hash(entry.key)
        let path = path(forHash: hash)
        let bytes = entry.encode()
        let temporary = temporaryPath(for: path)
        do {
            try await ensureDirectory(path.removingLastComponent())
            try await ensureDirectory(temporary.removingLastComponent())
            try await fileSystem.withFileHandle(forWritingAt: temporary, options: .newFile(replaceExisting: true)) { handle in
                try await handle.write(contentsOf: bytes, toAbsoluteOffset: 0)
                try await handle.setTimes(lastAccess: nil, lastDataModification: Self.modificationTime(usableUntil: entry.usableUntil))
            }
        } catch {
            writeFailed(error)
            await abandon(temporary)
            return false
        }
        return await publish(temporary, as: path, hash: hash, size: bytes.readableBytes, usableUntil: entry.usableUntil)
    }

    /// Removes what writes interrupted by a crash left in `tmp/` (never visible as entries, but
    /// taking space). Call before serving: a write in progress would lose its file.
    public func removeTemporaryFiles() async {
        let temporary = directory.appending("tmp")
        _ = try? await fileSystem.removeItem(at: temporary, strategy: .platformDefault, recursively: true)
        state.withLockedValue { _ = $0.createdDirectories.remove(temporary.string) }
    }

    /// Removes the entry for `key`, if any. A key the complete index does not hold costs no
    /// trip to the file system: every answer that may not be stored invalidates its key, and
    /// most of those keys were never stored.
    public func remove(_ key: String) async {
        let hash = Self.hash(key)
        let mayHold = state.withLockedValue { state -> Bool in
            defer { state.index.remove(hash) }
            return state.mayHoldFile(hash)
        }
        guard mayHold else { return }
        _ = try? await fileSystem.removeItem(at: path(forHash: hash), strategy: .platformDefault, recursively: false)
    }

    /// Deletes files, by CLOCK and in batches of at most 256, until the tier is at 90 % of
    /// ``maxSize`` (the margin keeps it from deleting on every write).
    public func evictIfNeeded() async {
        if stats.bytes > maxSize { await evict(downTo: maxSize / 10 * 9) }
    }

    /// Deletes files, by CLOCK and in batches of at most 256, until at most `target` bytes remain.
    func evict(downTo target: Int) async {
        while true {
            let victims = state.withLockedValue { state -> [UInt64] in
                guard state.index.bytes > target else { return [] }
                let before = state.index.bytes
                let chosen = state.index.victims(downTo: target, limit: 256)
                state.stats.evictions += chosen.count
                // The free space measured this second grows by what is deleted.
                if state.freeBytes != Int.max { state.freeBytes += before - state.index.bytes }
                return chosen
            }
            if victims.isEmpty { return }
            for hash in victims {
                _ = try? await fileSystem.removeItem(at: path(forHash: hash), strategy: .platformDefault, recursively: false)
            }
        }
    }

    /// Whether the file system has `minFree` bytes free (measured at most once a second, on the
    /// blocking-I/O pool); below it, files are deleted to make room and the write is skipped.
    func hasRoom() async -> Bool {
        guard minFree > 0 else { return true }
        let now = Int64(NIODeadline.now().uptimeNanoseconds / 1_000_000_000)
        let due = state.withLockedValue { $0.spaceCheckedAt != now }
        if due {
            let path = directory.string
            let free = (try? await NIOThreadPool.singleton.runIfActive { Self.freeBytes(at: path) }) ?? nil
            let change = state.withLockedValue { state -> (low: Bool, free: Int)? in
                state.spaceCheckedAt = now
                guard let free else { return nil }
                state.freeBytes = free
                let low = free < minFree
                defer { state.stats.lowSpace = low }
                return low != state.stats.lowSpace ? (low, free) : nil
            }
            if let change { onSpaceChange(change.low, change.free) }
        }
        let shortfall = state.withLockedValue { state -> Int in
            guard state.freeBytes < minFree else { return 0 }
            state.stats.lowSpaceSkips += 1
            return minFree - state.freeBytes
        }
        guard shortfall > 0 else { return true }
        await evict(downTo: max(0, stats.bytes - shortfall))
        return false
    }

    /// Free bytes for unprivileged users on the file system holding `path` (nil when unknown,
    /// e.g. the directory does not exist yet: it is then its parent's).
    static func freeBytes(at path: String) -> Int? {
        fileSystemInfo(at: path).map { Int($0.f_bavail) * Int($0.f_frsize) }
    }

    /// The allocation unit of the file system holding `path` (or the nearest existing parent).
    static func blockSize(at path: String) -> Int? {
        fileSystemInfo(at: path).map { Int($0.f_frsize) }.flatMap { $0 > 0 ? $0 : nil }
    }

    private static func fileSystemInfo(at path: String) -> statvfs? {
        var info = statvfs()
        var candidate = path.hasPrefix("/") ? path : "./" + path
        while statvfs(candidate, &info) != 0 {
            guard let slash = candidate.lastIndex(of: "/"), slash != candidate.startIndex else { return nil }
            candidate = String(candidate[..<slash])
        }
        return info
    }

    func discard(_ path: FilePath, hash: UInt64, reason: StoredEntryError.Code) async {
        state.withLockedValue {
            $0.stats.corrupt[reason, default: 0] += 1
            $0.index.remove(hash)
        }
        _ = try? await fileSystem.removeItem(at: path, strategy: .platformDefault, recursively: false)
    }

    /// A new temporary file's path under `tmp/` for an entry's final `path`.
    func temporaryPath(for path: FilePath) -> FilePath {
        let counter = state.withLockedValue {
            $0.temporaryCounter += 1
            return $0.temporaryCounter
        }
        let name = "\(path.lastComponent?.string ?? "entry").\(getpid()).\(counter)"
        return directory.appending(["tmp", name].map { FilePath.Component($0)! })
    }

    func ensureDirectory(_ path: FilePath) async throws {
        let known = state.withLockedValue { $0.createdDirectories.contains(path.string) }
        guard !known else { return }
        do {
            try await fileSystem.createDirectory(at: path, withIntermediateDirectories: true, permissions: nil)
        } catch let error as FileSystemError where error.code == .fileAlreadyExists {
            // Another writer made it first.
        }
        state.withLockedValue { _ = $0.createdDirectories.insert(path.string) }
    }

    /// `rename(2)` on the blocking-I/O pool: atomic replacement of the final name.
    static func rename(_ source: FilePath, to destination: FilePath) async throws {
        let failure = try await NIOThreadPool.singleton.runIfActive { () -> Int32? in
            systemRename(source.string, destination.string) == 0 ? nil : errno
        }
        if let failure { throw DiskStoreError(errno: failure) }
    }
}

private func systemRename(_ source: String, _ destination: String) -> Int32 { rename(source, destination) }

/// A failed `rename(2)`.
struct DiskStoreError: Error {
    let errno: Int32
}
