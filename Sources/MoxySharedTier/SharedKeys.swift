// SPDX-License-Identifier: Apache-2.0

import MoxyCache

/// The Redis keys of the shared tier. An entry's keys share one hash tag (its store key's hash
/// in braces), so that in Redis Cluster an entry lives in one slot: its chunks and metadata
/// are written in one pipeline and read with one `MGET`.
public struct SharedKeys: Sendable, Hashable {
    /// What every key starts with.
    public let prefix: String

    /// Keys under this prefix.
    public init(prefix: String) {
        self.prefix = prefix
    }

    /// The hash tag of a store key: `{` 16 hex digits of ``StoreKey/hash`` `}`.
    public func tag(_ storeKey: String) -> String { "{" + StoreKey.hex(StoreKey.hash(storeKey)) + "}" }

    /// The metadata (written last; a reader starts from it).
    public func meta(_ storeKey: String) -> String { prefix + tag(storeKey) + ":m" }

    /// Chunk `index` of write `writeID`: a new write never overwrites the chunks a reader may be
    /// reading.
    public func chunk(_ storeKey: String, writeID: UInt64, index: Int) -> String {
        prefix + tag(storeKey) + ":c:" + StoreKey.hex(writeID) + ":\(index)"
    }

    /// The lock of a cluster-wide fetch of a key.
    public func fill(_ storeKey: String) -> String { prefix + tag(storeKey) + ":f" }

    /// The set of store keys carrying a surrogate key.
    public func surrogate(_ tag: String) -> String { prefix + "tag:" + tag }

    /// The cluster's purge feed (a Stream), and the counter that numbers its entries (one hash
    /// tag: one slot, so a script can update both).
    public var purges: String { prefix + "{purges}:feed" }
    /// The purge feed's counter.
    public var purgeSequence: String { prefix + "{purges}:sequence" }
}
