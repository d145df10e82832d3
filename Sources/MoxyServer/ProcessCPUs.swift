// SPDX-License-Identifier: Apache-2.0

import NIOCore

/// The CPUs this process may run on.
///
/// NIO's `System.coreCount` counts every core of the machine, even under `taskset`; Moxy sizes its
/// event loops from the affinity list instead (`Cpus_allowed_list` in `/proc/self/status`).
public enum ProcessCPUs {
    /// The number of CPUs this process may run on (at least 1).
    /// - Returns: The count.
    public static func available() -> Int {
        #if os(Linux)
        if let bytes = try? SmallFile.read("/proc/self/status", limit: 1 << 20),
            case let status = String(decoding: bytes, as: UTF8.self),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }),
            let count = count(list: line.dropFirst("Cpus_allowed_list:".count))
        {
            return max(1, count)
        }
        #endif
        return max(1, System.coreCount)
    }

    /// Counts the CPUs in a list such as `0-1,4`.
    /// - Parameter list: The list text.
    /// - Returns: The count, or `nil` when malformed.
    public static func count(list: some StringProtocol) -> Int? {
        var total = 0
        for range in list.split(separator: ",") {
            let bounds: [Int?] = range.split(separator: "-").map { part in Int(String(part.filter { !$0.isWhitespace })) }
            switch bounds.count {
            case 1:
                guard bounds[0] != nil else { return nil }
                total += 1
            case 2:
                guard let low = bounds[0], let high = bounds[1], high >= low else { return nil }
                total += high - low + 1
            default:
                return nil
            }
        }
        return total > 0 ? total : nil
    }
}
