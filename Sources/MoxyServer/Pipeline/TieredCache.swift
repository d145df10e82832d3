// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxySharedTier
import MoxyStorage
import NIOConcurrencyHelpers
import NIOCore

/// The stored responses of both modes, in tiers: memory (answered on the event loop), then an
/// ordered list of slower tiers (the disk, a shared store) behind the ``SlowerTier`` protocol.
///
/// Every entry stored in memory is also written to each slower tier through its bounded
/// ``WriteBehindQueue`` (entries too large for memory only there); a memory miss is looked up in
/// the slower tiers in order by the fetch's leader (``slowerLookup(_:headers:promote:)``), and
/// what one finds is promoted into memory and the tiers before it. The purges recorded apply to
/// an entry read from any tier.
///
/// `Vary`: a URI whose responses vary has a marker under its primary key, and each variant lives
/// under a key made of the primary key, the marker's generation and the request's values of the
/// varying fields.
final class TieredCache: Sendable {
    /// The memory tier.
    let store: MemoryStore
    /// The disk tier, if enabled (also in ``tiers``): large bodies stream to it.
    let disk: DiskTier?
    /// The shared tier, if enabled (also in ``tiers``): it coalesces cold misses across nodes.
    let shared: SharedTier?
    /// The tiers slower than memory, fastest first.
    let tiers: [any SlowerTier]
    /// One write-behind queue per slower tier, in the same order.
    let queues: [WriteBehindQueue]
    let background: BackgroundWork?
    /// Variant markers' generations start at a random point, so that a marker made after a
    /// restart never takes the generation of one whose variants are still on disk.
    private let generation = NIOLockedValueBox<UInt64>(UInt64.random(in: 1...(1 << 62)))
    /// The purges recorded (persisted in the disk tier's purge log), checked against every entry
    /// read from a slower tier.
    let purges = NIOLockedValueBox<[PurgeRecord]>([])
    /// The purges of this run, numbered (the last thousand), which fetches in flight are
    /// checked against before they store.
    let recentPurges = NIOLockedValueBox<(sequence: UInt64, records: [(sequence: UInt64, record: PurgeRecord)])>((0, []))

    init(store: MemoryStore, tiers: [any SlowerTier] = [], background: BackgroundWork? = nil, queueCapacity: Int = 1_024) {
        self.store = store
        self.tiers = tiers
        self.disk = tiers.lazy.compactMap { $0 as? DiskTier }.first
        self.shared = tiers.lazy.compactMap { $0 as? SharedTier }.first
        self.queues = tiers.map { WriteBehindQueue(tier: $0, capacity: queueCapacity) }
        self.background = background
    }

    /// The largest entry some tier holds.
    var maxEntrySize: Int { disk == nil ? store.maxEntrySize : Int.max }

    /// Runs the slower tiers' write-behind queues and background work until ``finishWrites()``
    /// (the queues drain first) or cancellation.
    func runTiers() async {
        await withTaskGroup(of: Void.self) { group in
            for queue in queues { group.addTask { await queue.run() } }
            await withTaskGroup(of: Void.self) { work in
                for tier in tiers { work.addTask { await tier.run() } }
                await group.waitForAll()
                work.cancelAll()
            }
        }
    }

    /// Applies the purges other nodes publish to this node's memory and disk (the shared tier
    /// has them already).
    func applyPurgesFromOtherNodes() {
        shared?.onPurge { [weak self] record in
            _ = try? await self?.purge(record.selector, soft: record.soft, now: record.time, waitForDisk: false) { !($0 is SharedTier) }
        }
    }

    /// Accepts no more writes; ``runTiers()`` returns once the queued ones ran.
    func finishWrites() {
        for queue in queues { queue.finish() }
    }

    /// Finds the stored response for a request, following a variant marker when the URI varies.
    /// A large entry is found here when its body is still arriving or its file is open.
    func lookup(_ key: String, headers: [(name: String, value: String)]) -> CacheLookup {
        lookup(key, headers: { headers })
    }

    /// ``lookup(_:headers:)`` with the request's fields made only when the entry varies on some.
    func lookup(_ key: String, headers: () -> [(name: String, value: String)]) -> CacheLookup {
        guard let first = store.get(key) ?? disk?.known(key) else { return CacheLookup(entry: nil, storeKey: key, forward: .uriMiss) }
        guard let generation = first.variantGeneration else {
            return CacheLookup(entry: first, storeKey: key, forward: .uriMiss)
        }
        let variantKey = Self.variantKey(key, generation: generation, names: first.varyNames, headers: headers())
        return CacheLookup(entry: store.get(variantKey) ?? disk?.known(variantKey), storeKey: variantKey, forward: .varyMiss)
    }

