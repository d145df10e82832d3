// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc  // pow, without Foundation
#elseif canImport(Darwin)
import Darwin
#endif

/// A seeded, deterministic request stream shaped like web traffic, for comparing eviction
/// policies without downloaded traces: Zipf-distributed popularity, one-hit wonders, a periodic
/// scan and a popularity shift halfway through.
public struct Workload: Sendable, CustomStringConvertible {
    /// Zipf exponent (0.6 flat … 1.2 very skewed).
    public var alpha: Double
    /// Objects in the popular population.
    public var objects: Int
    /// Requests generated.
    public var requests: Int
    /// Share of requests for objects asked for only once.
    public var oneHitWonders: Double
    /// Every `scanEvery` requests, `scanLength` requests walk objects outside the population in
    /// order (a crawler, a backup); 0 for none.
    public var scanEvery: Int
    /// Length of one scan.
    public var scanLength: Int
    /// Whether popularity ranks are rotated by half the population halfway through.
    public var shift: Bool
    /// The seed.
    public var seed: UInt64

    /// Creates a workload.
    public init(
        alpha: Double, objects: Int = 20_000, requests: Int = 200_000, oneHitWonders: Double = 0.3,
        scanEvery: Int = 50_000, scanLength: Int = 5_000, shift: Bool = true, seed: UInt64 = 1
    ) {
        self.alpha = alpha
        self.objects = objects
        self.requests = requests
        self.oneHitWonders = oneHitWonders
        self.scanEvery = scanEvery
        self.scanLength = scanLength
        self.shift = shift
        self.seed = seed
    }

    public var description: String {
        "zipf \(alpha), \(Int(oneHitWonders * 100))% one-hit" + (scanEvery > 0 ? ", scans" : "") + (shift ? ", shift" : "")
    }

    /// One request: the object's id and its size in bytes (a function of the id).
    public struct Request: Sendable, Hashable {
        /// The object.
        public var key: Int
        /// Its size.
        public var size: Int
    }

    /// The object's size: mostly small (a few KiB), some large, up to 256 KiB, fixed per id.
    public static func size(of key: Int) -> Int {
        var mixer = SplitMix(state: UInt64(bitPattern: Int64(key)) &* 0x2545_F491_4F6C_DD1D)
        let draw = mixer.next()
        let exponent = Int(draw % 100 < 80 ? draw % 4 : 4 + draw % 5)  // 80 %: 1–8 KiB, 20 %: 16–256 KiB
        return (1 << (10 + exponent)) + Int((draw >> 32) % 1024)
    }

    /// Bytes of the popular population (what a cache would need to hold all of it).
    public var workingSetBytes: Int { (0..<objects).reduce(0) { $0 + Self.size(of: $1) } }

    /// The requests, in order.
    public func generate() -> [Request] {
        var random = SplitMix(state: seed)
        let sampler = ZipfSampler(alpha: alpha, count: objects)
        var requests: [Request] = []
        requests.reserveCapacity(self.requests)
        var unique = objects  // ids past the population are never asked for again
        var scanned = 0
        while requests.count < self.requests {
            if scanEvery > 0, requests.count > 0, requests.count % scanEvery == 0 {
                for _ in 0..<scanLength where requests.count < self.requests {
                    requests.append(Request(key: 1_000_000_000 + scanned, size: Self.size(of: scanned)))
                    scanned += 1
                }
                continue
            }
            if Double(random.next() % 1_000_000) / 1_000_000 < oneHitWonders {
                unique += 1
                requests.append(Request(key: unique, size: Self.size(of: unique)))
                continue
            }
            var rank = sampler.sample(&random)
            if shift, requests.count >= self.requests / 2 { rank = (rank + objects / 2) % objects }
            requests.append(Request(key: rank, size: Self.size(of: rank)))
        }
        return requests
    }
}

/// Draws ranks 0..<count with probability ∝ 1 / (rank + 1)^alpha, by binary search in the CDF.
struct ZipfSampler {
    let cdf: [Double]

    init(alpha: Double, count: Int) {
        var total = 0.0
        var cdf: [Double] = []
        cdf.reserveCapacity(count)
        for rank in 0..<count {
            total += 1 / pow(Double(rank + 1), alpha)
            cdf.append(total)
        }
        self.cdf = cdf.map { $0 / total }
    }

    func sample(_ random: inout SplitMix) -> Int {
        let draw = Double(random.next() >> 11) / Double(1 << 53)
        var low = 0
        var high = cdf.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cdf[middle] < draw { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

/// SplitMix64: small, fast, and the same numbers on every machine.
public struct SplitMix: RandomNumberGenerator, Sendable {
    var state: UInt64
    /// Creates a generator.
    public init(state: UInt64) { self.state = state }
    /// The next number.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
