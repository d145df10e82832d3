// SPDX-License-Identifier: Apache-2.0

import NIOCore

/// What one client connection is doing, as one value, with transitions that return what the
/// handler must do (as NIO's `HTTPServerPipelineHandler` keeps its state): no I/O here, so every
/// transition is tested without a channel (`ConnectionStateMachineTests`).
///
/// Answers go out strictly in request order: while one is produced asynchronously (a fetch, a
/// pass-through, a streamed body) later requests wait in the handler's queue. A request body for a
/// pass-through is received alongside, with its own back-pressure.
struct ConnectionStateMachine {
    /// The answering side.
    enum State: Equatable {
        /// Nothing in progress: queued requests may be answered.
        case idle
        /// An answer is being produced upstream; later requests wait.
        case waitingForUpstream
        /// An upstream body is being copied to the client.
        case streaming
        /// Closing or closed: nothing more is read, answered or written.
        case closing
    }

    /// A request body being received for a pass-through (the stream itself stays with the
    /// handler: this value holds no references, so reading it on the hot path costs no retain).
    struct ReceivingBody: Equatable {
        /// Bytes received so far.
        var bytes = 0
        /// The most bytes accepted.
        var limit: Int
        /// Whether the upstream side asked the client side to wait.
        var paused = false
    }

    /// What to do with a body chunk.
    enum BodyAction: Equatable {
        /// Pass it on.
        case forward
        /// The body is over its limit: end the stream with an error; it is no longer received.
        case tooLarge(limit: Int)
        /// No body is being received (the request was answered without it): drop it.
        case drop
    }

    /// What to do when an answer has been written completely.
    enum FinishAction: Equatable {
        /// Nothing (the connection is closing).
        case none
        /// Answer the queued requests.
        case processQueue
    }

    private(set) var state = State.idle
    private(set) var receiving: ReceivingBody?
    /// A read was asked for and held back (back-pressure); released by ``readReleased(writable:)``.
    private(set) var readHeld = false
    /// The server is shutting down: answer what was asked, then close.
    private(set) var draining = false

    /// Whether queued requests may be answered now. `writable` is asked only when the state
    /// allows an answer (it goes through the channel existential).
    func mayAnswer(writable: @autoclosure () -> Bool) -> Bool { state == .idle && writable() }

    /// Whether the connection is closing (nothing more is written).
    var isClosing: Bool { state == .closing }

    /// Whether an answer is produced asynchronously right now.
    var isWaiting: Bool { state == .waitingForUpstream || state == .streaming }

    // MARK: Reads

    /// NIO asks to read. Reads stop while an asynchronous answer holds the queue (unless its body
    /// is still arriving), while the upstream does not take body bytes, or while the client does
    /// not read what was written: a client cannot make the server buffer without bound.
    /// - Returns: Whether to read now.
    mutating func readRequested(writable: Bool) -> Bool {
        if mayRead(writable: writable) { return true }
        readHeld = true
        return false
    }

    /// Something that held reads back may have ended.
    /// - Returns: Whether to issue the held read now.
    mutating func readReleased(writable: @autoclosure () -> Bool) -> Bool {
        guard readHeld, mayRead(writable: writable()) else { return false }
        readHeld = false
        return true
    }

    private func mayRead(writable: Bool) -> Bool {
        guard state != .closing, writable else { return false }
        if let receiving { return !receiving.paused }
        return !isWaiting
    }

    // MARK: Answers

    /// An answer will come asynchronously.
    mutating func startWaiting() {
        guard state == .idle else { return }
        state = .waitingForUpstream
    }

    /// The asynchronous answer is a body being streamed.
    mutating func startStreaming() {
        guard state == .waitingForUpstream else { return }
        state = .streaming
    }

    /// The asynchronous answer has been written completely.
    mutating func answerFinished() -> FinishAction {
        guard state != .closing else { return .none }
        state = .idle
        return .processQueue
    }

    /// Whether to close after the queue was processed (the server drains and nothing is left).
    func closesAfterQueue(queueEmpty: Bool) -> Bool {
        draining && queueEmpty && state == .idle && receiving == nil
    }

    /// The connection closes (after the writes in flight) or has closed.
    /// - Returns: Whether a body was still being received (its stream is to be failed).
    mutating func close() -> Bool {
        state = .closing
        defer { receiving = nil }
        return receiving != nil
    }

    /// The idle timer fired. A connection waiting for an upstream answer with its whole request
    /// sent is not idle; one that stalls mid-request is (nginx's client_body_timeout).
    /// - Returns: Whether to close.
    func idleTimeoutCloses() -> Bool {
        !isWaiting || receiving != nil
    }

    /// The server drains.
    /// - Returns: Whether to close at once (nothing in progress).
    mutating func drain(queueEmpty: Bool) -> Bool {
        draining = true
        return closesAfterQueue(queueEmpty: queueEmpty)
    }

    // MARK: Request bodies

    /// A pass-through request's body starts arriving.
    mutating func bodyStarted(limit: Int) {
        receiving = ReceivingBody(limit: limit)
    }

    /// A body chunk arrived.
    mutating func bodyChunk(_ bytes: Int) -> BodyAction {
        guard var body = receiving else { return .drop }
        body.bytes += bytes
        if body.bytes > body.limit {
            receiving = nil
            return .tooLarge(limit: body.limit)
        }
        receiving = body
        return .forward
    }

    /// The upstream side does not take more body bytes for now.
    mutating func bodyPaused() {
        receiving?.paused = true
    }

    /// The upstream side wants more body bytes.
    mutating func bodyResumed() {
        receiving?.paused = false
    }

    /// The request's end arrived, or the body being received was answered without (refused, or
    /// not forwarded): reads may resume.
    /// - Returns: Whether a body was being received (its stream is to be finished).
    mutating func bodyEnded() -> Bool {
        defer { receiving = nil }
        return receiving != nil
    }
}
