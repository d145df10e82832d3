// SPDX-License-Identifier: Apache-2.0

/// A host pattern where `*` stands for any run of characters (`*.example.com`), matched without case.
struct HostGlob: Sendable {
    let pattern: [UInt8]

    init(_ pattern: String) {
        self.pattern = Array(pattern.lowercased().utf8)
    }

    /// Whether `host` (already lower case) matches.
    func matches(_ host: [UInt8]) -> Bool {
        // Iterative glob matching with one backtrack point: linear in practice, never exponential.
        var p = 0, h = 0, star = -1, resume = 0
        while h < host.count {
            if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                star = p
                resume = h
                p += 1
            } else if p < pattern.count, pattern[p] == host[h] {
                p += 1
                h += 1
            } else if star >= 0 {
                p = star + 1
                resume += 1
                h = resume
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}
