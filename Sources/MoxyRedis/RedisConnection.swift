// SPDX-License-Identifier: Apache-2.0

import NIOCore
import NIOSSL
import NIOPosix

/// One connection to a Redis or Valkey server, after its handshake: RESP3 through `HELLO 3` where
/// the server speaks it (Redis 6+, Valkey), else RESP2 with `AUTH`; then `SELECT` of the database.
/// Commands may be sent from any task, many at once (they are pipelined on the connection).
public final class RedisConnection: Sendable {
    /// The protocol spoken: 3 or 2.
    public let protocolVersion: Int
    private let channel: any Channel

    private init(channel: any Channel, protocolVersion: Int) {
        self.channel = channel
        self.protocolVersion = protocolVersion
    }

    /// Connects and shakes hands.
    /// - Parameters:
    ///   - configuration: Where and how.
    ///   - group: The event loops to run on.
    ///   - onPush: Receives push messages (RESP3), on the connection's event loop.
    /// - Throws: ``RedisError``: `connect-failed`, `authentication`, `timeout`, `server`.
    public static func connect(
        _ configuration: RedisConfiguration,
        on group: any EventLoopGroup,
        onPush: (@Sendable (RESPValue) -> Void)? = nil
    ) async throws(RedisError) -> RedisConnection {
        let decoder = RESPDecoder(limits: configuration.limits)
        let tls = try configuration.tls ? Self.tlsContext(configuration) : nil
        let timeout = TimeAmount.nanoseconds(Int64(configuration.commandTimeout * 1_000_000_000))
        let channel: any Channel
        do {
            let bootstrap = ClientBootstrap(group: group)
                .connectTimeout(.nanoseconds(Int64(configuration.connectTimeout * 1_000_000_000)))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            // A name is sent (SNI) and checked; an IP address is checked against the peer's.
                            let name = IPAddressText.isAddress(configuration.host) ? nil : configuration.host
                            try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: name))
                        }
                        try channel.pipeline.syncOperations.addHandler(RedisCommandHandler(decoder: decoder, timeout: timeout, onPush: onPush))
                    }
                }
            // An address is connected to as it is: resolving it (getaddrinfo, off the event loop)
            // could wait behind other work past the connect timeout on a loaded machine.
            let connected = IPAddressText.isAddress(configuration.host)
                ? bootstrap.connect(to: try SocketAddress(ipAddress: configuration.host, port: configuration.port))
                : bootstrap.connect(host: configuration.host, port: configuration.port)
            // A connection made after its caller gave up is closed at once.
            channel = try await connected.valueUnlessCancelled { $0.close(promise: nil) }
        } catch let error as RedisError {
            throw error
        } catch {
            throw RedisError(.connectFailed, "\(configuration): \(error)")
        }
        do {
            let version = try await handshake(channel, configuration)
            return RedisConnection(channel: channel, protocolVersion: version)
        } catch {
            try? await channel.close()
            throw error
        }
    }

    /// The TLS client context of a configuration (TLS 1.2 at least, the certificate verified).
    static func tlsContext(_ configuration: RedisConfiguration) throws(RedisError) -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.certificateVerification = .fullVerification
        if let file = configuration.tlsCAFile { tls.trustRoots = .file(file) }
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw RedisError(.badConfiguration, "TLS: \(error)")
        }
    }

    /// The handshake's commands wait as long as the connect timeout, as its documentation says:
    /// a short command timeout (for fast failure on a hung server) must not make connecting fail
    /// on a loaded machine.
    private static func handshake(_ channel: any Channel, _ configuration: RedisConfiguration) async throws(RedisError) -> Int {
        let wait = configuration.connectTimeout
        func send(_ command: RedisCommand, on channel: any Channel) async throws(RedisError) -> RESPValue {
            try await RedisConnection.send(command.waiting(atMost: wait), on: channel)
        }
        var hello: [RedisArgument] = [3]
        if let password = configuration.password {
            hello += ["AUTH", .string(configuration.username ?? "default"), .string(password)]
        }
        var version = 3
        let answer = try await send(RedisCommand("HELLO", hello), on: channel)
        if case .error(let message) = answer {
            guard message.hasPrefix("NOPROTO") || message.lowercased().contains("unknown command") else { throw Self.refusal(message) }
            // A server before Redis 6 (or one with HELLO renamed away): RESP2, credentials through AUTH.
            version = 2
            if let password = configuration.password {
                let auth = configuration.username.map { RedisCommand("AUTH", .string($0), .string(password)) } ?? RedisCommand("AUTH", .string(password))
                if case .error(let message) = try await send(auth, on: channel) { throw Self.refusal(message) }
            }
            // Without HELLO nothing so far needed credentials: a server that wants some says so now.
            if case .error(let message) = try await send(RedisCommand("PING"), on: channel) { throw Self.refusal(message) }
        }
        if configuration.database != 0, case .error(let message) = try await send(RedisCommand("SELECT", .integer(Int64(configuration.database))), on: channel) {
            throw RedisError(.server, message)
        }
        return version
    }

    private static func refusal(_ message: String) -> RedisError {
        let word = message.split(separator: " ", maxSplits: 1).first ?? ""
        return RedisError(["WRONGPASS", "NOAUTH", "NOPERM"].contains(word) ? .authentication : .server, message)
    }

    private static func send(_ command: RedisCommand, on channel: any Channel) async throws(RedisError) -> RESPValue {
        let answer = write(command, on: channel)
        channel.flush()
        do {
            return try await answer.valueUnlessCancelled()
        } catch let error as RedisError {
            throw error
        } catch {
            throw RedisError(.connectionClosed, "\(error)")
        }
    }

    /// Writes a command (without flushing) and returns the future of its answer. A write that
    /// never reaches the command handler (the channel closed and its handlers were removed, as
    /// after a failed TLS handshake) fails the answer too: nothing else would complete it, and the
    /// caller would wait forever.
    private static func write(_ command: RedisCommand, on channel: any Channel) -> EventLoopFuture<RESPValue> {
        let answer = channel.eventLoop.makePromise(of: RESPValue.self)
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { error in
            answer.fail(error as? RedisError ?? RedisError(.connectionClosed, "\(error)"))
        }
        channel.write(RedisOutbound(command: command, promise: answer), promise: written)
        return answer.futureResult
    }

    /// Whether the connection is still open.
    public var isActive: Bool { channel.isActive }

    /// Returns once the connection has closed (for whoever owns it; never throws).
    public func closed() async {
        try? await channel.closeFuture.get()
    }

    /// Sends one command.
    /// - Returns: Its answer (never an error value).
    /// - Throws: ``RedisError``: `server` for an error answer (`MOVED`, `WRONGTYPE` …), `timeout`,
    ///   `connection-closed`, `protocol-error`.
    public func send(_ command: RedisCommand) async throws(RedisError) -> RESPValue {
        let answer = try await Self.send(command, on: channel)
        if case .error(let message) = answer { throw RedisError(.server, message) }
        return answer
    }

    /// Sends commands back to back (one write, one flush) and waits for all their answers.
    /// - Returns: The answers in order; an error answer is an ``RESPValue/error(_:)`` value there.
    /// - Throws: ``RedisError`` when the connection fails or times out before every answer.
    public func pipeline(_ commands: [RedisCommand]) async throws(RedisError) -> [RESPValue] {
        let answers = commands.map { Self.write($0, on: channel) }
        channel.flush()
        // One suspension for the whole pipeline, not one per answer.
        do {
            return try await EventLoopFuture.whenAllSucceed(answers, on: channel.eventLoop).valueUnlessCancelled()
        } catch let error as RedisError {
            throw error
        } catch {
            throw RedisError(.connectionClosed, "\(error)")
        }
    }

    /// Closes the connection; commands in flight fail with `connection-closed`.
    public func close() async {
        try? await channel.close()
    }

    /// Starts closing the connection without waiting (from a cancellation handler).
    public func closeSoon() {
        channel.close(promise: nil)
    }
}
