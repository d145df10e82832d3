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
        // `timespec` filled through a pair of words: with NIO's file system in the build, its
        // initializer and member names resolve to a C module this one cannot import
        // (MemberImportVisibility); the layout is two machine words on every supported platform.
        var words: (Int, Int) = (0, 0)
        _ = withUnsafeMutablePointer(to: &words) {
            $0.withMemoryRebound(to: timespec.self, capacity: 1) { clock_gettime(CLOCK_REALTIME, $0) }
        }
        let (seconds, nanoseconds) = words
        return Int64(seconds) * 1000 + Int64(nanoseconds) / 1_000_000
    }
}
