// SPDX-License-Identifier: Apache-2.0

import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGTERM and SIGINT for `moxy serve`, never lost.
///
/// The handler is installed first thing in `main`, before Moxy starts, and only records the
/// signal; ``next()`` picks it up. A signal sent while Moxy is still starting is therefore kept
/// until the server runs, which then drains and exits 0. (Listening through a dispatch signal
/// source installed later leaves a window: its set-up sets `SIG_IGN`, which discards a pending
/// signal, and before it the default action kills the process.)
public enum ShutdownSignals {
    static let watched: [Int32] = [SIGTERM, SIGINT]
    /// The last signal received and not yet taken (0: none). Atomic: written by the handler.
    static let received = Atomic<Int32>(0)

    /// Installs the handler for SIGTERM and SIGINT. Call it first thing in `main`, only for `serve`.
    public static func install() {
        _ = received.load(ordering: .relaxed)  // initialised before the handler can run
        for watchedSignal in watched {
            // A shell starting a background job ignores SIGINT for it; a server still stops on it.
            signal(watchedSignal) { number in ShutdownSignals.received.store(number, ordering: .relaxed) }
        }
    }

    /// Whether the process was started to serve (the only command that installs the handler).
    public static func isServe(_ arguments: [String]) -> Bool {
        arguments.dropFirst().first == "serve"
    }

    /// Waits for SIGTERM or SIGINT, checking every 50 ms.
    /// - Returns: The signal, or `nil` when the task was cancelled.
    static func next() async -> Int32? {
        while !Task.isCancelled {
            let number = received.exchange(0, ordering: .relaxed)
            if number != 0 { return number }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }
}
