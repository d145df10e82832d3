// SPDX-License-Identifier: Apache-2.0

import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// The channel end of ``InterimForwarder``: interim heads go to a callback, the final head
/// completes a promise, body parts feed a back-pressured sequence (reads stop while the consumer
/// lags), and a timeout, an idle read or a cut connection fails what is still open.
///
/// The read timeout runs only while a read is outstanding: a connection reused from the pool
/// starts it with its request, and a lagging client that holds reads back is not the upstream
/// being slow.
final class InterimResponseHandler: ChannelDuplexHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart
    typealias Body = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, Demand
    >

    /// Reads resume when the consumer wants more; the connection closes when it goes away.
    struct Demand: NIOAsyncSequenceProducerDelegate {
        let state: NIOLockedValueBox<LoopState>

        func produceMore() {
            let (channel, pending) = state.withLockedValue { state -> ((any Channel)?, Bool) in
                state.reading = true
                state.demand &+= 1
                defer { state.pendingRead = false }
                return (state.channel, state.pendingRead)
            }
            if pending { channel?.read() }
        }

        func didTerminate() {
            // A reader that gave up before the end: the connection cannot be reused. After the
            // end it may already serve another request.
            let (channel, ended) = state.withLockedValue { ($0.channel, $0.ended) }
            if !ended { channel?.close(promise: nil) }
        }
    }

    struct LoopState {
        var channel: (any Channel)?
        var reading = true
        var pendingRead = false
        /// Counts the consumer's requests for more, so a request that comes between a `yield`
        /// and its "stop producing" is not lost.
        var demand: UInt64 = 0
        var headReceived = false
        var ended = false
        /// Whether any response byte arrived: a connection closed before one may be retried.
        var receivedAny = false
        /// Whether the final response lets the connection be used again.
        var keepAlive = false
        /// The total timeout's timer, cancelled when the head arrives: kept, it would hold this
        /// request's state for the whole timeout on a connection that moved on.
        var timer: Scheduled<Void>?
        /// The read timeout's timer, armed when a read is passed on and cancelled by any byte.
        var readTimer: Scheduled<Void>?
    }

    /// A connection that closed before any response byte (a pooled one the upstream closed as
    /// it was reused): the request may be sent again on a new one.
    struct ClosedBeforeResponse: Error {}

    private let head: EventLoopPromise<HTTPResponseHead>
    private let interim: @Sendable (HTTPResponseHead) -> Void
    private let readTimeout: TimeAmount
    private let totalTimeout: TimeAmount
    private let state = NIOLockedValueBox(LoopState())
    private let source: Body.Source
    /// The body until it is taken: the handler must not keep it, or a reader that gives up would
    /// never end it (and close the connection).
    private let unclaimedBody: NIOLockedValueBox<Body?>
    /// Takes the connection back once the final response ended and may be reused.
    private let release: @Sendable (any Channel) -> Void

    init(
        head: EventLoopPromise<HTTPResponseHead>, interim: @escaping @Sendable (HTTPResponseHead) -> Void,
        readTimeout: TimeAmount, totalTimeout: TimeAmount,
        release: @escaping @Sendable (any Channel) -> Void = { $0.close(promise: nil) }
    ) {
        self.head = head
        self.interim = interim
        self.release = release
        self.readTimeout = readTimeout
        self.totalTimeout = totalTimeout
        let made = Body.makeSequence(
            backPressureStrategy: .init(lowWatermark: 2, highWatermark: 8),
            finishOnDeinit: true,
            delegate: Demand(state: state)
        )
        self.source = made.source
        self.unclaimedBody = NIOLockedValueBox(made.sequence)
    }

    /// The body, to be iterated once; taken once.
    func takeBody() -> Body? {
        unclaimedBody.withLockedValue { body in
            defer { body = nil }
            return body
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        state.withLockedValue { $0.channel = channel }
        let head = self.head
        let state = self.state
        let timer = context.eventLoop.scheduleTask(in: totalTimeout) {
            guard !state.withLockedValue({ $0.headReceived }) else { return }
            head.fail(ProxyError(.timeout, "upstream did not answer in time"))
            channel.close(promise: nil)
        }
        state.withLockedValue { $0.timer = timer }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let readTimer = state.withLockedValue { state -> Scheduled<Void>? in
            state.receivedAny = true
            defer { state.readTimer = nil }
            return state.readTimer
        }
        readTimer?.cancel()
        switch unwrapInboundIn(data) {
        case .head(let response):
            if response.status.code < 200 && response.status != .switchingProtocols {
                interim(response)
                return
            }
            let timer = state.withLockedValue { state -> Scheduled<Void>? in
                state.headReceived = true
                state.keepAlive = response.isKeepAlive && response.version == .http1_1
                defer { state.timer = nil }
                return state.timer
            }
            timer?.cancel()
            head.succeed(response)
        case .body(let chunk):
            let demand = state.withLockedValue { $0.demand }
            if source.yield(chunk) == .stopProducing {
                state.withLockedValue { state in
                    if state.demand == demand { state.reading = false }
                }
            }
        case .end:
            let keepAlive = state.withLockedValue { state -> Bool in
                state.ended = true
                return state.keepAlive
            }
            cancelTimers()
            source.finish()
            guard keepAlive else { return context.close(promise: nil) }
            // The connection goes back to the pool without this request's handler.
            let channel = context.channel
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            release(channel)
        }
    }

    func read(context: ChannelHandlerContext) {
        let (reading, arm) = state.withLockedValue { state -> (Bool, Bool) in
            if !state.reading { state.pendingRead = true }
            return (state.reading, state.reading && state.readTimer == nil && !state.ended)
        }
        guard reading else { return }
        if arm {
            let channel = context.channel
            let timer = context.eventLoop.scheduleTask(in: readTimeout) { [self] in
                fail(ProxyError(.timeout, "upstream sent nothing for too long"), channel: channel, closed: false)
            }
            state.withLockedValue { $0.readTimer = timer }
        }
        context.read()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(ProxyError(.upstreamError, "upstream connection failed"), channel: context.channel)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(ProxyError(.upstreamError, "upstream closed the connection"), channel: context.channel)
    }

    private func cancelTimers() {
        let timers = state.withLockedValue { state in
            defer { (state.timer, state.readTimer) = (nil, nil) }
            return (state.timer, state.readTimer)
        }
        timers.0?.cancel()
        timers.1?.cancel()
    }

    /// Fails what is still open and closes the connection (on its event loop).
    private func fail(_ error: ProxyError, channel: any Channel, closed: Bool = true) {
        cancelTimers()
        let (headReceived, ended, receivedAny) = state.withLockedValue { ($0.headReceived, $0.ended, $0.receivedAny) }
        if !headReceived {
            head.fail(closed && !receivedAny ? ClosedBeforeResponse() : error)
        } else if !ended {
            // A body cut short must never look complete.
            state.withLockedValue { $0.ended = true }
            source.finish(error)
        }
        channel.close(promise: nil)
    }
}
