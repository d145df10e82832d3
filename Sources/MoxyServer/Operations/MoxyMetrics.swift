// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxyStorage
import NIOConcurrencyHelpers
public import Prometheus

/// The server's Prometheus metrics, one registry per server (so several servers in one process,
/// as in the tests, never mix their counts). The admin listener's `/metrics` emits it; `moxy
/// serve` also bootstraps swift-metrics with it, so libraries reporting through swift-metrics land
/// in the same text. Names are prefixed `moxy_`, in base units (seconds, bytes), with no per-URL
/// label and no ratio (Prometheus computes ratios from the counters); the reference is in
/// `docs/operations.md`.
///
/// Counters on the request path (``RequestCounters``, ``RequestTimings``) are plain integers in
/// per-event-loop lanes, found by small integers and written as Prometheus text when scraped: no
/// lock, no string work and no cache line shared between loops per request.
public final class MoxyMetrics: Sendable {
    /// The registry `/metrics` emits.
    public let registry: PrometheusCollectorRegistry
    /// `moxy_request_duration_seconds{mode}` (from the request's head read to its last byte
    /// written) and `moxy_sent_bytes_total{mode}` (response bytes written, heads and bodies).
    let requests: RequestTimings
    /// Lanes of the per-event-loop counters: the server's event loop count.
    let lanes: Int
    /// Each event loop's lane, given out in the order loops first ask.
    private let laneOfLoop = NIOLockedValueBox<[ObjectIdentifier: Int]>([:])
    /// `moxy_upstream_duration_seconds{mode}`: from the upstream request to its response head.
    /// Indexed by ``RequestMode/index`` (no hashing per request).
    let upstreamDuration: [ValueHistogram]
    /// The disk loader's progress: entries indexed so far, and whether it finished.
    let loader = NIOLockedValueBox<(entries: Int, done: Bool)>((0, true))
    /// Gauges set from the tiers when scraped, by name and labels.
    private let gauges = NIOLockedValueBox<[LabelledKey: Gauge]>([:])
    /// Per mode and route, its request counters (kept across reloads, so counts never restart).
    private let sources = NIOLockedValueBox<[String: RequestCounters]>([:])
    /// Counters with labels only known when they happen (error kinds, rules, reasons), by name and labels.
    private let labelled = NIOLockedValueBox<[LabelledKey: (counter: Counter, value: Int64)]>([:])

