// SPDX-License-Identifier: Apache-2.0

import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The signals `moxy serve` acts on, never lost: SIGTERM and SIGINT (drain and stop), SIGHUP
/// (reload the configuration), SIGUSR1 (reopen the access log).
///
/// The handler is installed first thing in `main`, before Moxy starts, and only records the
/// signal (one bit each) and wakes ``next()`` through a pipe. A signal sent while Moxy is still starting is therefore kept
/// until the server runs, which then drains and exits 0. (Listening through a dispatch signal
/// source installed later leaves a window: its set-up sets `SIG_IGN`, which discards a pending
/// signal, and before it the default action kills the process.)
public enum ServeSignals {
    static let watched: [Int32] = [SIGTERM, SIGINT, SIGHUP, SIGUSR1]
    /// The signals received and not yet taken, one bit per signal number (0: none). Atomic:
    /// written by the handler.
    static let received = Atomic<UInt64>(0)
    /// The pipe the handler writes a byte into (`write(2)` is async-signal-safe), so a waiting
    /// thread wakes without polling: read end, write end (-1 before ``install()``).
    static let pipeRead = Atomic<Int32>(-1)
    static let pipeWrite = Atomic<Int32>(-1)
    /// The wait was cancelled (the server stopped for another reason).
    static let stopping = Atomic<Bool>(false)

    /// Installs the handler for the watched signals. Call it first thing in `main`, only for `serve`.
    public static func install() {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return }
        pipeRead.store(ends[0], ordering: .relaxed)
        pipeWrite.store(ends[1], ordering: .relaxed)
        _ = received.load(ordering: .relaxed)  // initialised before the handler can run
        for watchedSignal in watched {
            // A shell starting a background job ignores SIGINT for it; a server still stops on it.
            signal(watchedSignal) { number in
                ServeSignals.received.bitwiseOr(1 << UInt64(number & 63), ordering: .relaxed)
                ServeSignals.wake()
            }
        }
    }

    /// Whether the process was started to serve (the only command that installs the handler).
    public static func isServe(_ arguments: [String]) -> Bool {
        arguments.dropFirst().first == "serve"
    }

    /// Wakes the waiting thread (from the handler, or to end the wait).
    static func wake() {
        var byte: UInt8 = 1
        let fd = pipeWrite.load(ordering: .relaxed)
        if fd >= 0 { _ = write(fd, &byte, 1) }
    }

    /// Waits for watched signals on a thread of its own, blocked in `read(2)` (no polling).
    /// - Returns: The signals received since the last call (in the order of ``watched``), or an
    ///   empty array when the task was cancelled.
    static func next() async -> [Int32] {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let bits = await withTaskCancellationHandler {
            (try? await pool.runIfActive { () -> UInt64 in
                let fd = pipeRead.load(ordering: .relaxed)
                var byte: UInt8 = 0
                while received.load(ordering: .relaxed) == 0, !stopping.load(ordering: .relaxed) {
                    guard fd >= 0 else { return 0 }
                    let count = read(fd, &byte, 1)
                    if count < 0, errno != EINTR { return 0 }
                }
                return received.exchange(0, ordering: .relaxed)
            }) ?? 0
        } onCancel: {
            stopping.store(true, ordering: .relaxed)
            wake()
        }
        try? await pool.shutdownGracefully()
        return watched.filter { bits & (1 << UInt64($0)) != 0 }
    }
}
