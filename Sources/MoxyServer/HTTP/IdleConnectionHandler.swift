// SPDX-License-Identifier: Apache-2.0

import NIOCore

/// Sends ``IdleStateHandler/IdleStateEvent/all`` down the pipeline once a connection has neither
/// read nor written for `timeout` (then again after each further `timeout`), as NIO's
/// `IdleStateHandler(allTimeout:)` does, without its cost on every response: that handler makes a
/// promise per write to learn when the write completed (two promises, their futures and their
/// generic metadata on every hit: about 6,000 instructions, by callgrind).
///
/// Here a write counts when it is made, and a client that reads a large response slowly counts
/// each time the channel turns writable again (the outbound buffer drained below its low
/// watermark); a client that stops reading never does, so it is idle as before.
final class IdleConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny

    private let timeout: TimeAmount
    private var lastActivity = NIODeadline.uptimeNanoseconds(0)
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        lastActivity = context.eventLoop.now
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { lastActivity = context.eventLoop.now }
        context.fireChannelWritabilityChanged()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        lastActivity = context.eventLoop.now
        context.write(data, promise: promise)
    }

    private func start(_ context: ChannelHandlerContext) {
        guard timer == nil else { return }
        lastActivity = context.eventLoop.now
        schedule(context, in: timeout)
    }

    private func stop() {
        timer?.cancel()
        timer = nil
    }

    private func schedule(_ context: ChannelHandlerContext, in delay: TimeAmount) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: delay) {
            let (handler, context) = loopBound.value
            handler.fire(context)
        }
    }

    private func fire(_ context: ChannelHandlerContext) {
        guard timer != nil, context.channel.isActive else { return }
        let quiet = context.eventLoop.now - lastActivity
        if quiet >= timeout {
            schedule(context, in: timeout)
            context.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.all)
        } else {
            schedule(context, in: timeout - quiet)
        }
    }
}
