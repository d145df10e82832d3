// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import NIOConcurrencyHelpers

/// The stored responses of both modes, with `Vary` variants: a URI whose responses vary has a
/// marker under its primary key, and each variant lives under a key made of the primary key, the
/// marker's generation and the request's values of the varying fields.
final class CacheTier: Sendable {
    /// The memory tier.
    let store: MemoryStore
    private let generation = NIOLockedValueBox<UInt64>(0)

    init(store: MemoryStore) {
        self.store = store
    }

    /// Finds the stored response for a request, following a variant marker when the URI varies.
    func lookup(_ key: String, headers: [(name: String, value: String)]) -> CacheLookup {
        guard let first = store.get(key) else { return CacheLookup(entry: nil, storeKey: key, forward: .uriMiss) }
        guard let generation = first.variantGeneration else {
            return CacheLookup(entry: first, storeKey: key, forward: .uriMiss)
        }
        let variantKey = Self.variantKey(key, generation: generation, names: first.varyNames, headers: headers)
        return CacheLookup(entry: store.get(variantKey), storeKey: variantKey, forward: .varyMiss)
    }

    /// Stores a response for the request that fetched it; a response with `Vary` goes under a
    /// variant key behind a marker at the primary key.
    /// - Returns: Whether the store accepted it.
    func save(_ key: String, _ response: CachedResponse, requestHeaders: [(name: String, value: String)]) -> Bool {
        guard !response.varyNames.isEmpty else { return store.put(key, response) }
        let generation: UInt64
        if let marker = store.get(key), let current = marker.variantGeneration, marker.varyNames == response.varyNames {
            generation = current
        } else {
            generation = self.generation.withLockedValue {
                $0 += 1
                return $0
            }
            store.put(key, .variantMarker(names: response.varyNames, generation: generation))
        }
        let variantKey = Self.variantKey(key, generation: generation, names: response.varyNames, headers: requestHeaders)
        return store.put(variantKey, response)
    }

    /// Replaces the response under an exact store key (a freshened variant keeps its key).
    func replace(_ storeKey: String, _ response: CachedResponse) -> Bool {
        store.put(storeKey, response)
    }

    /// Removes every stored response for a primary key (its variants become unreachable with the marker).
    func invalidate(_ key: String) {
        store.remove(key)
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
