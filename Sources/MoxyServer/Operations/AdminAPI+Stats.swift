// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxySharedTier
import MoxyStorage
import NIOConcurrencyHelpers
import NIOCore

extension AdminAPI {
    /// `GET /stats`: the summary the status page and `moxy stats` show.
    func stats() -> String {
        let metrics = proxy.metrics
        let now = proxy.clock.now()
        var totals: [CacheResult: Int64] = [:]
        var sources: [JSONWriter.Value] = []
        let failures = proxy.validationLog.snapshot
        for (mode, route, counters) in metrics.allRequestCounters {
            let byResult = counters.byResult
            for (result, count) in byResult { totals[result, default: 0] += count }
            sources.append(
                .object([
                    ("mode", .string(mode)), ("route", .string(route)), ("requests", Self.results(byResult)),
                    ("validation_failures", .int(failures.filter { $0.key.source == route }.values.reduce(0, +))),
                    ("last_good_served", .int(metrics.value("moxy_last_good_served_total", [("route", route)]))),
                ]))
        }
        let memory = proxy.tier.store.stats
        var tiers: [(String, JSONWriter.Value)] = [
            ("memory", .object([
                ("entries", .int(memory.count)), ("bytes", .int(memory.bytes)), ("capacity", .int(proxy.tier.store.capacity)),
                ("evictions", .int(memory.evictions)),
            ]))
        ]
        if let disk = proxy.tier.disk?.store {
            let stats = disk.stats
            let loader = metrics.loader.withLockedValue { $0 }
            tiers.append(
                ("disk", .object([
                    ("entries", .int(stats.entries)), ("bytes", .int(stats.bytes)), ("capacity", .int(disk.maxSize)),
                    ("evictions", .int(stats.evictions)), ("expired", .int(stats.expired)),
                    ("corrupt", .int(stats.corrupt.values.reduce(0, +))), ("write_errors", .int(stats.writeErrors)),
                    ("loading", .bool(!loader.done)), ("loaded_entries", .int(loader.entries)),
                ])))
        }
        if let shared = proxy.tier.shared?.stats {
            let breaker = ["closed", "open", "half-open"][shared.breaker]
            tiers.append(
                ("shared", .object([
                    ("hits", .int(shared.operations["read_hit", default: 0])), ("misses", .int(shared.operations["read_miss", default: 0])),
                    ("stored", .int(shared.operations["write_stored", default: 0])), ("breaker", .string(breaker)),
                    ("purges_applied", .int(shared.purgesApplied)),
                    ("writes_dropped", .int(proxy.tier.queues.first { $0.tier.kind == .shared }?.counters.dropped ?? 0)),
                ])))
        }
        let upstreamErrors = metrics.values("moxy_upstream_errors_total").map { entry -> JSONWriter.Value in
            .object(entry.labels.map { label -> (String, JSONWriter.Value) in
                let parts = label.split(separator: "=", maxSplits: 1).map(String.init)
                return (parts[0], .string(parts.count > 1 ? parts[1] : ""))
            } + [("count", .int(entry.value))])
        }
        let upstreamRequests = metrics.values("moxy_upstream_requests_total").reduce(0) { $0 + $1.value }
        let recent = proxy.validationLog.recentFailures.reversed().map { failure -> JSONWriter.Value in
            .object([
                ("route", .string(failure.route)), ("rule", .string(failure.rule)), ("reason", .string(failure.reason)),
                ("status", .int(failure.status)), ("time", .int(failure.time)),
            ])
        }
        return JSONWriter.object([
            ("version", .string(MoxyBuild.version)),
            ("time", .int(now)),
            ("uptime_seconds", .int(now - startedAt)),
            ("requests", Self.results(totals)),
            ("sources", .array(sources)),
            ("tiers", .object(tiers)),
            ("upstream", .object([("requests", .int(upstreamRequests)), ("errors", .array(upstreamErrors))])),
            ("coalesced_waits", .int(metrics.value("moxy_coalesced_waits_total", []))),
            ("recent_validation_failures", .array(Array(recent))),
            ("purges", .int(metrics.values("moxy_purges_total").reduce(0) { $0 + $1.value })),
            ("history", .array(metrics.history.withLockedValue { $0.samples }.map { sample in
                .object([("time", .int(sample.time)), ("total", .int(sample.total)), ("hits", .int(sample.hits)), ("served", .int(sample.served))])
            })),
        ])
    }

    /// Request counts by cache result, with their total.
    static func results(_ byResult: [CacheResult: Int64]) -> JSONWriter.Value {
        .object(
            [("total", .int(byResult.values.reduce(0, +)))]
                + CacheResult.allCases.map { ($0.rawValue, .int(byResult[$0] ?? 0)) })
    }

    /// `GET /entries?prefix=…&limit=…`: what the tiers hold (memory first, then disk files not
    /// in memory; at most 10,000 files read per call).
    func entries(_ request: AdminRequest) async -> AdminResponse {
        let limit = min(1000, max(1, request.parameter("limit").flatMap { Int($0) } ?? 100))
        let prefixes = request.parameter("prefix").map { keys(forURL: $0) }
        func included(_ key: String) -> Bool { prefixes.map { $0.contains { key.hasPrefix($0) } } ?? true }
        let now = proxy.clock.now()
        let tier = proxy.tier
        var listed: [JSONWriter.Value] = []
        var seen: Set<String> = []
        for key in tier.store.keys(where: included).sorted() {
            guard listed.count < limit, let response = tier.store.peek(key), response.variantGeneration == nil else { continue }
            seen.insert(key)
            listed.append(entry(key, response, size: response.cost, tier: "memory", now: now))
        }
        if listed.count < limit, let disk = tier.disk?.store {
            let found = await disk.headers(limit: limit - listed.count) { included($0.key) && !seen.contains($0.key) }
            for (header, size) in found { listed.append(entry(header.key, header.response, size: size, tier: "disk", now: now)) }
        }
        return .json(JSONWriter.object([("entries", .array(listed)), ("count", .int(listed.count)), ("limit", .int(limit))]))
    }

    private func entry(_ key: String, _ response: CachedResponse, size: Int, tier: String, now: Int64) -> JSONWriter.Value {
        let age = response.age(at: now)
        let ttl = response.freshness.lifetime - age
        let state: String
        if ttl > 0 {
            state = "fresh"
        } else if let validation = source(ofKey: key)?.validation, ExchangeMachine.lastGood(response, validation, now: now) != nil {
            state = "last-good"
        } else {
            state = "stale"
        }
        return .object([
            ("key", .string(key)), ("status", .int(response.status)), ("size", .int(size)), ("age", .int(age)), ("ttl", .int(ttl)),
            ("tier", .string(tier)), ("state", .string(state)),
            ("surrogate_keys", .array(response.surrogateKeys.map { .string($0) })),
        ])
    }

    /// The source a store key belongs to (`route:NAME …` for routes, signed URLs otherwise).
    private func source(ofKey key: String) -> CacheSource? {
        let settings = proxy.settings
        guard key.hasPrefix("route:") else { return settings.signedSource }
        let name = key.dropFirst(6).prefix { $0 != " " }
        return settings.router.source(named: String(name))
    }

    /// Sets the metrics that are read from the tiers rather than counted as things happen.
    func updateScrapedMetrics() {
        proxy.metrics.updateTiers(memory: proxy.tier.store.stats, disk: proxy.tier.disk?.store.stats, validation: proxy.validationLog.snapshot)
        proxy.metrics.updateSlowerTiers(proxy.tier)
    }
}
