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

    /// The current Unix time in milliseconds.
    /// - Returns: Milliseconds since 1970-01-01T00:00:00Z.
    public static func nowMilliseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}
