// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto
public import MoxyCache
import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix
public import _NIOFileSystem

/// The disk tier's files: one per entry (nginx's model), named by the SHA-256 of the full key in
/// two levels of directories (`levels=1:2`: 16 × 256 = 4,096), written to a temporary file and
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
        public var corrupt: [DiskEntryError.Code: Int] = [:]
        /// Writes that failed (disk full, permissions, I/O errors).
        public var writeErrors = 0
    }

    /// The directory holding the entries.
    public let directory: FilePath
    /// The largest file read back (larger ones are refused as corrupt).
    public let maxFileSize: Int
    private let fileSystem: FileSystem
    private let state = NIOLockedValueBox(State())

    private struct State {
        var stats = Stats()
        var createdDirectories: Set<String> = []
        var temporaryCounter: UInt64 = 0
    }

    /// Creates a store over `directory` (created on the first write).
    public init(directory: String, maxFileSize: Int = 1 << 30, fileSystem: FileSystem = .shared) {
        self.directory = FilePath(directory)
        self.maxFileSize = maxFileSize
        self.fileSystem = fileSystem
    }

    /// A snapshot of the counters.
    public var stats: Stats { state.withLockedValue { $0.stats } }

    /// The file of a key: `DIR/a/bc/<64 hex digits>`, the last digit and the two before it naming
    /// the directories (as nginx's `levels=1:2`).
    public func path(for key: String) -> FilePath {
        let name = Self.hexDigest(key)
        let characters = Array(name)
        return directory.appending([String(characters[63]), String(characters[61...62]), name].map { FilePath.Component($0)! })
    }

    /// ``path(for:)`` as text.
    public func location(of key: String) -> String { path(for: key).string }

    static func hexDigest(_ key: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: Array(key.utf8)) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    /// The entry stored for `key`, or nil: no file, or a file that is not a valid entry for this key
    /// (then deleted and counted).
    public func get(_ key: String) async -> DiskEntry? {
        let path = path(for: key)
        let bytes: ByteBuffer
        do {
            bytes = try await fileSystem.withFileHandle(forReadingAt: path) { handle in
                try await handle.readToEnd(maximumSizeAllowed: .bytes(Int64(maxFileSize)))
            }
        } catch let error as FileSystemError where error.code == .notFound {
            state.withLockedValue { $0.stats.misses += 1 }
            return nil
        } catch {
            // Unreadable or larger than any entry written: unusable either way.
            await discard(path, reason: .malformed)
            return nil
        }
        do {
            let entry = try DiskEntry.decode(bytes, expectedKey: key)
            state.withLockedValue { $0.stats.hits += 1 }
            return entry
        } catch {
            await discard(path, reason: error.code)
            return nil
        }
    }

    /// Writes an entry, replacing any previous one for its key.
    /// - Returns: Whether it was published.
    @discardableResult
    public func put(_ entry: DiskEntry) async -> Bool {
        let path = path(for: entry.key)
        let bytes = entry.encode()
        let temporary = directory.appending(["tmp", temporaryName(path)].map { FilePath.Component($0)! })
        do {
            try await ensureDirectory(path.removingLastComponent())
            try await ensureDirectory(temporary.removingLastComponent())
            try await fileSystem.withFileHandle(forWritingAt: temporary, options: .newFile(replaceExisting: true)) { handle in
                try await handle.write(contentsOf: bytes, toAbsoluteOffset: 0)
            }
            try await Self.rename(temporary, to: path)
            state.withLockedValue { $0.stats.writes += 1 }
            return true
        } catch {
            state.withLockedValue { $0.stats.writeErrors += 1 }
            _ = try? await fileSystem.removeItem(at: temporary, strategy: .platformDefault, recursively: false)
            return false
        }
    }

    /// Removes what writes interrupted by a crash left in `tmp/` (never visible as entries, but
    /// taking space). Call before serving: a write in progress would lose its file.
    public func removeTemporaryFiles() async {
        let temporary = directory.appending("tmp")
        _ = try? await fileSystem.removeItem(at: temporary, strategy: .platformDefault, recursively: true)
        state.withLockedValue { _ = $0.createdDirectories.remove(temporary.string) }
    }

    /// Removes the entry for `key`, if any.
    public func remove(_ key: String) async {
        _ = try? await fileSystem.removeItem(at: path(for: key), strategy: .platformDefault, recursively: false)
    }

    private func discard(_ path: FilePath, reason: DiskEntryError.Code) async {
        state.withLockedValue { $0.stats.corrupt[reason, default: 0] += 1 }
        _ = try? await fileSystem.removeItem(at: path, strategy: .platformDefault, recursively: false)
    }

    private func temporaryName(_ path: FilePath) -> String {
        let counter = state.withLockedValue {
            $0.temporaryCounter += 1
            return $0.temporaryCounter
        }
        return "\(path.lastComponent?.string ?? "entry").\(getpid()).\(counter)"
    }

    private func ensureDirectory(_ path: FilePath) async throws {
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
    private static func rename(_ source: FilePath, to destination: FilePath) async throws {
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
