// SPDX-License-Identifier: Apache-2.0

public import MoxyCache
import NIOConcurrencyHelpers
import NIOCore

/// The disk tier as the tiered cache sees it: the files of a ``DiskStore``, plus what only a
/// disk has: bodies being written that clients already read from the growing file
/// (``Download``), and large entries whose files stay open between requests
/// (``OpenLargeEntries``, nginx's `open_file_cache`).
public final class DiskTier: SlowerTier {
    /// The files.
    public let store: DiskStore
    /// Large bodies being written, by store key: requests meanwhile read the growing file.
    private let downloads = NIOLockedValueBox<[String: Download]>([:])
    /// Large entries read recently, their files open.
    private let open = NIOLockedValueBox(OpenLargeEntries())

    /// A tier over these files.
    public init(store: DiskStore) {
        self.store = store
    }

    public var kind: CacheTierKind { .disk }
    public var maxEntrySize: Int { store.maxFileSize }

    /// Downloads in progress.
    public var downloadCount: Int { downloads.withLockedValue { $0.count } }

    /// A large entry known without reading the disk: one being downloaded, or one whose file is
    /// open. Synchronous, so a hit on it stays on the event loop.
    public func known(_ storeKey: String) -> CachedResponse? {
        if let download = downloads.withLockedValue({ $0[storeKey] }) { return download.response }
        guard let entry = open.withLockedValue({ $0.get(storeKey) }) else { return nil }
        // A file found damaged while it was sent is gone from disk; its open descriptor goes too.
        guard entry.externalBody?.isDamaged != true else {
            open.withLockedValue { $0.remove(storeKey) }
            return nil
        }
        return entry
    }

    public func read(_ key: String, inMemoryLimit: Int) async -> TierRead? {
        switch await store.read(key, inMemoryLimit: inMemoryLimit) {
        case nil: nil
        case .whole(let entry): .whole(entry)
        case .large(let entry, let body): .large(entry, body)
        }
    }

    /// Counts removals of open entries: read it before a file, pass it to ``keepOpen(_:_:readAt:)``.
    public var openEpoch: UInt64 { open.withLockedValue { $0.epoch } }

    /// Keeps a large entry's file open for the next requests, unless its key was stored anew or
    /// removed since `epoch` was read.
    public func keepOpen(_ storeKey: String, _ response: CachedResponse, readAt epoch: UInt64) {
        open.withLockedValue { $0.insert(storeKey, response, readAt: epoch) }
    }

    /// Forgets the open file of a store key (it is being stored anew).
    public func forgetOpen(_ storeKey: String) {
        open.withLockedValue { $0.remove(storeKey) }
    }

    /// Forgets a key entirely, before its file is removed: its open file, and a body still
    /// arriving (not published; its readers get it, later lookups do not).
    public func withdraw(_ storeKey: String) {
        open.withLockedValue { $0.remove(storeKey) }
        if let download = downloads.withLockedValue({ $0.removeValue(forKey: storeKey) }) { download.writer.withdraw() }
    }

    /// What a purge selects among open files (forgotten) and downloads (withdrawn when hard).
    public func purgeOpen(_ selector: PurgeSelector, soft: Bool) {
        open.withLockedValue { open in
            for key in open.keys where selector.matches(key: key, tags: open.get(key)?.surrogateKeys ?? []) {
                open.remove(key)
            }
        }
        guard !soft else { return }
        let arriving = downloads.withLockedValue { $0 }.filter { selector.matches(key: $0.key, tags: $0.value.response.surrogateKeys) }
        for (key, download) in arriving {
            downloads.withLockedValue { _ = $0.removeValue(forKey: key) }
            download.writer.withdraw()
        }
    }

    public func beginWrite(_ header: StoredEntry, declaredLength: Int?) async -> (any TierWriter)? {
        await store.beginWrite(header, declaredLength: declaredLength)
    }

    public func remove(_ key: String) async {
        await store.remove(key)
    }

    public func apply(_ purge: PurgeRecord) async -> PurgeSweep? {
        let swept = await store.sweep(purge)
        return PurgeSweep(count: swept.count, keys: swept.keys)
    }

    /// Starts storing a response whose body streams in: its file is created, and until it is
    /// complete, lookups of its store key answer with the growing body.
    /// - Returns: The download, or nil when the disk cannot take it now.
    public func beginDownload(_ entry: StoredEntry, head: CachedResponse, declaredLength: Int?) async -> Download? {
        guard let writer = await store.beginWrite(entry, declaredLength: declaredLength) else { return nil }
        let response = CachedResponse(
            status: head.status, fields: head.fields, body: ByteBuffer(), responseTime: head.responseTime, freshness: head.freshness,
            downstreamMaxAge: head.downstreamMaxAge, varyNames: head.varyNames, externalBody: writer.body,
            surrogateKeys: head.surrogateKeys)
        let download = Download(storeKey: entry.key, writer: writer, response: response)
        let replaced = downloads.withLockedValue { $0.updateValue(download, forKey: entry.key) }
        // Two downloads of one key (a request that bypassed the coalescing): the later one wins.
        replaced?.writer.withdraw()
        return download
    }

    /// The download ended (published or not): lookups go to the disk again.
    public func endDownload(_ download: Download) {
        downloads.withLockedValue { downloads in
            if downloads[download.storeKey]?.writer === download.writer { downloads[download.storeKey] = nil }
        }
        // An entry opened before this one was published would shadow it.
        open.withLockedValue { $0.remove(download.storeKey) }
    }
}

/// A large body being written to the disk tier while clients read it from the growing file.
public struct Download: Sendable {
    /// The key it is stored under.
    public let storeKey: String
    /// The file being written.
    public let writer: DiskWriter
    /// The stored head with the growing body, which every client of the key gets meanwhile.
    public let response: CachedResponse
}

extension DiskWriter: TierWriter {}
