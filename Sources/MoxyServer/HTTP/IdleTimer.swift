// SPDX-License-Identifier: Apache-2.0

import NIOCore

/// The idle timer of a client connection: calls `onIdle` once the connection has neither read nor
/// written for `timeout` (then again after each further `timeout`), as NIO's
/// `IdleStateHandler(allTimeout:)` does, without its costs on every response. That handler makes
/// a promise per write to learn when it completed (about 6,000 instructions per hit, by
/// callgrind), and any handler of its own in the pipeline costs a hop for every read, read
/// completion, write and flush (about 1,500 more); so the connection's handler owns this timer
/// and tells it what happened.
///
/// A write counts when it is made, and a client that reads a large response slowly counts each
/// time the channel turns writable again (the outbound buffer drained below its low watermark);
/// a client that stops reading never does, so it is idle as before.
final class IdleTimer {
    private let timeout: TimeAmount
    private var lastActivity = NIODeadline.uptimeNanoseconds(0)
    private var timer: Scheduled<Void>?
    private var onIdle: (() -> Void)?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    /// Notes activity (a read, a write, a drained buffer).
    @inline(__always)
    func touch(_ now: NIODeadline) {
        lastActivity = now
    }

    /// Starts timing (once; later calls do nothing) on `loop`, the connection's.
    func start(on loop: any EventLoop, onIdle: @escaping () -> Void) {
        guard timer == nil else { return }
        self.onIdle = onIdle
        lastActivity = loop.now
        schedule(on: loop, in: timeout)
    }

    /// Stops timing and lets `onIdle` go (it holds the connection).
    func stop() {
        timer?.cancel()
        timer = nil
        onIdle = nil
    }

    private func schedule(on loop: any EventLoop, in delay: TimeAmount) {
        let bound = NIOLoopBound(self, eventLoop: loop)
        timer = loop.scheduleTask(in: delay) { bound.value.fire(on: bound.eventLoop) }
    }

    private func fire(on loop: any EventLoop) {
        guard timer != nil, let onIdle else { return }
        let quiet = loop.now - lastActivity
        if quiet >= timeout {
            schedule(on: loop, in: timeout)
            onIdle()
        } else {
            schedule(on: loop, in: timeout - quiet)
        }
    }
}
