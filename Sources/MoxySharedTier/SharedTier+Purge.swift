// SPDX-License-Identifier: Apache-2.0

import Glibc
import Logging
import MoxyCache
import MoxyRedis
import NIOConcurrencyHelpers
import NIOCore

extension SharedTier {
    /// Applies a purge made on this node: a hard purge of URLs or of a tag deletes their
    /// entries (the tag's set names them: no `SCAN`); then the purge is appended to the feed,
    /// which every node applies to its own tiers. Prefix and everything purges, and soft ones,
    /// act through each node's purge log on what it reads, as Varnish bans do.
    public func apply(_ purge: PurgeRecord) async -> PurgeSweep? {
        if !purge.soft {
            switch purge.selector {
            case .keys(let primaries):
                for primary in primaries {
                    let metaKey = keys.meta(primary)
                    _ = await call(.purge, budget: configuration.writeTimeout) { () async throws(RedisError) -> Bool in
                        _ = try await self.client.send(RedisCommand("UNLINK", .string(metaKey)), key: metaKey)
                        return true
                    }
                }
            case .tag(let tag):
                let set = keys.surrogate(tag)
                let members = await call(.purge, budget: configuration.writeTimeout) { () async throws(RedisError) -> [String] in
                    try await self.client.send(RedisCommand("SMEMBERS", .string(set)), key: set).elements?.compactMap(\.string) ?? []
                }
                for member in members ?? [] {
                    let metaKey = keys.meta(member)
                    _ = await call(.purge, budget: configuration.writeTimeout) { () async throws(RedisError) -> Bool in
                        _ = try await self.client.send(RedisCommand("UNLINK", .string(metaKey)), key: metaKey)
                        return true
                    }
                }
            case .prefixes, .all: break
            }
        }
        let (feed, sequence) = (keys.purges, keys.purgeSequence)
        let appended = await call(.purge, budget: configuration.writeTimeout) { () async throws(RedisError) -> Bool in
            // Numbered: a node back from away tells "trimmed past me" from "nothing new".
            _ = try await self.client.send(
                RedisCommand(
                    "EVAL",
                    """
                    local n = redis.call('INCR', KEYS[2])
                    return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'number', n, 'node', ARGV[2], 'purge', ARGV[3])
                    """, 2, .string(feed), .string(sequence), .integer(Int64(self.configuration.purgeFeedLength)), .string(self.nodeID),
                    .string(purge.line)),
                key: feed)
            return true
        }
        count(.purge, appended == true ? "published" : "unpublished")
        if appended != true {
            logger.warning("purge not sent to the other nodes: the shared tier did not answer", metadata: ["purge": "\(purge.line)"])
        }
        return nil
    }

    /// Tails the purge feed from this node's last position for as long as the server runs,
    /// applying other nodes' purges; reconnects after a failure. A node that fell behind the
    /// feed's length marks everything it holds stale (it cannot know what it missed).
    public func run() async {
        var cursor = loadCursor()
        var delay = 100
        while !Task.isCancelled {
            do {
                let connection = try await client.dedicatedConnection(forKey: keys.purges, commandTimeout: 5)
                delay = 100
                defer { connection.closeSoon() }
                try await withTaskCancellationHandler {
                    try await tail(connection, from: &cursor)
                } onCancel: {
                    connection.closeSoon()
                }
            } catch {
                if Task.isCancelled { return }
                logger.debug("purge feed unavailable", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(delay))
                delay = min(delay * 2, 2_000)
            }
        }
    }

