// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxySharedTier

extension CacheExchange {
    /// A miss in every tier: with a shared tier, one node of the cluster fetches the key while
    /// the others wait for its entry (``SharedTier/awaitFill(_:)``); the fetching node releases
    /// its lock when nothing was stored (a stored entry's write releases it).
    func coldFetch(_ request: CacheRequest, lookup: CacheLookup) async -> ProxyOutcome {
        guard let shared = tier.shared else { return await exchange(request, lookup: lookup) }
        switch await shared.awaitFill(lookup.storeKey) {
        case .stored:
            guard let found = await slowerLookup(request) else { return await exchange(request, lookup: lookup) }
            var outcome = isFresh(found, request) ? .complete(found.entry!, CacheStatus(.hit(found.tier))) : await exchange(request, lookup: found)
            outcome.cacheStatus.collapsed = true
            return outcome
        case .fetch(let token):
            let outcome = await exchange(request, lookup: lookup)
            if let token, !outcome.cacheStatus.stored { await shared.releaseFill(lookup.storeKey, token: token) }
            return outcome
        }
    }
}
