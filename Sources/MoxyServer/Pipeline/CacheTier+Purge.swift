// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxyStorage
import NIOConcurrencyHelpers

/// How many entries a purge selected, each counted once.
struct PurgeCount: Sendable, Hashable {
    /// Entries in the memory tier.
    var memory = 0
    /// Files of the disk tier.
    var disk = 0
    /// Entries purged: those in either tier, each once (an entry in memory is also on disk).
    var entries = 0
}

/// A purge that could not be made persistent (the purge log cannot be written): refused, since
/// a restart would bring the entries back.
struct PurgeError: Error, CustomStringConvertible {
    let reason: String
    var description: String { "the purge log cannot be written: \(reason)" }
}

extension CacheTier {
    /// Reads the purge log of an earlier run (call before serving).
    func loadPurges() async {
        guard let disk else { return }
        let records = await disk.loadPurges()
        purges.withLockedValue { $0 = records }
    }

    /// What the recorded purges do to an entry read from disk: the newest verdict that applies
    /// (a removal wins over a stale mark).
    func purgeVerdict(_ entry: DiskEntry) -> PurgeRecord.Verdict? {
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

    /// Purges every tier: records the purge in the disk tier's log first (synced), so neither a
    /// restart nor a write in flight brings the entries back; then removes (hard) or marks stale
    /// (soft) what memory holds, withdraws downloads and forgets open large files; then sweeps
    /// the disk tier's files.
    /// - Throws: ``PurgeError`` when the purge log cannot be written (nothing is purged then).
    func purge(_ selector: PurgeSelector, soft: Bool, now: Int64) async throws(PurgeError) -> PurgeCount {
        let record = PurgeRecord(selector: selector, soft: soft, time: now)
        if let disk {
            let all = purges.withLockedValue { $0 } + [record]
            do {
                try await disk.recordPurge(record, all: all)
            } catch {
                throw PurgeError(reason: "\(error)")
            }
            purges.withLockedValue { $0 = Array(all.suffix(DiskStore.maxPurges)) }
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
        openLarge.withLockedValue { open in
            for key in open.keys where selector.matches(key: key, tags: open.get(key)?.surrogateKeys ?? []) {
                open.remove(key)
            }
        }
        let arriving = downloads.withLockedValue { $0 }.filter { selector.matches(key: $0.key, tags: $0.value.response.surrogateKeys) }
        for (key, download) in arriving where !soft {
            downloads.withLockedValue { _ = $0.removeValue(forKey: key) }
            download.writer.withdraw()
        }
        guard let disk else {
            count.entries = count.memory
            return count
        }
        let swept = await disk.sweep(record)
        count.disk = swept.count
        count.entries = swept.keys.map { $0.union(memoryKeys).count } ?? max(swept.count, count.memory)
        return count
    }
}
