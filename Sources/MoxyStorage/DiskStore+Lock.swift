// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOConcurrencyHelpers
import _NIOFileSystem

/// A cache directory another process holds: two processes over one directory would each keep
/// an index and a purge log of the same files (and answer each other's entries as their own).
public struct DiskLockError: Error, CustomStringConvertible, Sendable {
    /// A stable code: `cache-dir-locked` (another process holds it).
    public let code: String
    /// The one-line reason.
    public let description: String
}

extension DiskStore {
    /// The lock file in the directory (it holds the holder's pid, for the error message).
    var lockPath: FilePath { directory.appending("lock") }

    /// Takes the directory for this process: an exclusive `flock` on `DIR/lock`, held until
    /// ``unlock()`` or the process ends (the kernel releases it even after a crash, so a stale
    /// file never blocks a restart). Creates the directory when missing.
    /// - Returns: nil when locked; otherwise why the lock file cannot be made (a directory that
    ///   cannot be written: the tier then keeps serving from memory, its writes counted as failed,
    ///   and no other process can write there either).
    /// - Throws: ``DiskLockError`` naming the holder's pid when another process has it.
    public func lock() throws(DiskLockError) -> String? {
        let directory = self.directory.string
        guard state.withLockedValue({ $0.lockDescriptor }) < 0 else { return nil }
        Self.makeDirectories(directory)
        let path = lockPath.string
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return "cannot create \(path): \(Self.errorText(errno))" }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = Self.readPID(fd)
            close(fd)
            throw DiskLockError(
                code: "cache-dir-locked",
                description: "the cache directory \(directory) is in use by another moxy (pid \(holder.map(String.init) ?? "unknown")); "
                    + "give each process its own cache.disk.path")
        }
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        state.withLockedValue { $0.lockDescriptor = fd }
        return nil
    }

    /// Releases the directory (at shutdown).
    public func unlock() {
        let fd = state.withLockedValue { state -> Int32 in
            defer { state.lockDescriptor = -1 }
            return state.lockDescriptor
        }
        if fd >= 0 { close(fd) }
    }

    private static func readPID(_ fd: Int32) -> Int? {
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int(String(decoding: bytes[..<count], as: UTF8.self).trimmingWhitespace)
    }

    /// `mkdir -p`, ignoring what already exists (an error shows when the lock file is opened).
    private static func makeDirectories(_ path: String) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component + "/"
            _ = mkdir(prefix, 0o755)
        }
    }

    static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }
}

extension String {
    fileprivate var trimmingWhitespace: Substring {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace { text.removeLast() }
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        return text
    }
}
