// SPDX-License-Identifier: Apache-2.0

/// The counts of a `moxy warm` run and how they are shown: a progress line and a summary.
struct WarmTally: Sendable, Equatable {
    /// How one request ended.
    enum Outcome: Sendable, Equatable {
        /// Answered from Moxy's cache (`Cache-Status` with `hit`).
        case hit
        /// Fetched from upstream (and stored, if storable): what warming is for.
        case miss
        /// An error status or no answer, by its status code or the error's kind.
        case failure(String)

        /// The outcome of an answer, from its status and `Cache-Status` field.
        static func of(status: Int, cacheStatus: String?) -> Outcome {
            guard status < 400 else { return .failure(String(status)) }
            let parameters = (cacheStatus ?? "").split(separator: ";").map { $0.trimmingWhitespace() }
            return parameters.contains("hit") ? .hit : .miss
        }
    }

    var total: Int
    var done = 0
    var hits = 0
    var misses = 0
    var failures: [String: Int] = [:]
    var bytes = 0

    var failed: Int { failures.values.reduce(0, +) }

    mutating func record(_ outcome: Outcome, bytes: Int) {
        done += 1
        self.bytes += bytes
        switch outcome {
        case .hit: hits += 1
        case .miss: misses += 1
        case .failure(let reason): failures[reason, default: 0] += 1
        }
    }

    /// `[#########-----------] 450/1000  45.0/s  ETA 0:12  2 failed` for a terminal, or a plain
    /// line for a log.
    func progress(elapsed: Double, terminal: Bool, width: Int = 24) -> String {
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Self.clock(Double(total - done) / rate) : "--:--"
        let counts = "\(done)/\(total)  \(Self.decimal(rate))/s  ETA \(eta)  \(failed) failed"
        guard terminal else {
            let percent = total > 0 ? done * 100 / total : 100
            return "warm: \(done)/\(total) (\(percent)%), \(Self.decimal(rate))/s, ETA \(eta), \(failed) failed"
        }
        let filled = total > 0 ? done * width / total : width
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] " + counts
    }

    /// The closing summary.
    func summary(elapsed: Double) -> String {
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        var lines = [
            "warmed \(done) URLs in \(Self.decimal(elapsed)) s (\(Self.decimal(rate))/s, \(bytes) bytes)",
            "  hits      \(hits)",
            "  misses    \(misses)",
            "  failures  \(failed)",
        ]
        for (reason, count) in failures.sorted(by: { $0.key < $1.key }) {
            lines.append("    \(reason)  \(count)")
        }
        return lines.joined(separator: "\n")
    }

    static func decimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    static func clock(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        let minutes = whole / 60, rest = whole % 60
        return "\(minutes):" + (rest < 10 ? "0" : "") + String(rest)
    }
}
