// SPDX-License-Identifier: Apache-2.0

import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// The channel end of ``InterimForwarder``: interim heads go to a callback, the final head
/// completes a promise, body parts feed a back-pressured sequence (reads stop while the consumer
/// lags), and a timeout, an idle read or a cut connection fails what is still open.
final class InterimResponseHandler: ChannelDuplexHandler, Sendable {
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
            state.withLockedValue { $0.channel }?.close(promise: nil)
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
    }

    private let head: EventLoopPromise<HTTPResponseHead>
    private let interim: @Sendable (HTTPResponseHead) -> Void
    private let totalTimeout: TimeAmount
    private let state = NIOLockedValueBox(LoopState())
    private let source: Body.Source
    /// The body until it is taken: the handler must not keep it, or a reader that gives up would
    /// never end it (and close the connection).
    private let unclaimedBody: NIOLockedValueBox<Body?>

    init(head: EventLoopPromise<HTTPResponseHead>, interim: @escaping @Sendable (HTTPResponseHead) -> Void, totalTimeout: TimeAmount) {
        self.head = head
        self.interim = interim
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
        context.eventLoop.scheduleTask(in: totalTimeout) {
            guard !state.withLockedValue({ $0.headReceived }) else { return }
            head.fail(ProxyError(.timeout, "upstream did not answer in time"))
            channel.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let response):
            if response.status.code < 200 && response.status != .switchingProtocols {
                interim(response)
                return
            }
            state.withLockedValue { $0.headReceived = true }
            head.succeed(response)
        case .body(let chunk):
            let demand = state.withLockedValue { $0.demand }
            if source.yield(chunk) == .stopProducing {
                state.withLockedValue { state in
                    if state.demand == demand { state.reading = false }
                }
            }
        case .end:
            state.withLockedValue { $0.ended = true }
            source.finish()
            context.close(promise: nil)
        }
    }

    func read(context: ChannelHandlerContext) {
        let reading = state.withLockedValue { state -> Bool in
            if !state.reading { state.pendingRead = true }
            return state.reading
        }
        if reading { context.read() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            fail(ProxyError(.timeout, "upstream sent nothing for too long"), context: context)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(ProxyError(.upstreamError, "upstream connection failed"), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(ProxyError(.upstreamError, "upstream closed the connection"), context: context)
    }

    private func fail(_ error: ProxyError, context: ChannelHandlerContext) {
        let (headReceived, ended) = state.withLockedValue { ($0.headReceived, $0.ended) }
        if !headReceived {
            head.fail(error)
        } else if !ended {
            // A body cut short must never look complete.
            state.withLockedValue { $0.ended = true }
            source.finish(error)
        }
        context.close(promise: nil)
    }
}
