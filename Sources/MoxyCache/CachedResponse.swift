// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
public import NIOCore

/// A complete response ready to be written to clients many times: pre-encoded head, body bytes and
/// the freshness needed to compute `Age`.
///
/// Instances are immutable and shared between event loops; writing one costs no copy of the body
/// (a `ByteBuffer` is copy-on-write and the writer only reads it).
public final class CachedResponse: Sendable {
    /// The status code.
    public let status: Int
    /// Status line and stored header fields, including `Content-Length`; `Cache-Control` and
    /// `Expires` come last.
    public let head: ByteBuffer
    /// The same head without `Cache-Control` and `Expires` (a prefix of ``head``'s bytes), for
    /// responses whose lifetime the writer caps.
    public let headWithoutLifetime: ByteBuffer
    /// The body (empty when it is an ``externalBody``).
    public let body: ByteBuffer
    /// A body read from elsewhere (a disk file) as it is sent, instead of ``body``.
    public let externalBody: (any BodySource)?
    /// The length the head announces in `Content-Length`: the body's, or the external body's when
    /// known (`nil`: unknown, the writer frames it).
    public let bodyLength: Int?
    /// Unix seconds when the response arrived from the origin.
    public let responseTime: Int64
    /// Freshness lifetime and initial age.
    public let freshness: Freshness
    /// The `max-age` the head announces downstream.
    public let downstreamMaxAge: Int64
    /// The stored header fields, as encoded in ``head`` (without `Content-Length`).
    public let fields: [(name: String, value: String)]
    /// The stored `ETag`, if any.
    public let etag: String?
    /// The stored `Last-Modified` as Unix seconds, if any.
    public let lastModified: Int64?
    /// The field names this response varies on (lowercased, sorted; empty for none).
    public let varyNames: [String]
    /// For a variant marker (the entry stored under a URI's primary key when its responses vary):
    /// the marker's generation, part of every variant's key so that invalidating the primary key
    /// orphans all variants at once. `nil` for ordinary responses.
    public let variantGeneration: UInt64?
    /// The same response in other content codings (gzip, brotli, zstd), computed once when it was
    /// stored, smallest first; empty when the type is not worth compressing or no coding would be
    /// smaller.
    public let encoded: [CachedResponse]
    /// The content coding of this form (`nil`: the identity form).
    public let coding: ContentCoding?
    /// The keys purges by tag find it under, read from the upstream's fields (which a source
    /// may not pass downstream: signed URLs keep an allow-list).
    public let surrogateKeys: [String]

    /// Creates a response.
    /// - Parameters:
    ///   - status: The status code.
    ///   - fields: Header fields to emit (without `Content-Length`, `Age`, `Date`, `Cache-Status`, `Connection`).
    ///   - body: The body.
    ///   - responseTime: Unix seconds when it arrived.
    ///   - freshness: Its freshness (lifetime 0 for responses that are not stored).
    ///   - downstreamMaxAge: The `max-age` announced by the `Cache-Control` in `fields`.
    ///   - varyNames: The names the stored response varies on, when not those of its `Vary` field
    ///     (a cache that chooses the content coding itself does not vary on `Accept-Encoding`).
    ///   - encoded: The forms in other content codings, smallest first.
    ///   - coding: This form's content coding (`nil` for the identity form).
    ///   - surrogateKeys: Its surrogate keys (`nil`: read from `fields`).
    ///   - allocator: The allocator for the pre-encoded heads.
    public init(
        status: Int,
        fields: [(name: String, value: String)],
        body: ByteBuffer,
        responseTime: Int64,
        freshness: Freshness,
        downstreamMaxAge: Int64,
        varyNames: [String]? = nil,
        encoded: [CachedResponse] = [],
        coding: ContentCoding? = nil,
        externalBody: (any BodySource)? = nil,
        surrogateKeys: [String]? = nil,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) {
        self.status = status
        self.externalBody = externalBody
        let bodyLength = externalBody.map { $0.length } ?? body.readableBytes
        self.bodyLength = bodyLength
        // One allocation for the head and a small body: NIO rounds every buffer up to a power of
        // two and each has its own storage object, which for small entries cost more than the
        // bytes. The lifetime fields (`Cache-Control`, `Expires`) are encoded last, so the head
        // for responses whose lifetime the writer caps is a prefix of the same bytes.
        let isLifetime: ((name: String, value: String)) -> Bool = {
            let name = $0.name.lowercased()
            return name == "cache-control" || name == "expires"
        }
        let ordered = fields.filter { !isLifetime($0) } + (bodyLength.map { [(name: "Content-Length", value: String($0))] } ?? [])
        let lifetime = fields.filter(isLifetime)
        let headBytes = ResponseHead.encodedLength(status: status, fields: ordered + lifetime)
        let packsBody = body.readableBytes <= Self.packedBodyLimit
        var packed = allocator.buffer(capacity: headBytes + (packsBody ? body.readableBytes : 0))
        ResponseHead.write(status: status, fields: ordered, into: &packed)
        let prefix = packed.readableBytes
        for field in lifetime { ResponseHead.write(field, into: &packed) }
        let headLength = packed.readableBytes
        if packsBody { packed.writeImmutableBuffer(body) }
        self.head = packed.getSlice(at: packed.readerIndex, length: headLength)!
        self.headWithoutLifetime = packed.getSlice(at: packed.readerIndex, length: prefix)!
        // A larger body keeps its own buffer, copied when an accumulating buffer's growth (or a
        // slice of a bigger one) would hold much more than the body.
        let ownBody = packsBody ? body : Self.compacted(body, allocator: allocator)
        self.body = packsBody ? packed.getSlice(at: packed.readerIndex + headLength, length: body.readableBytes)! : ownBody
        self.storageBytes = packed.storageCapacity + (packsBody ? 0 : ownBody.storageCapacity)
        self.responseTime = responseTime
        self.freshness = freshness
        self.downstreamMaxAge = downstreamMaxAge
        self.fields = fields
        self.etag = fields.first(named: "etag")
        self.lastModified = fields.first(named: "last-modified").flatMap { HTTPDate.parse($0) }
        self.varyNames = varyNames ?? VaryKey.names(fields.values(named: "vary")) ?? ["*"]
        self.variantGeneration = nil
        self.encoded = encoded
        self.coding = coding
        self.surrogateKeys = surrogateKeys ?? SurrogateKeys.parse(fields)
    }

