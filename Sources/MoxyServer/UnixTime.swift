// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock time in whole Unix seconds.
public enum UnixTime {
    /// The current Unix time in seconds.
    /// - Returns: Seconds since 1970-01-01T00:00:00Z.
    @inlinable
    public static func now() -> Int64 {
        Int64(time(nil))
    }
}
