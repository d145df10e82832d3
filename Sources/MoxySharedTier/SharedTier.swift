// SPDX-License-Identifier: Apache-2.0

public import Logging
public import MoxyCache
public import MoxyRedis
import NIOConcurrencyHelpers
import NIOCore

/// The cache tier several nodes share, on Redis or Valkey: behind memory and disk, it holds
/// what any node stored (only entries that passed validation are ever stored, so it is also the
/// cluster's last good answers), carries purges to every node (``run()`` tails the purge feed)
/// and coalesces cold misses across nodes (``awaitFill(_:)``).
///
/// An entry is the bytes of a disk file (``StoredEntry``), cut into chunks written first and
/// a metadata value written last (``SharedEntryMeta``), all under one hash tag; it expires when
/// its last stale or last-good window ends. Every call has a budget and goes through a circuit
/// breaker: a slow or absent Redis costs a miss, never a failed request.
public final class SharedTier: SlowerTier {
    /// The settings.
    public let configuration: SharedTierConfiguration
    /// The keys.
    public let keys: SharedKeys
    let client: any RedisClient
    let logger: Logger
    /// This process's id in the purge feed (its own purges are not applied twice).
    let nodeID = StoreKey.hex(UInt64.random(in: 1...UInt64.max))
    let breaker: NIOLockedValueBox<CircuitBreaker>
    let statistics = NIOLockedValueBox(Statistics())
    /// Applies a purge that another node made (set by the server once its cache exists).
    let purgeHandler = NIOLockedValueBox<(@Sendable (PurgeRecord) async -> Void)?>(nil)
    /// Where the purge feed's position is kept across restarts (the disk tier's directory).
    let cursorPath: String?
    let nowMilliseconds: @Sendable () -> Int64

    /// A tier over a Redis client.
    /// - Parameters:
    ///   - cursorPath: A file that keeps the purge feed's position across restarts.
    ///   - nowMilliseconds: The wall clock (Unix milliseconds).
    public init(
        configuration: SharedTierConfiguration, client: any RedisClient, logger: Logger, cursorPath: String? = nil,
        nowMilliseconds: @escaping @Sendable () -> Int64
    ) {
        self.configuration = configuration
        self.keys = SharedKeys(prefix: configuration.keyPrefix)
        self.client = client
        self.logger = logger
        self.cursorPath = cursorPath
        self.nowMilliseconds = nowMilliseconds
        self.breaker = NIOLockedValueBox(
            CircuitBreaker(
                failureThreshold: configuration.breakerFailures, openMilliseconds: Int64(configuration.breakerOpenSeconds * 1000)))
    }

    public var kind: CacheTierKind { .shared }
    public var maxEntrySize: Int { configuration.maxObjectSize }

    /// Sets what applies the purges of other nodes.
    public func onPurge(_ handler: @escaping @Sendable (PurgeRecord) async -> Void) {
        purgeHandler.withLockedValue { $0 = handler }
    }

    /// The longest value a metadata may describe.
    var maxFileLength: Int { StoredBlocks.storedLength(ofBody: configuration.maxObjectSize) + StoredEntry.maxHeaderBytes }

    public func read(_ key: String, inMemoryLimit: Int) async -> TierRead? {
        let found: StoredEntry?? = await call(.read, budget: configuration.budget) { () async throws(RedisError) -> StoredEntry? in
            try await self.fetch(key)
        }
        guard case .some(.some(let entry)) = found else {
            if case .some(.none) = found { count(.read, "miss") }
            return nil
        }
        count(.read, "hit")
        return .whole(entry)
    }

    /// The entry under a store key: its metadata, then its chunks in one `MGET`, checked whole.
    private func fetch(_ key: String) async throws(RedisError) -> StoredEntry? {
        let metaKey = keys.meta(key)
        guard let value = try await client.send(RedisCommand("GET", .string(metaKey)), key: metaKey).bytes else { return nil }
        guard let meta = SharedEntryMeta(decoding: value, maxLength: maxFileLength) else {
            count(.read, "corrupt")
            return nil
        }
        var file: ByteBuffer
        if let inline = meta.inline {
            file = inline
        } else {
            let names = (0..<meta.chunkCount).map { RedisArgument.string(keys.chunk(key, writeID: meta.writeID, index: $0)) }
            guard let chunks = try await client.send(RedisCommand("MGET", names), key: metaKey).elements, chunks.count == meta.chunkCount
            else { return nil }
            file = ByteBuffer()
            file.reserveCapacity(meta.length)
            for chunk in chunks {
                // A chunk expired or evicted: the entry is a miss, never a torn body.
                guard var bytes = chunk.bytes else { return nil }
                file.writeBuffer(&bytes)
            }
        }
        guard meta.matches(file), let entry = try? StoredEntry.decode(file, expectedKey: key) else {
            count(.read, "corrupt")
            return nil
        }
        return entry
    }

