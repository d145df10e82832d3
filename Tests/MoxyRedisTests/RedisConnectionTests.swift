// SPDX-License-Identifier: Apache-2.0

import MoxyRedis
import MoxyTestSupport
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// The client against real `redis-server` processes on loopback ports.
@Suite struct RedisConnectionTests {
    let group = MultiThreadedEventLoopGroup.singleton

    func connect(_ server: RedisServer, _ change: (inout RedisConfiguration) -> Void = { _ in }) async throws(RedisError) -> RedisConnection {
        var configuration = RedisConfiguration(port: server.port, connectTimeout: 10, commandTimeout: 10)
        change(&configuration)
        return try await RedisConnection.connect(configuration, on: group)
    }

    @Test func bytesGoInAndComeBackAsTheyWere() async throws {
        try await RedisServer.with { server in
            let connection = try await connect(server)
            #expect(connection.protocolVersion == 3)
            var every = ByteBuffer()
            for byte in 0...255 { every.writeInteger(UInt8(byte)) }
            var large = ByteBuffer()
            for index in 0..<(1 << 20) { large.writeInteger(UInt8(truncatingIfNeeded: index &* 31)) }
            #expect(try await connection.send(RedisCommand("SET", "every", .bytes(every))) == .simpleString("OK"))
            #expect(try await connection.send(RedisCommand("SET", "large", .bytes(large))) == .simpleString("OK"))
            #expect(try await connection.send(RedisCommand("GET", "every")).bytes == every)
            #expect(try await connection.send(RedisCommand("GET", "large")).bytes == large)
            #expect(try await connection.send(RedisCommand("GET", "missing")) == .null)
            #expect(try await connection.send(RedisCommand("HGETALL", "missing")) == .map([]), "RESP3 answers maps")
            await connection.close()
        }
    }

