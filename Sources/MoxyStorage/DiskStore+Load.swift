// SPDX-License-Identifier: Apache-2.0

import NIOConcurrencyHelpers
import _NIOFileSystem

extension DiskStore {
    /// What the start-up scan found.
    public struct LoadReport: Sendable {
        /// Entry files indexed.
        public var entries = 0
        /// Their bytes on disk (whole blocks).
        public var bytes = 0
        /// Seconds the scan took.
        public var seconds = 0.0
    }

    /// Indexes the files already on disk (from an earlier run), in batches of `batch` files with
    /// a pause after each (nginx's cache loader), so that start-up does not compete with serving;
    /// lookups do not wait for it, since a key's file is found by its name. Then evicts if the
    /// tier is over its size.
    /// - Parameter progress: Called after each batch with the report so far.
    public func load(batch: Int = 1_000, pause: Duration = .milliseconds(20), progress: (LoadReport) -> Void = { _ in }) async -> LoadReport {
        let started = ContinuousClock.now
        var report = LoadReport()
        let temporaryPrefix = directory.appending("tmp").string + "/"
        var listed = false
        do {
            try await fileSystem.withDirectoryHandle(atPath: directory) { handle in
                var pending = 0
                for try await entries in handle.listContents(recursive: true).batched() {
                    for entry in entries where entry.type == .regular {
                        guard let name = entry.name.string.isEmpty ? nil : entry.name.string, let hash = DiskIndex.hash(fileName: name),
                            !entry.path.string.hasPrefix(temporaryPrefix),
                            let info = try? await fileSystem.info(forFileAt: entry.path)
                        else { continue }
                        let size = Int(info.size)
                        let charged = state.withLockedValue { state -> Int in
                            state.index.insertIfAbsent(hash, size: size, usableUntil: Self.usableUntil(modificationTime: info))
                            return state.index.charge(size)
                        }
                        report.entries += 1
                        report.bytes += charged
                        pending += 1
                        if pending >= batch {
                            pending = 0
                            progress(report)
                            try await Task.sleep(for: pause)
                        }
                    }
                }
            }
            listed = true
        } catch {
            // No directory yet (nothing to load), or stopped while loading.
        }
        // Complete once every file on disk is indexed (or there is no directory): from then on
        // a key the index does not hold has no file.
        var missing = false
        if !listed {
            do {
                missing = try await fileSystem.info(forFileAt: directory) == nil
            } catch {
                missing = false  // unreadable: what it holds is unknown
            }
        }
        if (listed || missing) && !Task.isCancelled { state.withLockedValue { $0.indexComplete = true } }
        let elapsed = ContinuousClock.now - started
        report.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        await evictIfNeeded()
        return report
    }
}
