// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import MoxyServer

/// The per-event-loop counters behind `moxy_requests_total`, `moxy_request_duration_seconds` and
/// `moxy_sent_bytes_total`: lanes sum right, even when threads share a lane, and the text a scrape
/// writes is the Prometheus exposition the old swift-prometheus objects wrote.
@Suite struct LaneCountersTests {
    @Test func lanesSumAndThreadsSharingALaneLoseNoCount() async {
        let counters = LaneCounters(lanes: 3, slots: 11)
        // Eight threads over three lanes: several write the same lane at once.
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for round in 0..<10_000 { counters.add(UInt64(1 + round % 2), lane: worker % 3, slot: worker % 11) }
                }
            }
        }
        var expected = Array(repeating: UInt64(0), count: 11)
        for worker in 0..<8 { expected[worker % 11] += 15_000 }
        #expect(counters.totals == expected)
        #expect(counters.total(10) == 0)
    }

    @Test func theHotPathsConstantsMatchTheirLists() {
        #expect(CacheResult.count == CacheResult.allCases.count)
        #expect(RequestCounters.statusClassCount == RequestCounters.statusClasses.count)
        #expect(CacheResult.allCases.map(\.index) == Array(0..<CacheResult.count))
    }

    @Test func requestCountersWriteOnlyTheSeriesCountedAndSumByResult() {
        let counters = RequestCounters(mode: .route, route: #"we"ird\route"#, lanes: 2)
        var text = ""
        counters.appendSamples(to: &text)
        #expect(text.isEmpty)
        counters.count(method: 0, status: 200, result: .hit, lane: 0)
        counters.count(method: 0, status: 204, result: .hit, lane: 1)
        counters.count(method: 1, status: 503, result: .miss, lane: 1)
        counters.count(method: 2, status: 99, result: .none, lane: 0)
        counters.appendSamples(to: &text)
        let route = #"mode="route",route="we\"ird\\route""#
        #expect(text == """
            moxy_requests_total{\(route),method="GET",status_class="2xx",cache="hit"} 2
            moxy_requests_total{\(route),method="HEAD",status_class="5xx",cache="miss"} 1
            moxy_requests_total{\(route),method="other",status_class="1xx",cache="none"} 1

            """)
        #expect(counters.byResult[.hit] == 2)
        #expect(counters.byResult[.miss] == 1)
        #expect(counters.byResult[.none] == 1)
        #expect(counters.byResult[.stale] == 0)
    }

    @Test func timingsWriteACumulativeHistogramWithSumAndCount() {
        let timings = RequestTimings(buckets: [0.001, 0.01], lanes: 2)
        timings.record(mode: .signed, nanoseconds: 1_000_000, bytes: 100, lane: 0)  // on the bound: le="0.001"
        timings.record(mode: .signed, nanoseconds: 5_000_000, bytes: 50, lane: 1)
        timings.record(mode: .signed, nanoseconds: 2_000_000_000, bytes: 0, lane: 1)  // over every bound
        timings.record(mode: .route, nanoseconds: -5, bytes: 7, lane: 0)  // a clock step back counts as 0
        #expect(timings.count(.signed) == 3)
        #expect(timings.count(.route) == 1)
        #expect(timings.count(.none) == 0)
        var text = ""
        timings.appendSamples(to: &text)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains(#"moxy_request_duration_seconds_bucket{mode="signed",le="0.001"} 1"#))
        #expect(lines.contains(#"moxy_request_duration_seconds_bucket{mode="signed",le="0.01"} 2"#))
        #expect(lines.contains(#"moxy_request_duration_seconds_bucket{mode="signed",le="+Inf"} 3"#))
        #expect(lines.contains(#"moxy_request_duration_seconds_sum{mode="signed"} 2.006"#))
        #expect(lines.contains(#"moxy_request_duration_seconds_count{mode="signed"} 3"#))
        #expect(lines.contains(#"moxy_request_duration_seconds_count{mode="route"} 1"#))
        #expect(lines.contains(#"moxy_request_duration_seconds_count{mode="none"} 0"#))
        #expect(lines.contains(#"moxy_sent_bytes_total{mode="signed"} 150"#))
        #expect(lines.contains(#"moxy_sent_bytes_total{mode="route"} 7"#))
        #expect(lines.filter { $0.hasPrefix("# TYPE") } == [
            "# TYPE moxy_request_duration_seconds histogram", "# TYPE moxy_sent_bytes_total counter",
        ])
    }

    @Test func eachEventLoopKeepsItsLaneAndLanesWrapAround() {
        let metrics = MoxyMetrics(lanes: 2)
        let loops = (0..<3).map { _ in Loop() }
        let first = loops.map { metrics.lane(for: $0) }
        #expect(first == [0, 1, 0])
        #expect(loops.map { metrics.lane(for: $0) } == first)
    }

    private final class Loop {}
}
