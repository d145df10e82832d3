// SPDX-License-Identifier: Apache-2.0

import NIOConcurrencyHelpers
import NIOCore

/// A client request body streamed to the upstream with back-pressure: the connection stops reading
/// from the client while more than a few chunks wait to be sent.
struct RequestBodyStream: Sendable {
    typealias Producer = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, Delegate
    >

    /// Resumes client reads when the upstream side wants more.
    final class Delegate: NIOAsyncSequenceProducerDelegate, Sendable {
        let onDemand: NIOLockedValueBox<(@Sendable () -> Void)?> = NIOLockedValueBox(nil)
        func produceMore() { onDemand.withLockedValue { $0 }?() }
        func didTerminate() { onDemand.withLockedValue { $0 }?() }
    }

    /// The body as an async sequence, for the HTTP client.
    let sequence: OneShot
    /// Where the connection yields chunks.
    let source: Producer.Source
    /// The demand callback holder.
    let delegate: Delegate

    /// Creates a stream.
    /// - Parameter onDemand: Called (on any thread) when the consumer wants more after a pause.
    init(onDemand: @escaping @Sendable () -> Void) {
        let delegate = Delegate()
        delegate.onDemand.withLockedValue { $0 = onDemand }
        let made = Producer.makeSequence(
            elementType: ByteBuffer.self,
            failureType: (any Error).self,
            backPressureStrategy: .init(lowWatermark: 2, highWatermark: 8),
            finishOnDeinit: false,
            delegate: delegate
        )
        self.sequence = OneShot(made.sequence)
        self.source = made.source
        self.delegate = delegate
    }

    /// Yields a chunk.
    /// - Parameter chunk: Body bytes.
    /// - Returns: `false` when the producer should pause until the demand callback.
    func yield(_ chunk: ByteBuffer) -> Bool {
        switch source.yield(contentsOf: CollectionOfOne(chunk)) {
        case .produceMore: true
        case .stopProducing, .dropped: false
        }
    }

    /// Ends the body, or fails it.
    func finish(_ error: (any Error)? = nil) {
        if let error { source.finish(error) } else { source.finish() }
    }
}

extension RequestBodyStream {
    /// The body sequence, which the HTTP client may ask to iterate more than once (it does so for
    /// retries); the bytes can be read once, so a second iteration fails instead of trapping.
    struct OneShot: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        private let producer: NIOLockedValueBox<Producer?>

        init(_ producer: Producer) {
            self.producer = NIOLockedValueBox(producer)
        }

        struct AsyncIterator: AsyncIteratorProtocol {
            var inner: Producer.AsyncIterator?

            mutating func next() async throws -> ByteBuffer? {
                guard inner != nil else { throw ProxyError(.upstreamError, "the request body was already sent") }
                return try await inner!.next()
            }
        }

        func makeAsyncIterator() -> AsyncIterator {
            let taken = producer.withLockedValue { value -> Producer? in
                defer { value = nil }
                return value
            }
            return AsyncIterator(inner: taken?.makeAsyncIterator())
        }
    }
}
