// SPDX-License-Identifier: Apache-2.0

/// The last hour of request totals, one sample a minute, kept by the server so that the status
/// page draws its chart at once instead of after an hour of polling. Pure: the sampler passes
/// the time and the totals in.
struct StatsHistory: Sendable, Equatable {
    /// The request totals at one moment.
    struct Sample: Sendable, Equatable {
        /// Unix seconds.
        var time: Int64
        /// Requests answered.
        var total: Int64
        /// Served from the cache (fresh or stale).
        var hits: Int64
        /// Requests the cache could have served: hits, stale, misses and revalidations.
        var served: Int64
    }

    /// How far back samples are kept (seconds).
    static let span: Int64 = 3_600
    /// The least time between two samples (seconds).
    static let interval: Int64 = 60

    /// The samples, oldest first.
    private(set) var samples: [Sample] = []

    /// Adds a sample unless one was taken less than ``interval`` before it, and drops those
    /// older than ``span``; a clock that went back is taken as a new start.
    mutating func record(_ sample: Sample) {
        if let last = samples.last {
            if sample.time < last.time { samples.removeAll() } else if sample.time < last.time + Self.interval { return }
        }
        samples.append(sample)
        samples.removeAll { $0.time < sample.time - Self.span }
    }

    /// A sample from request counts by cache result.
    static func sample(time: Int64, _ byResult: [CacheResult: Int64]) -> Sample {
        let hits = (byResult[.hit] ?? 0) + (byResult[.stale] ?? 0)
        return Sample(
            time: time, total: byResult.values.reduce(0, +), hits: hits,
            served: hits + (byResult[.miss] ?? 0) + (byResult[.revalidated] ?? 0))
    }
}
