// SPDX-License-Identifier: Apache-2.0

import Logging
import MoxyCache
import MoxyStorage
import MoxyValidation
import NIOCore

extension CacheExchange {
    /// A storable body larger than what memory holds: a download in the background work copies it
    /// from the upstream into a disk file, and every client of the key (this one, its coalesced
    /// waiters, requests that arrive meanwhile) is answered from the growing file at its own pace.
    /// A client that goes away does not stop the download; an upstream that fails, a body over
    /// the limit or shorter than announced abandons the file (clients reading it are cut off, as
    /// a proxy that streams must) and leaves no entry.
    ///
    /// `limit` is the largest body stored (the exchange's store limit), enforced as it arrives.
    ///
    /// When the disk tier cannot take the body now (below `min_free`, a write error), it passes
    /// to this client uncached.
    func streamToDisk(
        _ request: CacheRequest,
        lookup: CacheLookup,
        answer: UpstreamAnswer,
        prefix: ByteBuffer,
        rest: ResponseBodyReader?,
        freshness: Freshness,
        status: CacheStatus,
        limit: Int,
        purgeMark: UInt64
    ) async -> ProxyOutcome {
        let rendered = renderer.response(answer, body: ByteBuffer(), freshness: freshness, source: request.source)
        guard let head = tier.unlessPurged(rendered, after: purgeMark, key: request.key) else {
            var passed = status
            passed.outcome = .notStored(.purged)
            return renderer.passed(answer, read: .partial(prefix), rest: rest, source: request.source, status: passed)
        }
        let download: Download? = await withCheckedContinuation { continuation in
            background.submit {
                let download = await self.tier.beginDownload(
                    request.key, head, requestHeaders: request.headers, declaredLength: answer.contentLength,
                    keepLastGood: request.source.validation?.keepLastGood)
                continuation.resume(returning: download)
                if let download { await self.download(download, prefix: prefix, rest: rest, limit: limit, expectedLength: answer.contentLength, request: request) }
            } refused: {
                continuation.resume(returning: nil)
            }
        }
        guard let download else {
            var passed = status
            passed.outcome = .notStored(.notStored)
            return renderer.passed(answer, read: .partial(prefix), rest: rest, source: request.source, status: passed)
        }
        return .complete(download.response, status)
    }

    /// Copies the body into the download's file until its end, then publishes it.
    private func download(
        _ download: Download, prefix: ByteBuffer, rest: ResponseBodyReader?, limit: Int, expectedLength: Int?, request: CacheRequest
    ) async {
        var received = prefix.readableBytes
        var published = false
        do {
            try await download.writer.append(prefix)
            while let rest, let chunk = try await rest.next() {
                received += chunk.readableBytes
                guard received <= limit else { throw ProxyError(.tooLarge, "object exceeds the limit of \(limit) bytes") }
                try await download.writer.append(chunk)
            }
            if let expectedLength, received != expectedLength { throw ProxyError(.upstreamError, "upstream body was incomplete") }
            published = await download.writer.finish()
            if published {
                logger.debug("large body stored", metadata: ["key": "\(request.key)", "bytes": "\(received)"])
            }
        } catch {
            logger.info(
                "large body not stored", metadata: ["source": "\(request.source.name)", "url": "\(request.url)", "error": "\(UpstreamFetcher.mapError(error))"])
            await download.writer.abort()
        }
        tier.endDownload(download, published: published, keepLastGood: request.source.validation?.keepLastGood)
    }
}