    public func beginWrite(_ header: StoredEntry, declaredLength: Int?) async -> (any TierWriter)? {
        if let declaredLength, declaredLength > configuration.maxObjectSize { return nil }
        if case .refused = admit() { return nil }
        return SharedWriter(tier: self, header: header)
    }

    /// Writes a whole entry: chunks, then the metadata (which replaces the previous write's,
    /// whose chunks are deleted after), then the surrogate-key sets; releases a fill lock.
    func store(_ entry: StoredEntry) async -> Bool {
        let nowSeconds = nowMilliseconds() / 1000
        let ttl = entry.usableUntil.map { $0 - nowSeconds } ?? configuration.maxTTL
        guard ttl > 0 else { return false }
        // Up to 2 % later: entries stored together do not all expire in the same second.
        let ttlMilliseconds = Int64(min(ttl, configuration.maxTTL)) * 1000 * Int64.random(in: 1_000...1_020) / 1_000
        let file = entry.encode()
        let writeID = UInt64.random(in: 1...UInt64.max)
        let meta = SharedEntryMeta(file: file, writeID: writeID, chunkSize: configuration.chunkSize)
        let metaKey = keys.meta(entry.key)
        var commands: [RedisCommand] = []
        if meta.inline == nil {
            for (index, chunk) in SharedEntryMeta.chunks(of: file, size: configuration.chunkSize).enumerated() {
                commands.append(
                    RedisCommand(
                        "SET", .string(keys.chunk(entry.key, writeID: writeID, index: index)), .bytes(chunk), "PX", .integer(ttlMilliseconds)))
            }
        }
        commands.append(RedisCommand("SET", .string(metaKey), .bytes(meta.encode()), "PX", .integer(ttlMilliseconds), "GET"))
        commands.append(RedisCommand("DEL", .string(keys.fill(StoreKey(encoded: entry.key).primary))))
        let tags = entry.surrogateKeys
        let pipeline = commands
        let written: Bool? = await call(.write, budget: configuration.writeTimeout) { () async throws(RedisError) -> Bool in
            let answers = try await self.client.pipeline(pipeline, key: metaKey)
            if let failed = answers.first(where: { if case .error = $0 { true } else { false } }), case .error(let message) = failed {
                throw RedisError(.server, message)
            }
            // The previous write's chunks: nobody starts reading them any more.
            let previous = answers[answers.count - 2].bytes.flatMap { SharedEntryMeta(decoding: $0, maxLength: self.maxFileLength) }
            if let previous, previous.writeID != writeID, previous.chunkCount > 0 {
                let stale = (0..<previous.chunkCount).map { RedisArgument.string(self.keys.chunk(entry.key, writeID: previous.writeID, index: $0)) }
                _ = try await self.client.pipeline([RedisCommand("UNLINK", stale)], key: metaKey)
            }
            for tag in tags {
                let set = self.keys.surrogate(tag)
                _ = try await self.client.pipeline(
                    [
                        RedisCommand("SADD", .string(set), .string(entry.key)),
                        // A new set gets the entry's lifetime; an existing one keeps the longest.
                        RedisCommand("PEXPIRE", .string(set), .integer(ttlMilliseconds), "NX"),
                        RedisCommand("PEXPIRE", .string(set), .integer(ttlMilliseconds), "GT"),
                    ], key: set)
            }
            return true
        }
        count(.write, written == true ? "stored" : "failed")
        return written == true
    }

    public func remove(_ key: String) async {
        let metaKey = keys.meta(key)
        let removed: Bool? = await call(.remove, budget: configuration.writeTimeout) { () async throws(RedisError) -> Bool in
            _ = try await self.client.send(RedisCommand("UNLINK", .string(metaKey)), key: metaKey)
            return true
        }
        count(.remove, removed == true ? "ok" : "failed")
    }

    /// Closes the connections.
    public func close() async {
        await client.close()
    }
}

/// An entry on its way to the shared tier: the body is gathered (at most ``SharedTierConfiguration/maxObjectSize``)
/// and written whole when it finishes, so nothing of it is visible before.
final class SharedWriter: TierWriter {
    private let tier: SharedTier
    private let state: NIOLockedValueBox<(entry: StoredEntry, aborted: Bool)>

    init(tier: SharedTier, header: StoredEntry) {
        self.tier = tier
        self.state = NIOLockedValueBox((header, false))
    }

    func append(_ chunk: ByteBuffer) async throws {
        let limit = tier.configuration.maxObjectSize
        let tooLarge = state.withLockedValue { state -> Bool in
            guard state.entry.body.readableBytes + chunk.readableBytes <= limit else {
                state.aborted = true
                return true
            }
            var chunk = chunk
            state.entry.body.writeBuffer(&chunk)
            return false
        }
        if tooLarge { throw RedisError(.badConfiguration, "the entry is larger than shared.max_object_size") }
    }

    func finish() async -> Bool {
        let (entry, aborted) = state.withLockedValue { ($0.entry, $0.aborted) }
        guard !aborted else { return false }
        return await tier.store(entry)
    }

    func abort() async {
        state.withLockedValue { $0.aborted = true }
    }
}
