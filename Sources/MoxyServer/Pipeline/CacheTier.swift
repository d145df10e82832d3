// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxyStorage
import NIOConcurrencyHelpers
import NIOCore

/// The stored responses of both modes, with `Vary` variants: a URI whose responses vary has a
/// marker under its primary key, and each variant lives under a key made of the primary key, the
/// marker's generation and the request's values of the varying fields.
///
/// With a disk tier, every entry stored in memory is also written to disk in the background (and
/// entries too large for memory only there); a memory miss is probed on disk by the fetch's
/// leader (``diskLookup(_:headers:)``) and what it finds is promoted to memory.
final class CacheTier: Sendable {
    /// The memory tier.
    let store: MemoryStore
    /// The disk tier, if enabled.
    let disk: DiskStore?
    let background: BackgroundWork?
    /// Variant markers' generations start at a random point, so that a marker made after a
    /// restart never takes the generation of one whose variants are still on disk.
    private let generation = NIOLockedValueBox<UInt64>(UInt64.random(in: 1...(1 << 62)))
    /// Large bodies being written to disk, by store key: requests meanwhile read the growing file.
    let downloads = NIOLockedValueBox<[String: Download]>([:])
    /// Large entries read from disk recently, their files open.
    let openLarge = NIOLockedValueBox(OpenLargeEntries())
    /// The purges recorded (persisted in the disk tier's purge log), checked against every entry
    /// read from disk.
    let purges = NIOLockedValueBox<[PurgeRecord]>([])
    /// The purges of this run, numbered (the last thousand), which fetches in flight are
    /// checked against before they store.
    let recentPurges = NIOLockedValueBox<(sequence: UInt64, records: [(sequence: UInt64, record: PurgeRecord)])>((0, []))

    init(store: MemoryStore, disk: DiskStore? = nil, background: BackgroundWork? = nil) {
        self.store = store
        self.disk = disk
        self.background = background
    }

    /// The largest entry some tier holds.
    var maxEntrySize: Int { disk == nil ? store.maxEntrySize : Int.max }

    /// Finds the stored response for a request, following a variant marker when the URI varies.
    /// A large entry is found here when its body is still arriving or its file is open.
    func lookup(_ key: String, headers: [(name: String, value: String)]) -> CacheLookup {
        guard let first = store.get(key) ?? onDiskNow(key) else { return CacheLookup(entry: nil, storeKey: key, forward: .uriMiss) }
        guard let generation = first.variantGeneration else {
            return CacheLookup(entry: first, storeKey: key, forward: .uriMiss)
        }
        let variantKey = Self.variantKey(key, generation: generation, names: first.varyNames, headers: headers)
        return CacheLookup(entry: store.get(variantKey) ?? onDiskNow(variantKey), storeKey: variantKey, forward: .varyMiss)
    }

    /// A large entry known without reading the disk: one being downloaded, or one whose file is open.
    private func onDiskNow(_ storeKey: String) -> CachedResponse? {
        guard disk != nil else { return nil }
        if let download = downloads.withLockedValue({ $0[storeKey] }) { return download.response }
        guard let open = openLarge.withLockedValue({ $0.get(storeKey) }) else { return nil }
        // A file found damaged while it was sent is gone from disk; its open descriptor goes too.
        guard open.externalBody?.isDamaged != true else {
            openLarge.withLockedValue { $0.remove(storeKey) }
            return nil
        }
        return open
    }

    /// Stores a response for the request that fetched it; a response with `Vary` goes under a
    /// variant key behind a marker at the primary key.
    /// - Parameter keepLastGood: For a source with validation, how long past its freshness the
    ///   response may answer as the last good one (the disk tier keeps it that long).
    /// - Returns: Whether the store accepted it.
    func save(_ key: String, _ response: CachedResponse, requestHeaders: [(name: String, value: String)], keepLastGood: Int64? = nil) -> Bool {
        put(storeKey(key, for: response, requestHeaders: requestHeaders), response, keepLastGood: keepLastGood)
    }

    /// The key a response for a request is stored under: the primary key, or for a response with
    /// `Vary` its variant key behind the marker (made when there is none for these names).
    func storeKey(_ key: String, for response: CachedResponse, requestHeaders: [(name: String, value: String)]) -> String {
        guard !response.varyNames.isEmpty else { return key }
        let generation: UInt64
        if let marker = store.get(key), let current = marker.variantGeneration, marker.varyNames == response.varyNames {
            generation = current
        } else {
            generation = self.generation.withLockedValue {
                $0 += 1
                return $0
            }
            put(key, .variantMarker(names: response.varyNames, generation: generation))
        }
        return Self.variantKey(key, generation: generation, names: response.varyNames, headers: requestHeaders)
    }

