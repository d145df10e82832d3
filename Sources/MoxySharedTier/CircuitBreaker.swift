// SPDX-License-Identifier: Apache-2.0

/// Whether calls to the shared tier go out: after ``failureThreshold`` failures in a row it
/// opens (every call is refused at once: a miss, a dropped write), after a while it lets one
/// probe through (half-open), and the probe's result closes it or opens it again for twice as
/// long (up to ``maxOpenMilliseconds``). A pure state machine over an injected time.
public struct CircuitBreaker: Sendable, Hashable {
    /// Where it is.
    public enum State: Sendable, Hashable {
        /// Calls go out; the failures in a row so far.
        case closed(failures: Int)
        /// Calls are refused until then; the next open period is `period`.
        case open(untilMilliseconds: Int64, periodMilliseconds: Int64)
        /// One probe is out; others are refused until it returns.
        case halfOpen(periodMilliseconds: Int64)

        /// The state as a metric's value: 0 closed, 1 open, 2 half-open.
        public var gauge: Int {
            switch self {
            case .closed: 0
            case .open: 1
            case .halfOpen: 2
            }
        }
    }

    /// What a call may do.
    public enum Admission: Sendable, Hashable {
        /// Go out.
        case allowed
        /// Go out as the probe (report its result).
        case probe
        /// Not now: the tier is treated as unavailable.
        case refused
    }

    /// A change worth one log line.
    public enum Change: Sendable, Hashable {
        /// Calls stop going out.
        case opened
        /// Calls go out again.
        case closed
    }

    /// Failures in a row that open it.
    public let failureThreshold: Int
    /// The first open period.
    public let openMilliseconds: Int64
    /// The longest open period.
    public let maxOpenMilliseconds: Int64
    /// The current state.
    public private(set) var state: State = .closed(failures: 0)

    /// A closed breaker.
    public init(failureThreshold: Int = 5, openMilliseconds: Int64 = 1_000, maxOpenMilliseconds: Int64 = 30_000) {
        self.failureThreshold = max(1, failureThreshold)
        self.openMilliseconds = max(1, openMilliseconds)
        self.maxOpenMilliseconds = max(self.openMilliseconds, maxOpenMilliseconds)
    }

    /// Whether a call may go out now.
    public mutating func admit(nowMilliseconds: Int64) -> Admission {
        switch state {
        case .closed: return .allowed
        case .halfOpen: return .refused
        case .open(let until, let period):
            guard nowMilliseconds >= until else { return .refused }
            state = .halfOpen(periodMilliseconds: period)
            return .probe
        }
    }

    /// A call's result.
    /// - Returns: The change it made, if it opened or closed the breaker.
    public mutating func record(success: Bool, nowMilliseconds: Int64) -> Change? {
        switch state {
        case .closed(let failures):
            if success {
                state = .closed(failures: 0)
                return nil
            }
            guard failures + 1 >= failureThreshold else {
                state = .closed(failures: failures + 1)
                return nil
            }
            state = .open(untilMilliseconds: nowMilliseconds + openMilliseconds, periodMilliseconds: openMilliseconds)
            return .opened
        case .halfOpen(let period):
            if success {
                state = .closed(failures: 0)
                return .closed
            }
            let next = min(period * 2, maxOpenMilliseconds)
            state = .open(untilMilliseconds: nowMilliseconds + next, periodMilliseconds: next)
            return nil
        case .open:
            // A call admitted before it opened: nothing to learn.
            return nil
        }
    }
}
