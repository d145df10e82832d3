// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxyStorage
import NIOConcurrencyHelpers

/// How many entries a purge selected, each counted once.
struct PurgeCount: Sendable, Hashable {
    /// Entries in the memory tier.
    var memory = 0
    /// Files of the disk tier; nil while the sweep runs in the background.
    var disk: Int? = 0
    /// Entries purged: those in either tier, each once (an entry in memory is also on disk);
    /// memory's alone while the disk sweep runs in the background.
    var entries = 0
}

/// A purge that could not be made persistent (the purge log cannot be written): refused, since
/// a restart would bring the entries back.
struct PurgeError: Error, CustomStringConvertible {
    let reason: String
    var description: String { "the purge log cannot be written: \(reason)" }
}

extension TieredCache {
    /// Reads the purge log of an earlier run (call before serving).
    func loadPurges() async {
        guard let disk else { return }
        let records = await disk.store.loadPurges()
        purges.withLockedValue { $0 = records }
    }

    /// What the recorded purges do to an entry read from disk: the newest verdict that applies
    /// (a removal wins over a stale mark).
    func purgeVerdict(_ entry: StoredEntry) -> PurgeRecord.Verdict? {
        let records = purges.withLockedValue { $0 }
        guard !records.isEmpty else { return nil }
        var verdict: PurgeRecord.Verdict?
        for record in records {
            switch record.verdict(responseTime: entry.responseTime, key: entry.key, tags: entry.surrogateKeys) {
            case .remove: return .remove
            case .stale(let since): verdict = .stale(since: max(since, { if case .stale(let s) = verdict { s } else { 0 } }()))
            case nil: continue
            }
        }
        return verdict
    }

    /// The number of purges made so far: a fetch notes it when it starts, and what it brings is
    /// checked against the purges made after (``unlessPurged(_:after:key:)``).
    var purgeMark: UInt64 { recentPurges.withLockedValue { $0.sequence } }

    /// What the purges made since `mark` do to an answer about to be stored (Varnish bans go by
    /// the same rule): a hard purge that selects it refuses it, a soft one makes it stale from
    /// the purge on. Purges are counted, not timed, so a purge in the same second as a fetch
    /// that started after it does not refuse that fetch.
    func purgedSince(_ mark: UInt64, key: String, tags: [String]) -> PurgeRecord.Verdict? {
        let records = recentPurges.withLockedValue { $0.records }
        var verdict: PurgeRecord.Verdict?
        for (sequence, record) in records.reversed() {
            guard sequence > mark else { break }
            guard record.selector.matches(key: key, tags: tags) else { continue }
            if !record.soft { return .remove }
            if verdict == nil { verdict = .stale(since: record.time) }
        }
        return verdict
    }

    /// The response to store for a fetch that started at purge mark `mark`: as it is, stale from
    /// a soft purge made since, or nil when a hard purge made since selects it.
    func unlessPurged(_ response: CachedResponse, after mark: UInt64?, key: String) -> CachedResponse? {
        guard let mark else { return response }
        switch purgedSince(mark, key: key, tags: response.surrogateKeys) {
        case nil: return response
        case .remove: return nil
        case .stale(let since): return response.staled(at: since)
        }
    }

    /// Purges every tier: records the purge in the disk tier's log first (synced), so neither a
    /// restart nor a write in flight brings the entries back; then removes (hard) or marks stale
    /// (soft) what memory holds, withdraws downloads and forgets open large files; then applies
    /// it to each slower tier, waiting for them (`waitForTiers`) or in the background: the log
    /// already refuses every purged file that is read, so the disk's sweep only frees their
    /// space, and the answer need not wait for a read of every file's header (2.8 s per
    /// 100,000 files).
    /// - Parameter tiers: Which slower tiers to apply it to (a purge that arrives from the
    ///   shared tier's feed is applied there already).
    /// - Throws: ``PurgeError`` when the purge log cannot be written (nothing is purged then).
    func purge(
        _ selector: PurgeSelector, soft: Bool, now: Int64, waitForDisk: Bool = true, tiers selected: ((any SlowerTier) -> Bool)? = nil
    ) async throws(PurgeError) -> PurgeCount {
        let record = PurgeRecord(selector: selector, soft: soft, time: now)
        if let disk {
            let all = purges.withLockedValue { $0 } + [record]
            do {
                try await disk.store.recordPurge(record, all: all)
            } catch {
                throw PurgeError(reason: "\(error)")
            }
            purges.withLockedValue { $0 = Array(all.suffix(DiskStore.maxPurges)) }
        } else {
            purges.withLockedValue { $0 = Array(($0 + [record]).suffix(DiskStore.maxPurges)) }
        }
        // Before memory is purged: a fetch in flight that stores after this point is refused.
        recentPurges.withLockedValue { state in
            state.sequence += 1
            state.records.append((state.sequence, record))
            if state.records.count > 1_000 { state.records.removeFirst(state.records.count - 1_000) }
        }
        var count = PurgeCount()
        var memoryKeys: Set<String> = []
        for key in store.keys(where: { _ in true }) {
            guard let response = store.peek(key),
                selector.matches(key: key, tags: response.surrogateKeys)
            else { continue }
            let isMarker = response.variantGeneration != nil
            if soft {
                if !isMarker { store.put(key, response.staled(at: now)) }
            } else {
                store.remove(key)
            }
            if !isMarker { memoryKeys.insert(key) }
        }
        count.memory = memoryKeys.count
        // Large entries: open files and bodies still arriving.
        disk?.purgeOpen(selector, soft: soft)
        let applied = tiers.filter { selected?($0) ?? true }
        var entries = memoryKeys
        var uncounted = count.memory
        // Other tiers before the answer: the shared tier's feed carries the purge to every node.
        for tier in applied where !(tier === disk) {
            guard let swept = await tier.apply(record) else { continue }
            if let keys = swept.keys { entries.formUnion(keys) } else { uncounted = max(uncounted, swept.count) }
        }
        if let disk, applied.contains(where: { $0 === disk }) {
            if !waitForDisk, let background {
                count.disk = nil
                count.entries = max(entries.count, uncounted)
                // Refused when the server stops: the log still refuses the files, and the janitor
                // or the size bound frees them later.
                background.submit({ _ = await disk.apply(record) }, refused: {})
                return count
            }
            if let swept = await disk.apply(record) {
                count.disk = swept.count
                if let keys = swept.keys { entries.formUnion(keys) } else { uncounted = max(uncounted, swept.count) }
            }
        } else {
            count.disk = disk == nil ? 0 : nil
        }
        count.entries = max(entries.count, uncounted)
        return count
    }
}
