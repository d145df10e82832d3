// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import NIOConcurrencyHelpers
import NIOCore
import _NIOFileSystem

extension DiskStore {
    /// A file's modification time is set to the end of its entry's last usable window (0 for
    /// none), so that the start-up loader learns it from the directory listing, without reading
    /// any file.
    static func modificationTime(usableUntil: Int64?) -> FileInfo.Timespec {
        FileInfo.Timespec(seconds: Int(usableUntil ?? 0), nanoseconds: 0)
    }

    /// What a file's modification time says of its entry's last usable moment.
    static func usableUntil(modificationTime info: FileInfo) -> Int64? {
        let seconds = Int64(info.lastDataModificationTime.seconds)
        return seconds > 0 ? seconds : nil
    }

    /// Removes the entries whose last usable window (freshness, stale windows, last good) ended
    /// before `now`, in batches of at most `batch` files. Each candidate's header is read first:
    /// the index's figure may come from a modification time that a copy of the directory
    /// changed, and only the file itself is trusted.
    /// - Returns: The entries removed.
    @discardableResult
    public func removeExpired(now: Int64, batch: Int = 256) async -> Int {
        var removed = 0
        while true {
            // Forgotten by the index while their files are read: unsettled until then.
            let candidates = state.withLockedValue { state -> [UInt64] in
                let chosen = state.index.expired(now: now, limit: batch)
                for hash in chosen { state.unsettle(hash) }
                return chosen
            }
            for hash in candidates {
                defer { state.withLockedValue { $0.settle(hash) } }
                let path = path(forHash: hash)
                switch await usableUntil(of: path) {
                case .gone:
                    continue
                case .usable(let until, let size) where until.map({ $0 >= now }) ?? true:
                    // Still of use: indexed again with what the file says.
                    state.withLockedValue { $0.index.insertIfAbsent(hash, size: size, usableUntil: until) }
                case .usable:
                    _ = try? await fileSystem.removeItem(at: path, strategy: .platformDefault, recursively: false)
                    state.withLockedValue { $0.stats.expired += 1 }
                    removed += 1
                case .damaged(let reason):
                    await discard(path, hash: hash, reason: reason)
                }
            }
            if candidates.count < batch { return removed }
        }
    }

    private enum Usable {
        case gone
        case usable(Int64?, size: Int)
        case damaged(StoredEntryError.Code)
    }

    /// Reads a file's header for its entry's last usable moment.
    private func usableUntil(of path: FilePath) async -> Usable {
        do {
            return try await fileSystem.withFileHandle(forReadingAt: path) { handle in
                let size = Int(try await handle.info().size)
                let first = try await handle.readChunk(fromAbsoluteOffset: 0, length: .bytes(Int64(min(size, Self.firstRead))))
                do throws(StoredEntryError) {
                    return .usable(try StoredEntry.decodeHeader(first, expectedKey: nil).entry.usableUntil, size: size)
                } catch {
                    // A header longer than the first read is kept (the size bound evicts it in time).
                    return error.code == .truncated && size > Self.firstRead ? .usable(nil, size: size) : .damaged(error.code)
                }
            }
        } catch let error as FileSystemError where error.code == .notFound {
            return .gone
        } catch {
            return .damaged(.malformed)
        }
    }
}
