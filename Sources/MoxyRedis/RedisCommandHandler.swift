// SPDX-License-Identifier: Apache-2.0

import NIOCore

/// A command on its way out, with the promise its answer completes.
struct RedisOutbound: Sendable {
    var command: RedisCommand
    var promise: EventLoopPromise<RESPValue>
}

/// Matches answers to commands in order (pipelining: many commands in flight on one connection),
/// reads RESP as it arrives, and bounds each answer's wait: a command unanswered past the
/// timeout fails every command in flight and closes the connection, since a late answer would
/// otherwise complete the wrong command. Push messages (RESP3 `>`) go to `onPush`.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisOutbound
    typealias OutboundOut = ByteBuffer

    private let decoder: RESPDecoder
    private let timeout: TimeAmount
    private let onPush: (@Sendable (RESPValue) -> Void)?
    private var received: ByteBuffer?
    private var pending = CircularBuffer<(promise: EventLoopPromise<RESPValue>, deadline: NIODeadline, name: String)>()
    private var timer: Scheduled<Void>?
    private var failure: RedisError?

    init(decoder: RESPDecoder, timeout: TimeAmount, onPush: (@Sendable (RESPValue) -> Void)? = nil) {
        self.decoder = decoder
        self.timeout = timeout
        self.onPush = onPush
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let outbound = unwrapOutboundIn(data)
        if let failure {
            outbound.promise.fail(failure)
            promise?.fail(failure)
            return
        }
        let wait = outbound.command.timeout.map { TimeAmount.nanoseconds(Int64($0 * 1_000_000_000)) } ?? timeout
        pending.append((outbound.promise, .now() + wait, outbound.command.name))
        if timer == nil { armTimer(context: context) }
        context.write(wrapOutboundOut(outbound.command.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if received == nil || received?.readableBytes == 0 {
            received = bytes
        } else {
            received!.writeBuffer(&bytes)
        }
        do {
            while var buffer = received, let value = try decoder.decode(&buffer) {
                received = buffer
                if case .push = value {
                    onPush?(value)
                    continue
                }
                guard let first = pending.popFirst() else {
                    return fail(RedisError(.protocolError, "an answer to no command"), context: context)
                }
                first.promise.succeed(value)
            }
        } catch {
            return fail(error, context: context)
        }
        // A large value arriving in pieces is kept as one buffer; what was read is dropped.
        received?.discardReadBytes()
        timer?.cancel()
        timer = nil
        if !pending.isEmpty { armTimer(context: context) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(RedisError(.connectionClosed, "the connection closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(RedisError(.connectionClosed, "\(error)"), context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failAll(RedisError(.connectionClosed, "the connection closed"))
    }

    private func armTimer(context: ChannelHandlerContext) {
        guard let head = pending.first else { return }
        let name = head.name
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: head.deadline) { [self] in
            timer = nil
            fail(RedisError(.timeout, "no answer to \(name) within its timeout"), context: context)
        }
    }

    private func fail(_ error: RedisError, context: ChannelHandlerContext) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: RedisError) {
        if failure == nil { failure = error }
        timer?.cancel()
        timer = nil
        while let next = pending.popFirst() { next.promise.fail(failure ?? error) }
    }
}
