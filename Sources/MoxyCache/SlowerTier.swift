// SPDX-License-Identifier: Apache-2.0

public import NIOCore

/// A cache tier slower than memory (the disk, a store shared by several nodes), read and written
/// off the event loop. The tiered cache asks its tiers in order after a memory miss, promotes what
/// one finds into the faster ones, and writes every stored entry to each through a bounded
/// write-behind queue. Shaped like pingora-cache's `Storage`: a lookup, a write that nobody sees
/// until it finishes, a removal, a purge, and counters. A tier that has background work (a
/// janitor, a purge feed) runs it in ``run()``, owned by the server's task group.
public protocol SlowerTier: AnyObject, Sendable {
    /// Which tier it is, as `Cache-Status` and the metrics name it.
    var kind: CacheTierKind { get }

    /// The largest body it stores.
    var maxEntrySize: Int { get }

    /// The entry under a store key.
    /// - Parameter inMemoryLimit: A body larger than this may come back as a ``TierRead/large(_:_:)``
    ///   body, read as it is sent.
    /// - Returns: The entry, or nil (none, damaged, or the tier unavailable: a miss either way).
    func read(_ key: String, inMemoryLimit: Int) async -> TierRead?

    /// Starts writing an entry whose body follows in pieces; readers see nothing of it until the
    /// writer finishes (``TierWriter/finish()``).
    /// - Parameters:
    ///   - header: The entry without its body.
    ///   - declaredLength: The body's length when known.
    /// - Returns: The writer, or nil when the tier does not take the entry now.
    func beginWrite(_ header: StoredEntry, declaredLength: Int?) async -> (any TierWriter)?

    /// Removes the entry under a store key (its variants become unreachable with their marker).
    func remove(_ key: String) async

    /// Applies a purge to what the tier holds: removes (hard) or marks stale (soft) each entry
    /// it selects.
    /// - Returns: What it selected, or nil when the tier cannot count it.
    func apply(_ purge: PurgeRecord) async -> PurgeSweep?

    /// Background work for as long as the server runs (returns when its task is cancelled).
    func run() async
}

extension SlowerTier {
    /// Writes a whole entry (its body in one piece).
    /// - Returns: Whether it was published.
    public func write(_ entry: StoredEntry) async -> Bool {
        var header = entry
        header.body = ByteBuffer()
        guard let writer = await beginWrite(header, declaredLength: entry.body.readableBytes) else { return false }
        do {
            try await writer.append(entry.body)
        } catch {
            await writer.abort()
            return false
        }
        return await writer.finish()
    }

    /// Tiers without background work have nothing to run.
    public func run() async {}
}

/// An entry being written to a tier: invisible until ``finish()`` publishes it whole.
public protocol TierWriter: AnyObject, Sendable {
    /// Adds the next piece of the body.
    /// - Throws: When the tier cannot take more (the entry is then abandoned).
    func append(_ chunk: ByteBuffer) async throws
    /// Publishes the entry.
    /// - Returns: Whether it was published (false when it was refused, withdrawn or failed).
    func finish() async -> Bool
    /// Abandons the entry: nothing is published.
    func abort() async
}

/// What a tier read.
public enum TierRead: Sendable {
    /// The entry, body included.
    case whole(StoredEntry)
    /// An entry whose body is larger than the caller holds in memory: its header (the body left
    /// empty) and its body, read as it is sent.
    case large(StoredEntry, any BodySource)

    /// The entry (without its body when large).
    public var entry: StoredEntry {
        switch self {
        case .whole(let entry), .large(let entry, _): entry
        }
    }

    /// The response the entry holds.
    public var response: CachedResponse {
        switch self {
        case .whole(let entry): entry.response
        case .large(let entry, let body): entry.response(externalBody: body)
        }
    }
}

/// What a purge selected in one tier.
public struct PurgeSweep: Sendable, Hashable {
    /// Entries selected (variant markers not counted).
    public var count: Int
    /// Their store keys, unless everything was selected.
    public var keys: Set<String>?

    /// Creates a result.
    public init(count: Int, keys: Set<String>?) {
        self.count = count
        self.keys = keys
    }
}