    private func tail(_ connection: RedisConnection, from cursor: inout FeedPosition?) async throws(RedisError) {
        if let known = cursor, try await missedPurges(connection, after: known) {
            statistics.withLockedValue { $0.feedGaps += 1 }
            logger.warning("purge feed trimmed past this node's position: everything held here is marked stale")
            await purgeHandler.withLockedValue({ $0 })?(PurgeRecord(selector: .all, soft: true, time: nowMilliseconds() / 1000))
        }
        while !Task.isCancelled {
            let answer = try await connection.send(
                RedisCommand("XREAD", "COUNT", 100, "BLOCK", 1000, "STREAMS", .string(keys.purges), .string((cursor?.id ?? .zero).text)))
            guard let streams = answer.elements else { continue }
            // RESP3: a map {stream: entries}; RESP2: [[stream, entries]].
            let entries: [RESPValue]
            if case .map = answer { entries = streams.count >= 2 ? streams[1].elements ?? [] : [] } else {
                entries = streams.first?.elements.flatMap { $0.count >= 2 ? $0[1].elements : nil } ?? []
            }
            for item in entries {
                guard let parts = item.elements, parts.count == 2, let id = parts[0].string.flatMap(StreamID.init(text:)) else { continue }
                let fields = parts[1].elements ?? []
                var node: String?
                var line: String?
                var number: Int64 = 0
                for index in stride(from: 0, to: fields.count - 1, by: 2) {
                    switch fields[index].string {
                    case "node": node = fields[index + 1].string
                    case "purge": line = fields[index + 1].string
                    case "number": number = fields[index + 1].int ?? 0
                    default: break
                    }
                }
                cursor = FeedPosition(id: id, number: number)
                guard node != nodeID, let line, let record = PurgeRecord(line: Substring(line)) else { continue }
                await purgeHandler.withLockedValue({ $0 })?(record)
                let lag = max(0, nowMilliseconds() - Int64(id.milliseconds))
                statistics.withLockedValue {
                    $0.purgesApplied += 1
                    $0.purgeLagMilliseconds = lag
                }
            }
            if let cursor { saveCursor(cursor) }
        }
    }

    /// Whether the feed lost entries after `cursor` (trimmed past it while this node was away):
    /// its first entry is numbered past the next one expected, or, empty, its counter is.
    private func missedPurges(_ connection: RedisConnection, after cursor: FeedPosition) async throws(RedisError) -> Bool {
        let first = try await connection.send(RedisCommand("XRANGE", .string(keys.purges), "-", "+", "COUNT", 1))
        if let entry = first.elements?.first?.elements, entry.count == 2 {
            let fields = entry[1].elements ?? []
            for index in stride(from: 0, to: fields.count - 1, by: 2) where fields[index].string == "number" {
                return (fields[index + 1].int ?? 0) > cursor.number + 1
            }
            return false
        }
        let counter = try await connection.send(RedisCommand("GET", .string(keys.purgeSequence))).int ?? 0
        return counter > cursor.number
    }

    /// The feed position saved by an earlier run, if any.
    func loadCursor() -> FeedPosition? {
        guard let cursorPath, let file = fopen(cursorPath, "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 64)
        guard fgets(&buffer, 64, file) != nil else { return nil }
        let text = String(decoding: buffer.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return FeedPosition(text: text)
    }

    /// Saves the feed position (written aside, then renamed: never a torn file).
    func saveCursor(_ cursor: FeedPosition) {
        guard let cursorPath else { return }
        let temporary = cursorPath + ".tmp"
        guard let file = fopen(temporary, "w") else { return }
        fputs(cursor.text + "\n", file)
        fclose(file)
        rename(temporary, cursorPath)
    }
}

/// Where a node is in the purge feed: the last entry's id and number.
struct FeedPosition: Sendable, Hashable {
    var id: StreamID
    var number: Int64

    init(id: StreamID, number: Int64) {
        self.id = id
        self.number = number
    }

    /// From its saved form, `ID NUMBER`.
    init?(text: String) {
        let parts = text.split(separator: " ")
        guard parts.count == 2, let id = StreamID(text: String(parts[0])), let number = Int64(parts[1]) else { return nil }
        self.init(id: id, number: number)
    }

    var text: String { id.text + " \(number)" }
}

/// A Redis Stream entry id, `MILLISECONDS-SEQUENCE`.
struct StreamID: Sendable, Hashable, Comparable {
    var milliseconds: UInt64
    var sequence: UInt64

    static let zero = StreamID(milliseconds: 0, sequence: 0)

    init(milliseconds: UInt64, sequence: UInt64) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    init?(text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let milliseconds = UInt64(parts[0]), let sequence = UInt64(parts[1]) else { return nil }
        self.init(milliseconds: milliseconds, sequence: sequence)
    }

    var text: String { "\(milliseconds)-\(sequence)" }

    static func < (lhs: StreamID, rhs: StreamID) -> Bool {
        (lhs.milliseconds, lhs.sequence) < (rhs.milliseconds, rhs.sequence)
    }
}
