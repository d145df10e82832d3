// SPDX-License-Identifier: Apache-2.0

// Hit ratios of the memory tier's S3-FIFO and of LRU, side by side, on seeded web-like workloads:
//   swift run -c release --package-path Benchmarks hit-ratio [REQUESTS]
// Deterministic: the same numbers on every machine.

import MoxySimulation

let requestCount = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 1_000_000
let mixes: [(alpha: Double, oneHit: Double)] = [(0.6, 0.2), (0.8, 0.3), (1.0, 0.4), (1.2, 0.6)]
let fractions: [(label: String, share: Double)] = [("0.1%", 0.001), ("1%", 0.01), ("10%", 0.1)]

print("requests per workload: \(requestCount); cache size as a share of the working set's bytes")
print("workload                                  size   S3-FIFO req / bytes     LRU req / bytes      miss ratio S3-FIFO/LRU")
for mix in mixes {
    let workload = Workload(alpha: mix.alpha, objects: 100_000, requests: requestCount, oneHitWonders: mix.oneHit,
                            scanEvery: requestCount / 4, scanLength: requestCount / 40, shift: true, seed: 7)
    let requests = workload.generate()
    let workingSet = workload.workingSetBytes
    for fraction in fractions {
        let capacity = Int(Double(workingSet) * fraction.share)
        let (s3fifo, lru) = Simulation.compare(workload, requests: requests, capacity: capacity)
        let ratio = lru.missRatio == 0 ? 1 : s3fifo.missRatio / lru.missRatio
        let name = workload.description.padding(40)
        print("\(name)  \(fraction.label.padding(5))  \(s3fifo.description.padding(22))  \(lru.description.padding(22))  \(Int((ratio * 1000).rounded()))‰")
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
