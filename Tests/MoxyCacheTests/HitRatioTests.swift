// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxySimulation
import Testing

/// The memory tier's policy against LRU on seeded web-like mixes (the benchmark in
/// `Benchmarks/Sources/HitRatio` runs the larger version): S3-FIFO's miss ratio is not worse.
@Suite struct HitRatioTests {
    @Test(arguments: [(0.8, 0.3), (1.0, 0.4), (1.2, 0.6)])
    func s3fifoMissesNoMoreThanLRUOnWebLikeMixes(_ alpha: Double, _ oneHitWonders: Double) async {
        let workload = Workload(
            alpha: alpha, objects: 5_000, requests: 30_000, oneHitWonders: oneHitWonders, scanEvery: 7_500, scanLength: 750,
            shift: true, seed: 3)
        let requests = workload.generate()
        for share in [0.01, 0.1] {
            await Task.yield()  // CPU-bound: leave the cooperative threads to the socket tests now and then
            let capacity = Int(Double(workload.workingSetBytes) * share)
            let (s3fifo, lru) = Simulation.compare(workload, requests: requests, capacity: capacity)
            #expect(s3fifo.missRatio <= lru.missRatio, "\(workload) at \(share): S3-FIFO \(s3fifo), LRU \(lru)")
            #expect(s3fifo.hits > 0)
        }
    }

    @Test func theWorkloadIsDeterministicAndShapedAsAsked() {
        let workload = Workload(alpha: 1.0, objects: 1_000, requests: 10_000, oneHitWonders: 0.3, scanEvery: 0, shift: false, seed: 9)
        let first = workload.generate()
        #expect(first == workload.generate())
        #expect(first.count == 10_000)
        let unique = first.filter { $0.key >= 1_000 }.count
        #expect((2_700...3_300).contains(unique), "about 30 % one-hit wonders: \(unique)")
        let top = first.filter { $0.key == 0 }.count
        let tenth = first.filter { $0.key == 9 }.count
        #expect(top > 5 * tenth, "rank 1 is about ten times as popular as rank 10: \(top) vs \(tenth)")
    }
}
