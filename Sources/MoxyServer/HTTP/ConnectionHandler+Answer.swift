// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxyHTTP
import NIOCore
import NIOHTTP1

extension ConnectionHandler {
    /// The one writer: writes an answer, at once or when it arrives (then the queue waits, and
    /// resumes when it was written).
    func write(_ answer: Answer, for request: Request, now: Int64, context: ChannelHandlerContext) {
        let framing = request.framing(answer)
        switch answer.kind {
        case .hit(let entry):
            writeHit(entry, framing, now: now, context: context)
        case .stored(let entry):
            guard let body = entry.externalBody else {
                return writeStored(entry, cacheStatus: answer.cacheStatus, for: request, framing, now: now, context: context)
            }
            // Read from disk as it is sent; the answer finishes when the body is written.
            connection.startWaiting()
            writeExternal(entry, body: body, cacheStatus: answer.cacheStatus, for: request, framing, now: now, context: context)
        case .response(let response):
            writeResponse(response, cacheStatus: answer.cacheStatus, framing, now: now, context: context)
        case .stream(let stream):
            connection.startWaiting()
            writeStream(stream, cacheStatus: answer.cacheStatus, framing, context: context)
        case .later(let future, let continueFirst):
            if continueFirst { context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "HTTP/1.1 100 Continue\r\n\r\n")), promise: nil) }
            connection.startWaiting()
            deliver(future, lifetimeCap: answer.lifetimeCap, for: request, context: context)
        case .nothing:
            connection.startWaiting()
            finishedAsync(context: context)
        }
    }

    /// Writes an upstream answer when it arrives, then resumes the queue.
    private func deliver(_ future: EventLoopFuture<ProxyOutcome>, lifetimeCap: Int64?, for request: Request, context: ChannelHandlerContext) {
        future.assumeIsolated().whenSuccess { outcome in
            // The client left before its answer (nginx logs these as 499).
            guard !self.connection.isClosing else { return self.finishRecord(status: 499) }
            self.idleTimer.touch(context.eventLoop.now)
            let now = self.proxy.clock.now()
            var status = outcome.cacheStatus
            if status.hit, let response = outcome.response { status.ttl = response.freshness.lifetime - response.age(at: now) }
            self.record.note(status)
            let answer = Answer.of(outcome, cacheStatus: status.value(), lifetimeCap: lifetimeCap)
            self.write(answer, for: request, now: now, context: context)
            if answer.isImmediate { self.finishedAsync(context: context) }
        }
    }

    /// Where a route's interim responses go: written to this connection at once, while it still
    /// waits for the request's answer (HTTP/1.1 clients only: RFC 9110 §15.2 forbids 1xx to 1.0).
    func interimSink(for version: HTTPVersion, route: RouteConfiguration, context: ChannelHandlerContext) -> (@Sendable (HTTPResponseHead) -> Void)? {
        guard route.interimResponses, version.major == 1, version.minor >= 1 else { return nil }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        return { head in
            bound.eventLoop.execute {
                let (handler, context) = bound.value
                guard handler.connection.isWaiting, !handler.connection.isClosing else { return }
                let fields = HeaderFields.endToEnd(head.headers.map { (name: $0.name, value: $0.value) })
                var buffer = ResponseHead.encode(status: Int(head.status.code), fields: fields, allocator: context.channel.allocator)
                buffer.writeStaticString("\r\n")
                handler.idleTimer.touch(context.eventLoop.now)
                context.writeAndFlush(handler.wrapOutboundOut(buffer), promise: nil)
            }
        }
    }
}