    /// Stores a response for the request that fetched it; a response with `Vary` goes under a
    /// variant key behind a marker at the primary key.
    /// - Parameter keepLastGood: For a source with validation, how long past its freshness the
    ///   response may answer as the last good one (the slower tiers keep it that long).
    /// - Returns: Whether some tier accepted it.
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
        disk?.withdraw(key)
        for queue in queues { queue.submit { await $0.remove(key) } }
    }

    /// Stores in memory (if it fits) and queues the write to each slower tier; a response whose
    /// body is elsewhere already (a freshened large entry) is copied to a new entry there.
    @discardableResult
    private func put(_ key: String, _ response: CachedResponse, keepLastGood: Int64? = nil) -> Bool {
        let entry = Self.storedEntry(key, response, keepLastGood: keepLastGood)
        disk?.forgetOpen(key)
        if let body = response.externalBody {
            var queued = false
            for queue in queues where (body.length ?? .max) <= queue.tier.maxEntrySize {
                queued = queue.submit { await Self.copy(entry, body: body, to: $0) } || queued
            }
            return queued
        }
        let inMemory = store.put(key, response)
        var queued = false
        for queue in queues where response.body.readableBytes <= queue.tier.maxEntrySize {
            queued = queue.submit { _ = await $0.write(entry) } || queued
        }
        return inMemory || queued
    }

    /// Looks a request up in the slower tiers in order (after a memory miss): the primary key,
    /// and the variant its marker points to. What is found is promoted to memory (when it fits)
    /// and written to the slower tiers before the one that had it.
    /// - Parameter promote: Makes the in-memory form of a response read back (its encoded forms are
    ///   not stored in the slower tiers); applied only to responses small enough for memory.
    /// - Returns: The lookup with the entry and the tier it came from, or nil when none has one.
    func slowerLookup(
        _ key: String, headers: [(name: String, value: String)], promote: (CachedResponse) -> CachedResponse
    ) async -> CacheLookup? {
        for (index, tier) in tiers.enumerated() {
            guard let first = await read(key, from: tier) else { continue }
            promoteToFasterTiers(first.read, before: index)
            guard let generation = first.response.variantGeneration else {
                let entry = promoted(first.response, promote)
                if entry.externalBody == nil { store.put(key, entry) }
                return CacheLookup(entry: entry, storeKey: key, forward: .uriMiss, tier: tier.kind)
            }
            store.put(key, first.response)
            let variantKey = Self.variantKey(key, generation: generation, names: first.response.varyNames, headers: headers)
            guard let found = await read(variantKey, from: tier) else { continue }
            promoteToFasterTiers(found.read, before: index)
            let variant = promoted(found.response, promote)
            if variant.externalBody == nil { store.put(variantKey, variant) }
            return CacheLookup(entry: variant, storeKey: variantKey, forward: .varyMiss, tier: tier.kind)
        }
        return nil
    }

    /// A store key's response in one slower tier, the recorded purges applied: for the disk, a
    /// body still arriving, a file read whole, or the head of a file whose body is larger than
    /// memory holds (read as it is sent, its file kept open for the next requests).
    private func read(_ storeKey: String, from tier: any SlowerTier) async -> (response: CachedResponse, read: TierRead?)? {
        let isDisk = tier === disk
        if isDisk, let known = disk?.known(storeKey) { return (known, nil) }
        let epoch = isDisk ? disk?.openEpoch : nil
        guard let read = await tier.read(storeKey, inMemoryLimit: store.maxEntrySize) else { return nil }
        let verdict = purgeVerdict(read.entry)
        if verdict == .remove {
            await tier.remove(storeKey)
            return nil
        }
        var response = read.response
        if case .stale(let since) = verdict, response.variantGeneration == nil { response = response.staled(at: since) }
        if let epoch, response.externalBody != nil { disk?.keepOpen(storeKey, response, readAt: epoch) }
        return (response, read)
    }

    /// Writes an entry read from a slower tier to the tiers before it (a node that starts empty
    /// fills its disk from the shared tier). Large bodies stay where they are.
    private func promoteToFasterTiers(_ read: TierRead?, before index: Int) {
        guard index > 0, case .whole(let entry) = read else { return }
        for queue in queues[..<index] where entry.body.readableBytes <= queue.tier.maxEntrySize {
            queue.submit { _ = await $0.write(entry) }
        }
    }

    private func promoted(_ response: CachedResponse, _ promote: (CachedResponse) -> CachedResponse) -> CachedResponse {
        response.externalBody == nil && response.body.readableBytes <= store.maxEntrySize ? promote(response) : response
    }

    /// A response as a stored entry, with its last-good window when its source keeps one.
    static func storedEntry(_ key: String, _ response: CachedResponse, keepLastGood: Int64?) -> StoredEntry {
        StoredEntry(key: key, response: response, lastGoodUntil: keepLastGood.map { StoredEntry.lastGoodUntil(response, keepLastGood: $0) })
    }

    static func variantKey(_ key: String, generation: UInt64, names: [String], headers: [(name: String, value: String)])
        -> String
    {
        StoreKey(primary: key, variant: .init(generation: generation, values: VaryKey.secondary(names, requestHeaders: headers))).encoded
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
    /// The tier the entry came from.
    var tier: CacheTierKind = .memory
}
