// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxyStorage
import NIOConcurrencyHelpers
import NIOCore

/// A large body being written to the disk tier while clients read it from the growing file.
struct Download: Sendable {
    /// The key it is stored under.
    let storeKey: String
    /// The file being written.
    let writer: DiskWriter
    /// The stored head with the growing body, which every client of the key gets meanwhile.
    let response: CachedResponse
}

extension CacheTier {
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
        let entry = Self.diskEntry(storeKey, head, keepLastGood: keepLastGood)
        guard let writer = await disk.beginWrite(entry, declaredLength: declaredLength) else { return nil }
        let response = CachedResponse(
            status: head.status, fields: head.fields, body: ByteBuffer(), responseTime: head.responseTime, freshness: head.freshness,
            downstreamMaxAge: head.downstreamMaxAge, varyNames: head.varyNames, externalBody: writer.body,
            surrogateKeys: head.surrogateKeys)
        let download = Download(storeKey: storeKey, writer: writer, response: response)
        let replaced = downloads.withLockedValue { $0.updateValue(download, forKey: storeKey) }
        // Two downloads of one key (a request that bypassed the coalescing): the later one wins.
        replaced?.writer.withdraw()
        return download
    }

    /// The download ended (published or not): lookups go to the disk again.
    func endDownload(_ download: Download) {
        downloads.withLockedValue { downloads in
            if downloads[download.storeKey]?.writer === download.writer { downloads[download.storeKey] = nil }
        }
        // An entry opened before this one was published would shadow it.
        openLarge.withLockedValue { $0.remove(download.storeKey) }
    }

    /// Writes a response whose body is read from elsewhere (a freshened large entry: new head,
    /// the same body) to a new file, block by block.
    static func copy(_ entry: DiskEntry, body: any BodySource, to disk: DiskStore) async {
        guard let writer = await disk.beginWrite(entry, declaredLength: body.length) else { return }
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
