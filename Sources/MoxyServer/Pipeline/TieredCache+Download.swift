// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxyStorage
import NIOConcurrencyHelpers
import NIOCore

extension TieredCache {
    /// Starts storing a response whose body streams in: its file is created, and until it is
    /// complete, lookups of its key answer with the growing body.
    /// - Parameters:
    ///   - key: The primary key.
    ///   - head: The response as stored, without its body.
    ///   - requestHeaders: The request's fields (for the variant key).
    ///   - declaredLength: The upstream's `Content-Length`, if any.
    ///   - keepLastGood: As for ``save(_:_:requestHeaders:keepLastGood:)``.
    /// - Returns: The download, or nil when the disk tier cannot take it now.
    func beginDownload(
        _ key: String, _ head: CachedResponse, requestHeaders: [(name: String, value: String)], declaredLength: Int?,
        keepLastGood: Int64? = nil
    ) async -> Download? {
        guard let disk else { return nil }
        let storeKey = storeKey(key, for: head, requestHeaders: requestHeaders)
        return await disk.beginDownload(Self.storedEntry(storeKey, head, keepLastGood: keepLastGood), head: head, declaredLength: declaredLength)
    }

    /// The download ended: lookups go to the disk again; a published body small enough for the
    /// other slower tiers is copied to them from its file.
    func endDownload(_ download: Download, published: Bool, keepLastGood: Int64?) {
        disk?.endDownload(download)
        guard published, let length = download.response.externalBody?.length else { return }
        let entry = Self.storedEntry(download.storeKey, download.response, keepLastGood: keepLastGood)
        let body = download.writer.body
        for queue in queues where !(queue.tier === disk) && length <= queue.tier.maxEntrySize {
            queue.submit { await Self.copy(entry, body: body, to: $0) }
        }
    }

    /// Writes a response whose body is read from elsewhere (a freshened large entry: new head,
    /// the same body) to a new entry of a tier, piece by piece.
    static func copy(_ entry: StoredEntry, body: any BodySource, to tier: any SlowerTier) async {
        guard let writer = await tier.beginWrite(entry, declaredLength: body.length) else { return }
        var offset = 0
        do {
            while true {
                let piece = try await body.read(from: offset, maxLength: .max)
                if piece.readableBytes == 0 { break }
                try await writer.append(piece)
                offset += piece.readableBytes
            }
            _ = await writer.finish()
        } catch {
            await writer.abort()
        }
    }
}