    private init(markerFor names: [String], generation: UInt64) {
        self.storageBytes = 0
        self.status = 0
        self.externalBody = nil
        self.bodyLength = 0
        self.head = ByteBuffer()
        self.headWithoutLifetime = ByteBuffer()
        self.body = ByteBuffer()
        self.responseTime = 0
        self.freshness = .uncached
        self.downstreamMaxAge = 0
        self.fields = []
        self.etag = nil
        self.lastModified = nil
        self.varyNames = names
        self.variantGeneration = generation
        self.encoded = []
        self.coding = nil
        self.surrogateKeys = []
    }

    /// A variant marker: stored under a URI's primary key when its responses vary on `names`.
    /// - Parameters:
    ///   - names: The `Vary` field names.
    ///   - generation: A number unique to this marker.
    /// - Returns: The marker.
    public static func variantMarker(names: [String], generation: UInt64) -> CachedResponse {
        CachedResponse(markerFor: names, generation: generation)
    }

    /// The same response with other fields, stored names or encoded form (heads encoded anew).
    public func with(
        fields: [(name: String, value: String)],
        freshness: Freshness? = nil,
        responseTime: Int64? = nil,
        varyNames: [String],
        encoded: [CachedResponse]
    ) -> CachedResponse {
        // An external body keeps its source (a freshened large entry still reads the same file).
        CachedResponse(
            status: status,
            fields: fields,
            body: body,
            responseTime: responseTime ?? self.responseTime,
            freshness: freshness ?? self.freshness,
            downstreamMaxAge: downstreamMaxAge,
            varyNames: varyNames,
            encoded: encoded,
            coding: coding,
            externalBody: externalBody,
            surrogateKeys: surrogateKeys
        )
    }

    /// The current age in seconds (RFC 9111 §4.2.3).
    /// - Parameter now: Unix seconds.
    /// - Returns: Initial age plus resident time, never negative.
    @inlinable
    public func age(at now: Int64) -> Int64 {
        freshness.initialAge + max(0, now - responseTime)
    }

    /// Whether the response is still fresh.
    /// - Parameter now: Unix seconds.
    /// - Returns: `true` while its age is below its lifetime.
    @inlinable
    public func isFresh(at now: Int64) -> Bool {
        freshness.lifetime > age(at: now)
    }

    /// The bytes of the buffers' storage (allocated capacity, not just what is read).
    private let storageBytes: Int

    /// Bodies up to this size share one allocation with the heads.
    static let packedBodyLimit = 64 << 10

    /// `body` in a buffer of its own size when its storage holds over an eighth more.
    private static func compacted(_ body: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        guard body.storageCapacity > body.readableBytes + body.readableBytes / 8 + 64 else { return body }
        var exact = allocator.buffer(capacity: body.readableBytes)
        exact.writeImmutableBuffer(body)
        return exact
    }

    /// What an entry costs beyond its buffers' bytes and field strings: the instance, the buffer's
    /// storage object, the memory tier's slot and index entry, the key's string and the
    /// allocator's headers. Measured from a `moxy serve` filled with 10,000 tiny objects (1,760
    /// bytes of resident memory each; see `docs/storage.md`), rounded up.
    static let fixedOverhead = 900

    /// Bytes this response holds in memory, used to bound the memory tier: the buffers' allocated
    /// storage, the field strings that live on the heap (those longer than 15 bytes), and the fixed
    /// overhead; the encoded forms count too.
    public var cost: Int {
        var total = storageBytes + Self.fixedOverhead + fields.count * 32
        for (name, value) in fields {
            if name.utf8.count > 15 { total += 32 + name.utf8.count }
            if value.utf8.count > 15 { total += 32 + value.utf8.count }
        }
        return encoded.reduce(total) { $0 + $1.cost }
    }

    /// The same response made stale from `moment` on (a soft purge): its lifetime ends at the age
    /// it has then, so it answers only after revalidation or, when the upstream fails, as
    /// `stale-if-error` or the last good answer (never as `stale-while-revalidate`). Its stale
    /// windows count from that moment.
    public func staled(at moment: Int64) -> CachedResponse {
        var freshness = self.freshness
        freshness.lifetime = min(freshness.lifetime, max(0, age(at: moment)))
        freshness.immutable = false
        // A purge says the content changed: the next request waits for the upstream instead of
        // getting the purged answer once more while it revalidates. Errors still fall back on it
        // (stale-if-error, the last good answer).
        freshness.staleWhileRevalidate = 0
        return CachedResponse(
            status: status, fields: fields, body: body, responseTime: responseTime, freshness: freshness,
            downstreamMaxAge: downstreamMaxAge, varyNames: varyNames, encoded: encoded.map { $0.staled(at: moment) }, coding: coding,
            externalBody: externalBody,
            surrogateKeys: surrogateKeys)
    }
}
