// SPDX-License-Identifier: Apache-2.0

public import NIOCore

/// One cache entry as a file of the disk tier (the layout is in `docs/storage.md`, "Disk format"):
/// a fixed prefix (magic, version, header length), a header (the full key, the stored head's
/// status and fields, freshness, `Vary` names, variant generation, surrogate keys, the last-good
/// window) and a CRC-32C of both, then the body in blocks each followed by its CRC-32C
/// (``StoredBlocks``).
///
/// The full key is compared on read, so a hash collision can never serve another URL; a file that
/// is truncated, has another magic, an unknown version or a wrong checksum is refused.
public struct StoredEntry: Sendable {
    /// `MOXY` in ASCII.
    public static let magic: UInt32 = 0x4D4F_5859
    /// The format version written; others are refused (and the file deleted as unusable).
    public static let version: UInt16 = 2
    /// Bytes before the header: magic, version, flags, header length.
    public static let prefixLength = 12
    /// Bytes of the header's checksum.
    public static let checksumLength = 4

    /// The cache key, in full.
    public var key: String
    /// The status (0 for a variant marker).
    public var status: Int
    /// The stored fields (without `Content-Length`).
    public var fields: [(name: String, value: String)]
    /// The body.
    public var body: ByteBuffer
    /// Unix seconds when the response arrived.
    public var responseTime: Int64
    /// Its freshness.
    public var freshness: Freshness
    /// The `max-age` announced downstream.
    public var downstreamMaxAge: Int64
    /// The names the response varies on.
    public var varyNames: [String]
    /// For a variant marker, its generation.
    public var variantGeneration: UInt64?
    /// Surrogate keys from `Surrogate-Key`, `xkey` and `Cache-Tag`, for purges by tag.
    public var surrogateKeys: [String]
    /// Unix seconds until which the entry is kept as the last good answer, if it is one.
    public var lastGoodUntil: Int64?

    /// The entry for a stored response.
    public init(key: String, response: CachedResponse, lastGoodUntil: Int64? = nil) {
        self.init(
            key: key, status: response.status, fields: response.fields, body: response.body, responseTime: response.responseTime,
            freshness: response.freshness, downstreamMaxAge: response.downstreamMaxAge, varyNames: response.varyNames,
            variantGeneration: response.variantGeneration, surrogateKeys: response.surrogateKeys,
            lastGoodUntil: lastGoodUntil)
    }

    /// An entry from its parts (as a file is read back).
    init(
        key: String, status: Int, fields: [(name: String, value: String)], body: ByteBuffer, responseTime: Int64,
        freshness: Freshness, downstreamMaxAge: Int64, varyNames: [String], variantGeneration: UInt64?,
        surrogateKeys: [String], lastGoodUntil: Int64?
    ) {
        self.key = key
        self.status = status
        self.fields = fields
        self.body = body
        self.responseTime = responseTime
        self.freshness = freshness
        self.downstreamMaxAge = downstreamMaxAge
        self.varyNames = varyNames
        self.variantGeneration = variantGeneration
        self.surrogateKeys = surrogateKeys
        self.lastGoodUntil = lastGoodUntil
    }

    /// Unix seconds after which the entry can no longer answer anything: the end of its freshness,
    /// of its stale windows (`stale-while-revalidate`, `stale-if-error`) and of its last-good
    /// window; `nil` when it stays usable (a variant marker, or a response with a validator,
    /// which a conditional request can still revalidate). The janitor removes entries past it.
    public var usableUntil: Int64? {
        guard variantGeneration == nil,
            !fields.contains(where: { ["etag", "last-modified"].contains($0.name.lowercased()) })
        else { return nil }
        let expiry = responseTime - freshness.initialAge + freshness.lifetime
        var until = expiry + max(0, freshness.staleWhileRevalidate, freshness.staleIfError)
        if let lastGoodUntil { until = max(until, lastGoodUntil) }
        return until
    }

    /// The end of the window in which a stored response may answer as the last good one, for a
    /// source that keeps it `keepLastGood` seconds past its freshness (capped by its max stale).
    public static func lastGoodUntil(_ response: CachedResponse, keepLastGood: Int64) -> Int64 {
        let freshness = response.freshness
        return response.responseTime - freshness.initialAge + freshness.lifetime + min(keepLastGood, freshness.maxStale ?? .max)
    }

    /// The response again (its encoded forms are not stored: the caller encodes them anew if it wants them).
    public var response: CachedResponse {
        if let generation = variantGeneration { return .variantMarker(names: varyNames, generation: generation) }
        return CachedResponse(
            status: status, fields: fields, body: body, responseTime: responseTime, freshness: freshness,
            downstreamMaxAge: downstreamMaxAge, varyNames: varyNames, surrogateKeys: surrogateKeys)
    }

    /// The response again with a body read as it is sent (a large entry's, from a file).
    public func response(externalBody: any BodySource) -> CachedResponse {
        CachedResponse(
            status: status, fields: fields, body: ByteBuffer(), responseTime: responseTime, freshness: freshness,
            downstreamMaxAge: downstreamMaxAge, varyNames: varyNames, externalBody: externalBody,
            surrogateKeys: surrogateKeys)
    }
}

/// Why a file is not a usable entry. Each one is counted and the file deleted.
public struct StoredEntryError: Error, Hashable, CustomStringConvertible {
    /// A stable reason.
    public enum Code: String, Sendable, Hashable {
        /// Shorter than its lengths say.
        case truncated
        /// Not a Moxy entry.
        case badMagic = "bad-magic"
        /// Written by another format version.
        case unknownVersion = "unknown-version"
        /// The checksum does not match: the bytes changed.
        case badChecksum = "bad-checksum"
        /// The key in the file is another one (a hash collision or a replaced file).
        case wrongKey = "wrong-key"
        /// Lengths or values out of range.
        case malformed
    }

    /// The reason.
    public let code: Code

    public init(_ code: Code) { self.code = code }

    /// The code's text.
    public var description: String { code.rawValue }
}
