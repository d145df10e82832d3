// SPDX-License-Identifier: Apache-2.0

/// What the shared tier needs of Redis, one server or a Cluster alike: commands sent to the
/// node that serves a key, and a connection of its own for blocking reads.
public protocol RedisClient: AnyObject, Sendable {
    /// Sends commands back to back to the node serving `key` (every key they touch must be in
    /// `key`'s slot: give them one hash tag).
    /// - Returns: The answers in order; an error answer is an ``RESPValue/error(_:)`` value there.
    func pipeline(_ commands: [RedisCommand], key: String) async throws(RedisError) -> [RESPValue]

    /// A new connection to the node serving `key`, not shared (for `XREAD BLOCK`); the caller
    /// closes it.
    func dedicatedConnection(forKey key: String, commandTimeout: Double) async throws(RedisError) -> RedisConnection

    /// Closes every connection.
    func close() async
}

extension RedisClient {
    /// Sends one command to the node serving `key`.
    /// - Throws: ``RedisError`` `server` for an error answer, or as ``pipeline(_:key:)``.
    public func send(_ command: RedisCommand, key: String) async throws(RedisError) -> RESPValue {
        let answer = try await pipeline([command], key: key)[0]
        if case .error(let message) = answer { throw RedisError(.server, message) }
        return answer
    }
}

extension RedisPool: RedisClient {
    public func pipeline(_ commands: [RedisCommand], key: String) async throws(RedisError) -> [RESPValue] {
        try await pipeline(commands)
    }

    public func dedicatedConnection(forKey key: String, commandTimeout: Double) async throws(RedisError) -> RedisConnection {
        var configuration = self.configuration
        configuration.commandTimeout = commandTimeout
        return try await RedisConnection.connect(configuration, on: group)
    }
}