    /// Bucket bounds (seconds) of the request and upstream duration histograms: 0.5 ms to 30 s.
    /// Values are `Double` seconds, not `Duration`: recording one costs about half the
    /// instructions (callgrind: ~375 instead of ~795; `Duration` compares and sums are 128-bit).
    static let durationBuckets: [Double] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30]

    /// Creates the metrics in a registry of their own.
    /// - Parameters:
    ///   - version: The version for `moxy_build_info`.
    ///   - commit: The commit for `moxy_build_info`.
    ///   - flavour: The build flavour (`debug`, `release`) for `moxy_build_info`.
    ///   - lanes: Lanes of the per-event-loop request counters (the server's event loop count).
    public init(
        version: String = MoxyBuild.version, commit: String = MoxyBuild.commit, flavour: String = MoxyBuild.flavour, lanes: Int = 4
    ) {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        self.lanes = max(1, lanes)
        self.requests = RequestTimings(buckets: Self.durationBuckets, lanes: self.lanes)
        var upstream: [ValueHistogram] = []
        for mode in RequestMode.allCases {
            upstream.append(registry.makeValueHistogram(
                descriptor: Self.descriptor("moxy_upstream_duration_seconds", "Time from an upstream request to its response head."),
                labels: [("mode", mode.rawValue)], buckets: Self.durationBuckets))
        }
        self.upstreamDuration = upstream
        let buildInfo = registry.makeGauge(
            descriptor: Self.descriptor("moxy_build_info", "Always 1; the labels say which build runs."),
            labels: [("version", version), ("commit", commit), ("flavour", flavour)])
        buildInfo.set(to: 1)
    }

    /// The request counters of a mode and route (the same object for the same names, so a reload
    /// keeps counting where it was).
    func requestCounters(_ mode: RequestMode, route: String) -> RequestCounters {
        sources.withLockedValue { sources in
            let name = mode.rawValue + " " + route
            if let known = sources[name] { return known }
            let counters = RequestCounters(mode: mode, route: route, lanes: lanes)
            sources[name] = counters
            return counters
        }
    }

    /// The lane of an event loop's request counters (asked once per connection, not per request).
    func lane(for eventLoop: any AnyObject) -> Int {
        laneOfLoop.withLockedValue { lanes in
            if let lane = lanes[ObjectIdentifier(eventLoop)] { return lane }
            let lane = lanes.count % self.lanes
            lanes[ObjectIdentifier(eventLoop)] = lane
            return lane
        }
    }

    /// The last hour of request totals, for the status page.
    let history = NIOLockedValueBox(StatsHistory())

    /// Requests by cache result over every source.
    var requestTotals: [CacheResult: Int64] {
        var totals: [CacheResult: Int64] = [:]
        for (_, _, counters) in allRequestCounters {
            for (result, count) in counters.byResult { totals[result, default: 0] += count }
        }
        return totals
    }

    /// Takes a history sample (at most one a minute).
    func recordHistory(now: Int64) {
        let sample = StatsHistory.sample(time: now, requestTotals)
        history.withLockedValue { $0.record(sample) }
    }

    /// Every source's request counters, by mode and route.
    var allRequestCounters: [(mode: String, route: String, counters: RequestCounters)] {
        sources.withLockedValue { sources in
            sources.sorted { $0.key < $1.key }.map { entry in
                let parts = entry.key.split(separator: " ", maxSplits: 1).map(String.init)
                return (parts[0], parts.count > 1 ? parts[1] : "", entry.value)
            }
        }
    }

    /// Adds `amount` to a counter whose labels are only known when it happens (not on the hit path).
    func count(_ name: StaticString, _ labels: [(String, String)], by amount: Int64 = 1, help: StaticString = "") {
        let key = LabelledKey(name: name.description, labels: labels.map { $0.0 + "=" + $0.1 })
        let counter = labelled.withLockedValue { counters -> Counter in
            if let entry = counters[key] {
                counters[key]?.value += amount
                return entry.counter
            }
            let counter = registry.makeCounter(descriptor: Self.descriptor(key.name, help.description), labels: labels)
            counters[key] = (counter, amount)
            return counter
        }
        counter.increment(by: amount)
    }

    /// A metric's full name and help as swift-prometheus describes it (the name whole: no unit
    /// suffix is added).
    static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// The current value of a labelled counter (for `/stats` and tests); 0 when never counted.
    func value(_ name: String, _ labels: [(String, String)]) -> Int64 {
        let key = LabelledKey(name: name, labels: labels.map { $0.0 + "=" + $0.1 })
        return labelled.withLockedValue { $0[key]?.value } ?? 0
    }

    /// Every labelled counter of one name: its labels (`name=value`) and value.
    func values(_ name: String) -> [(labels: [String], value: Int64)] {
        labelled.withLockedValue { counters in
            counters.filter { $0.key.name == name }.map { (labels: $0.key.labels, value: $0.value.value) }
        }
    }

    /// Sets a gauge read from state when scraped.
    func gauge(_ name: StaticString, _ labels: [(String, String)], _ value: Int, help: StaticString) {
        let key = LabelledKey(name: name.description, labels: labels.map { $0.0 + "=" + $0.1 })
        let gauge = gauges.withLockedValue { gauges -> Gauge in
            if let gauge = gauges[key] { return gauge }
            let gauge = registry.makeGauge(descriptor: Self.descriptor(key.name, help.description), labels: labels)
            gauges[key] = gauge
            return gauge
        }
        gauge.set(to: Double(value))
    }

    /// Brings a counter kept elsewhere (a tier's) up to `value`: it only ever grows.
    func counter(_ name: StaticString, _ labels: [(String, String)], reaching value: Int, help: StaticString) {
        let current = self.value(name.description, labels)
        if Int64(value) > current { count(name, labels, by: Int64(value) - current, help: help) }
    }

    /// The metrics read from the tiers when scraped: entries, bytes, evictions, disk health and
    /// the loader's progress.
    func updateTiers(memory: MemoryStore.Stats, disk: DiskStore.Stats?, validation: [ValidationCount: Int]) {
        gauge("moxy_cache_entries", [("tier", "memory")], memory.count, help: "Entries held, per tier.")
        gauge("moxy_cache_bytes", [("tier", "memory")], memory.bytes, help: "Bytes held, per tier.")
        counter("moxy_cache_evictions_total", [("tier", "memory"), ("reason", "size")], reaching: memory.evictions, help: "Entries evicted, per tier and reason.")
        guard let disk else { return }
        gauge("moxy_cache_entries", [("tier", "disk")], disk.entries, help: "Entries held, per tier.")
        gauge("moxy_cache_bytes", [("tier", "disk")], disk.bytes, help: "Bytes held, per tier.")
        counter("moxy_cache_evictions_total", [("tier", "disk"), ("reason", "size")], reaching: disk.evictions, help: "Entries evicted, per tier and reason.")
        counter("moxy_cache_evictions_total", [("tier", "disk"), ("reason", "expired")], reaching: disk.expired, help: "Entries evicted, per tier and reason.")
        for (reason, count) in disk.corrupt {
            counter("moxy_disk_corrupt_total", [("reason", reason.rawValue)], reaching: count, help: "Disk files refused and deleted, by reason.")
        }
        counter("moxy_disk_write_errors_total", [], reaching: disk.writeErrors, help: "Disk writes that failed.")
        gauge("moxy_disk_low_space", [], disk.lowSpace ? 1 : 0, help: "1 while the disk tier's file system is below min_free.")
        let loader = self.loader.withLockedValue { $0 }
        gauge("moxy_disk_loader_entries", [], loader.entries, help: "Entries the start-up loader has indexed.")
        gauge("moxy_disk_loader_done", [], loader.done ? 1 : 0, help: "1 once the start-up loader has indexed the disk tier.")
    }

    /// The Prometheus text of every metric: the registry's, then the request families kept in lanes.
    public func emit() -> String {
        var text = registry.emitToString()
        requests.appendSamples(to: &text)
        let sources = allRequestCounters
        var counted = ""
        for (_, _, counters) in sources { counters.appendSamples(to: &counted) }
        if !counted.isEmpty {
            text += "# HELP moxy_requests_total Requests answered, by mode, route, method, status class and cache result.\n"
            text += "# TYPE moxy_requests_total counter\n"
            text += counted
        }
        return text
    }
}

/// Which part of Moxy answered a request, the `mode` label.
enum RequestMode: String, Sendable, CaseIterable {
    /// A signed (or camo) URL.
    case signed
    /// An origin route.
    case route
    /// Neither: answered before routing (limits, no route, loop).
    case none

    /// The position in ``allCases``.
    var index: Int {
        switch self {
        case .signed: 0
        case .route: 1
        case .none: 2
        }
    }
}

private struct LabelledKey: Hashable, Sendable {
    var name: String
    var labels: [String]
}

/// What `moxy --version` and `moxy_build_info` say.
public enum MoxyBuild {
    /// The release version.
    public static let version = "0.5.0"
    /// The commit built: `scripts/stamp-build.sh` writes it into `MoxyBuildCommit.swift` before a
    /// release build; a plain checkout says `unknown`.
    public static let commit = MoxyBuildCommit.value
    /// `debug` or `release`.
    public static var flavour: String {
        #if DEBUG
        "debug"
        #else
        "release"
        #endif
    }
}