    @Test func aPipelineKeepsItsOrderAndItsErrorAnswersAsValues() async throws {
        try await RedisServer.with { server in
            let connection = try await connect(server)
            let answers = try await connection.pipeline((0..<1000).map { _ in RedisCommand("INCR", "counter") })
            #expect(answers == (1...1000).map { .integer(Int64($0)) })
            _ = try await connection.send(RedisCommand("SET", "text", "x"))
            let mixed = try await connection.pipeline([RedisCommand("INCR", "text"), RedisCommand("GET", "text")])
            #expect(mixed[0].isError && mixed[1] == .bulkString(ByteBuffer(string: "x")))
            // send throws an error answer, with the server's own words.
            await #expect(throws: RedisError(.server, "WRONGTYPE Operation against a key holding the wrong kind of value")) {
                try await connection.send(RedisCommand("LPUSH", "text", "y"))
            }
            await connection.close()
        }
    }

    /// A command on a closed connection fails at once. Its write never reaches the command
    /// handler (a closed channel has none), and before the fix nothing completed its answer: the
    /// caller waited forever (the TLS test hung in CI when a failed handshake closed the channel
    /// before `HELLO` was written).
    @Test func aCommandOnAClosedConnectionFailsInsteadOfWaiting() async throws {
        try await RedisServer.with { server in
            let connection = try await connect(server)
            await connection.close()
            await #expect(throws: RedisError.self) { try await connection.send(RedisCommand("PING")) }
            await #expect(throws: RedisError.self) { try await connection.pipeline([RedisCommand("PING"), RedisCommand("PING")]) }
        }
    }

    @Test func anACLUserReachesOnlyItsKeysAndAWrongPasswordIsAnAuthenticationError() async throws {
        try await RedisServer.with { server in
            let admin = try await connect(server)
            _ = try await admin.send(RedisCommand("ACL", "SETUSER", "moxy", "on", ">s3cret", "~moxy:*", "+@all"))
            let moxy = try await connect(server) {
                $0.username = "moxy"
                $0.password = "s3cret"
            }
            #expect(try await moxy.send(RedisCommand("SET", "moxy:a", "1")) == .simpleString("OK"))
            do throws(RedisError) {
                _ = try await moxy.send(RedisCommand("SET", "other", "1"))
                Issue.record("a key outside ~moxy:* was written")
            } catch {
                #expect(error.code == .server && error.serverPrefix == "NOPERM")
            }
            do throws(RedisError) {
                _ = try await connect(server) {
                    $0.username = "moxy"
                    $0.password = "wrong"
                }
                Issue.record("a wrong password connected")
            } catch {
                #expect(error.code == .authentication && !error.message.contains("wrong\""))
            }
            await moxy.close()
            await admin.close()
        }
    }

    @Test func aServerWithoutHELLOSpeaksRESP2WithAUTHAndSELECT() async throws {
        try await RedisServer.with(["--rename-command", "HELLO", "", "--requirepass", "pw"]) { server in
            let connection = try await connect(server) {
                $0.password = "pw"
                $0.database = 3
            }
            #expect(connection.protocolVersion == 2)
            _ = try await connection.send(RedisCommand("SET", "k", "v"))
            #expect(try await connection.send(RedisCommand("HGETALL", "none")) == .array([]), "RESP2 answers arrays")
            // SELECT 3 took effect: database 0 does not have the key.
            let zero = try await connect(server) { $0.password = "pw" }
            #expect(try await zero.send(RedisCommand("EXISTS", "k")) == .integer(0))
            #expect(try await connection.send(RedisCommand("EXISTS", "k")) == .integer(1))
            do throws(RedisError) {
                _ = try await connect(server) { $0.password = "nope" }
                Issue.record("a wrong password connected")
            } catch {
                #expect(error.code == .authentication)
            }
            await #expect(throws: RedisError.self) { try await connect(server) }
            await zero.close()
            await connection.close()
        }
    }

    @Test func anUnansweredCommandTimesOutAndThePoolReconnects() async throws {
        try await RedisServer.with { server in
            // Generous timeouts for everything but the command under test, so that a loaded
            // machine cannot fail the handshake or the PING after it.
            let configuration = RedisConfiguration(port: server.port, connectTimeout: 10, commandTimeout: 10, poolSize: 1)
            let pool = RedisPool(configuration, group: group)
            let blocked = try await pool.connection()
            let started = NIODeadline.now()
            // BLPOP waits 60 s for a list that never fills; the client gives up after 0.2 s.
            await #expect(throws: RedisError(.timeout, "no answer to BLPOP within its timeout")) {
                try await blocked.send(RedisCommand("BLPOP", "never", 60).waiting(atMost: 0.2))
            }
            #expect(NIODeadline.now() - started < .seconds(30))
            // The connection was closed (a late answer would have matched the next command).
            await blocked.closed()
            #expect(!blocked.isActive)
            #expect(try await pool.send(RedisCommand("PING")) == .simpleString("PONG"))
            await pool.close()
        }
    }

    @Test func theHandshakeWaitsForTheConnectTimeoutNotTheCommandTimeout() async throws {
        // A server that stops for 0.5 s right after accepting: a 0.1 s command timeout alone
        // would fail HELLO; the handshake is bounded by the connect timeout instead.
        try await RedisServer.with { server in
            let admin = try await connect(server)
            _ = try await admin.send(RedisCommand("CLIENT", "PAUSE", 500, "ALL"))
            let connection = try await RedisConnection.connect(
                RedisConfiguration(port: server.port, connectTimeout: 10, commandTimeout: 0.1), on: group)
            #expect(connection.protocolVersion == 3)
            await connection.close()
            await admin.close()
        }
    }

    @Test func nothingListeningIsAConnectFailure() async throws {
        let port = try RedisServer.freePort()
        await #expect {
            try await RedisConnection.connect(RedisConfiguration(port: port), on: group)
        } throws: { error in
            (error as? RedisError)?.code == .connectFailed
        }
    }

    @Test func aPoolOutlivesARestartOfTheServer() async throws {
        let server = try await RedisServer.start()
        let pool = RedisPool(RedisConfiguration(port: server.port, connectTimeout: 10, commandTimeout: 10, poolSize: 2), group: group)
        _ = try await pool.send(RedisCommand("SET", "k", "1"))
        await server.kill()
        // While it is down every call fails with a reason; none hangs.
        for _ in 0..<4 {
            await #expect(throws: RedisError.self) { try await pool.send(RedisCommand("GET", "k")) }
        }
        let again = try await RedisServer.start(port: server.port)
        #expect(try await pool.send(RedisCommand("GET", "k")) == .null, "a new server, empty")
        #expect(try await pool.send(RedisCommand("PING")) == .simpleString("PONG"))
        await pool.close()
        await #expect(throws: RedisError(.connectionClosed, "the pool is closed")) { try await pool.send(RedisCommand("PING")) }
        await again.stop()
        await server.stop()
    }

    @Test func manyCallersShareAFewConnections() async throws {
        try await RedisServer.with { server in
            let pool = RedisPool(RedisConfiguration(port: server.port, connectTimeout: 10, commandTimeout: 10, poolSize: 2), group: group)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for index in 0..<200 {
                    tasks.addTask {
                        _ = try await pool.send(RedisCommand("SET", .string("k\(index)"), .string("v\(index)")))
                        let value = try await pool.send(RedisCommand("GET", .string("k\(index)")))
                        #expect(value.string == "v\(index)")
                    }
                }
                try await tasks.waitForAll()
            }
            let clients = try await pool.send(RedisCommand("CLIENT", "LIST")).string ?? ""
            #expect(clients.split(separator: "\n").count <= 3, "two pooled connections (and none left over)")
            await pool.close()
        }
    }

    @Test func pushMessagesDoNotTakeTheirPlaceAmongAnswers() async throws {
        try await RedisServer.with { server in
            let pushes = NIOLockedValueBox<[RESPValue]>([])
            let tracked = try await RedisConnection.connect(RedisConfiguration(port: server.port, connectTimeout: 10, commandTimeout: 10), on: group) { push in
                pushes.withLockedValue { $0.append(push) }
            }
            _ = try await tracked.send(RedisCommand("CLIENT", "TRACKING", "on"))
            _ = try await tracked.send(RedisCommand("GET", "watched"))
            let writer = try await connect(server)
            _ = try await writer.send(RedisCommand("SET", "watched", "1"))
            // The invalidation arrives as a push, between answers; answers still match commands.
            for _ in 0..<200 where pushes.withLockedValue({ $0.isEmpty }) {
                #expect(try await tracked.send(RedisCommand("ECHO", "still-in-order")).string == "still-in-order")
                try await Task.sleep(for: .milliseconds(10))
            }
            let first = pushes.withLockedValue { $0.first }
            #expect(first?.elements?.first?.string == "invalidate")
            await writer.close()
            await tracked.close()
        }
    }
}

extension RESPValue {
    var isError: Bool {
        if case .error = self { return true }
        return false
    }
}
