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

    /// The request time to record for an exchange that started at `startMilliseconds` and whose
    /// response arrived at `responseTime` (whole seconds): the response delay is measured in
    /// milliseconds, then rounded down, so a fetch that merely crosses a second boundary does not
    /// age the response by a second (RFC 9111 §4.2.3 `response_delay`).
    /// - Parameters:
    ///   - startMilliseconds: ``nowMilliseconds()`` when the request was sent.
    ///   - responseTime: ``now()`` when the response arrived.
    /// - Returns: Unix seconds.
    public static func requestTime(startedAt startMilliseconds: Int64, responseTime: Int64) -> Int64 {
        responseTime - max(0, nowMilliseconds() - startMilliseconds) / 1000
    }
}
