// SPDX-License-Identifier: Apache-2.0

import NIOConcurrencyHelpers

/// The one source of wall-clock time in the server: every age, freshness, hit-for-miss window and
/// back-off is computed from it, so tests can move time instead of sleeping.
///
/// One convention for its units: a time or duration named without a unit (`now`, `responseTime`,
/// `until`, `keepLastGood`) is in whole seconds, as HTTP's fields are; one in milliseconds says so in
/// its name (`nowMilliseconds`, `untilMilliseconds`), as all of `KeyStateTable`'s do.
///
/// An enum rather than a protocol: the hit path reads it on every request, and a `switch` costs
/// no existential call.
public enum MoxyClock: Sendable {
    /// The system's real-time clock.
    case system
    /// A clock that moves only when told (tests).
    case manual(ManualClock)

    /// The current Unix time in seconds.
    @inlinable
    public func now() -> Int64 {
        switch self {
        case .system: UnixTime.now()
        case .manual(let clock): clock.milliseconds / 1000
        }
    }

    /// The current Unix time in milliseconds.
    public func nowMilliseconds() -> Int64 {
        switch self {
        case .system: UnixTime.nowMilliseconds()
        case .manual(let clock): clock.milliseconds
        }
    }

    /// The request time to record for an exchange that started at `startMilliseconds` and whose
    /// response arrived at `responseTime` (whole seconds): the response delay is measured in
    /// milliseconds, then rounded down, so a fetch that merely crosses a second boundary does not
    /// age the response by a second (RFC 9111 §4.2.3 `response_delay`).
    public func requestTime(startedAt startMilliseconds: Int64, responseTime: Int64) -> Int64 {
        responseTime - max(0, nowMilliseconds() - startMilliseconds) / 1000
    }
}

/// A settable clock for tests: starts at a given time and moves only through ``advance(seconds:)``.
public final class ManualClock: Sendable {
    private let value: NIOLockedValueBox<Int64>

    /// Creates a clock.
    /// - Parameter start: Unix seconds to start at (default: the real time now, so dates look real).
    public init(start: Int64 = UnixTime.now()) {
        self.value = NIOLockedValueBox(start * 1000)
    }

    /// Milliseconds since 1970.
    public var milliseconds: Int64 { value.withLockedValue { $0 } }

    /// Moves the clock forward.
    /// - Parameter seconds: Seconds (fractions allowed).
    public func advance(seconds: Double) {
        value.withLockedValue { $0 += Int64(seconds * 1000) }
    }
}