    /// Replaces the response under an exact store key (a freshened variant keeps its key).
    func replace(_ storeKey: String, _ response: CachedResponse, keepLastGood: Int64? = nil) -> Bool {
        put(storeKey, response, keepLastGood: keepLastGood)
    }

    /// Removes every stored response for a primary key (its variants become unreachable with the marker).
    func invalidate(_ key: String) {
        store.remove(key)
        openLarge.withLockedValue { $0.remove(key) }
        // A large body still arriving is not published: readers get it, later lookups do not.
        if let download = downloads.withLockedValue({ $0.removeValue(forKey: key) }) { download.writer.withdraw() }
        if let disk, let background { background.submit({ await disk.remove(key) }, refused: {}) }
    }

    /// Stores in memory (if it fits) and, with a disk tier, on disk in the background; a response
    /// whose body is on disk already (a freshened large entry) is copied to a new file there.
    @discardableResult
    private func put(_ key: String, _ response: CachedResponse, keepLastGood: Int64? = nil) -> Bool {
        let entry = Self.diskEntry(key, response, keepLastGood: keepLastGood)
        openLarge.withLockedValue { $0.remove(key) }
        if let body = response.externalBody {
            guard let disk, let background else { return false }
            background.submit({ await Self.copy(entry, body: body, to: disk) }, refused: {})
            return true
        }
        let inMemory = store.put(key, response)
        guard let disk, let background else { return inMemory }
        background.submit({ await disk.put(entry) }, refused: {})
        return true
    }

    /// Looks a request up on disk (after a memory miss): the primary key, and the variant its
    /// marker points to. What is found is promoted to memory (when it fits).
    /// - Parameter promote: Makes the in-memory form of a response read back (its gzip form is
    ///   not stored on disk); applied only to responses small enough for the memory tier.
    /// - Returns: The lookup with the disk's entry, or nil when the disk has none.
    func diskLookup(
        _ key: String, headers: [(name: String, value: String)], promote: (CachedResponse) -> CachedResponse
    ) async -> CacheLookup? {
        guard disk != nil, let first = await onDisk(key) else { return nil }
        guard let generation = first.variantGeneration else {
            let entry = promoted(first, promote)
            if entry.externalBody == nil { store.put(key, entry) }
            return CacheLookup(entry: entry, storeKey: key, forward: .uriMiss)
        }
        store.put(key, first)
        let variantKey = Self.variantKey(key, generation: generation, names: first.varyNames, headers: headers)
        guard let read = await onDisk(variantKey) else { return nil }
        let variant = promoted(read, promote)
        if variant.externalBody == nil { store.put(variantKey, variant) }
        return CacheLookup(entry: variant, storeKey: variantKey, forward: .varyMiss)
    }

    /// A store key's response on disk: a body still arriving, a file read whole, or the head of a
    /// file whose body is larger than memory holds (read as it is sent).
    private func onDisk(_ storeKey: String) async -> CachedResponse? {
        if let known = onDiskNow(storeKey) { return known }
        let epoch = openLarge.withLockedValue { $0.epoch }
        let read = await disk?.read(storeKey, inMemoryLimit: store.maxEntrySize)
        guard let read else { return nil }
        let verdict = purgeVerdict(read.entry)
        if verdict == .remove {
            await disk?.remove(storeKey)
            return nil
        }
        var response: CachedResponse
        switch read {
        case .whole(let entry): response = entry.response
        case .large(let entry, let body): response = entry.response(externalBody: body)
        }
        if case .stale(let since) = verdict, response.variantGeneration == nil { response = response.staled(at: since) }
        if response.externalBody != nil { openLarge.withLockedValue { $0.insert(storeKey, response, readAt: epoch) } }
        return response
    }

    private func promoted(_ response: CachedResponse, _ promote: (CachedResponse) -> CachedResponse) -> CachedResponse {
        response.externalBody == nil && response.body.readableBytes <= store.maxEntrySize ? promote(response) : response
    }

    /// A response as a disk entry, with its last-good window when its source keeps one.
    static func diskEntry(_ key: String, _ response: CachedResponse, keepLastGood: Int64?) -> DiskEntry {
        DiskEntry(key: key, response: response, lastGoodUntil: keepLastGood.map { DiskEntry.lastGoodUntil(response, keepLastGood: $0) })
    }

    static func variantKey(_ key: String, generation: UInt64, names: [String], headers: [(name: String, value: String)])
        -> String
    {
        key + "\u{1}\(generation)\u{1}" + VaryKey.secondary(names, requestHeaders: headers)
    }
}

/// The result of a cache lookup.
struct CacheLookup: Sendable {
    /// The stored response matching the request, fresh or not.
    var entry: CachedResponse?
    /// The key a response for this request is stored under (a variant key when the URI varies).
    var storeKey: String
    /// Why a miss goes forward: `uri-miss` or `vary-miss`.
    var forward: CacheStatus.Forward
}
