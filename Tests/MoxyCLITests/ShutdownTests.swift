// SPDX-License-Identifier: Apache-2.0

import AsyncHTTPClient
import Foundation
import MoxyTestSupport
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

/// SIGTERM and SIGINT through the real binary: stop accepting, let requests in progress (a slow
/// upstream body included) finish up to `shutdown_timeout`, cancel what is left, exit 0.
@Suite(.serialized) struct ShutdownTests {
    /// An origin whose `/slow` body arrives in 8 pieces, 150 ms apart (about 1.2 s in all), and
    /// waits after the second piece until ``TestOrigin/resumeBodies()``: the drain cannot end
    /// before the test lets it, however loaded the machine.
    static func slowOrigin() async throws -> TestOrigin {
        let origin = TestOrigin()
        try await origin.start(group: MultiThreadedEventLoopGroup.singleton)
        var slow = OriginRoute(
            headers: [("Content-Type", "text/plain"), ("Cache-Control", "no-store")], body: Array(repeating: UInt8(ascii: "x"), count: 8000),
            chunks: 8, chunkDelay: .milliseconds(150))
        slow.pauseAfterPieces = 2
        origin.route("/slow", slow)
        return origin
    }

    /// Starts a slow request, signals once its head has arrived, and returns what the client got.
    static func signalDuringASlowBody(
        _ signal: Int32, arguments: [String] = [], whileDraining: (CLITests.Server) async throws -> Void = { _ in }
    ) async throws -> (body: Result<Int, any Error>, server: CLITests.Server, origin: TestOrigin) {
        let origin = try await slowOrigin()
        let server = try await CLITests.startServer(["--route", "/=\(origin.url(""))"] + arguments, environment: [:])
        let body: Result<Int, any Error> = try await withHTTPClient { client in
            let response = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(server.port)/slow"), timeout: .seconds(30))
            #expect(response.status.code == 200)
            kill(server.process.processIdentifier, signal)
            try await whileDraining(server)
            origin.resumeBodies()
            do {
                return .success(try await response.body.collect(upTo: 1 << 20).readableBytes)
            } catch {
                return .failure(error)
            }
        }
        return (body, server, origin)
    }

    static func waitForExit(_ server: CLITests.Server, seconds: Int = 5) async throws {
        for _ in 0..<(seconds * 20) where server.process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!server.process.isRunning, "moxy is still running: \(server.logText)")
        if server.process.isRunning { await CLITests.kill(server.process) }
    }

    /// Whether a new connection to the port is refused (the listener is closed).
    static func refusesConnections(_ port: Int) async throws -> Bool {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        return try await withHTTPClient(configuration) { client in
            do {
                _ = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz-probe"), timeout: .seconds(2))
                return false
            } catch {
                return true
            }
        }
    }

    @Test func sigtermLetsASlowUpstreamBodyFinishThenExitsZero() async throws {
        // The listener closes at the signal, while the body in progress is still being sent.
        let (body, server, origin) = try await Self.signalDuringASlowBody(SIGTERM) { server in
            var refused = false
            for _ in 0..<40 where !refused {
                refused = try await Self.refusesConnections(server.port)
                if !refused { try await Task.sleep(for: .milliseconds(25)) }
            }
            #expect(refused, "the listener is closed during the drain")
            #expect(server.process.isRunning, "the process still drains the slow body")
        }
        defer { CLITests.removeWorkingDirectory(server.process) }
        defer { Task { await origin.stop() } }
        #expect(try body.get() == 8000, "the body in progress is sent whole")
        try await Self.waitForExit(server)
        #expect(server.process.terminationReason == .exit && server.process.terminationStatus == 0)
        #expect(server.logText.contains("moxy stopping"))
        // The listener was closed at the signal: nothing accepts on the port any more (the client
        // is told not to retry a refused connect, so the refusal shows at once).
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        await #expect(throws: (any Error).self) {
            _ = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(server.port)/slow"), timeout: .seconds(2))
        }
        try await client.shutdown()
    }

    @Test func sigintDrainsTheSameWay() async throws {
        let (body, server, origin) = try await Self.signalDuringASlowBody(SIGINT)
        defer { CLITests.removeWorkingDirectory(server.process) }
        defer { Task { await origin.stop() } }
        #expect(try body.get() == 8000)
        try await Self.waitForExit(server)
        #expect(server.process.terminationReason == .exit && server.process.terminationStatus == 0)
    }

    @Test func whatIsLeftAtTheShutdownTimeoutIsCancelled() async throws {
        // The body needs about 1.2 s; the drain allows 0.3 s. That the body is cut shows the
        // drain's end cancelled it (no bound on the test's own speed, which a loaded machine breaks).
        let (body, server, origin) = try await Self.signalDuringASlowBody(SIGTERM, arguments: ["--shutdown-timeout", "300ms"])
        defer { CLITests.removeWorkingDirectory(server.process) }
        defer { Task { await origin.stop() } }
        #expect(throws: (any Error).self, "the cut body must not look whole") { try body.get() }
        try await Self.waitForExit(server)
        #expect(server.process.terminationStatus == 0)
    }

    @Test func aSignalWhileStartingIsNotLost() async throws {
        // Signal as soon as the process runs, before it listens (a debug build takes longer to
        // start than this): one SIGTERM must be enough.
        let server = try CLITests.launch([], environment: ["MOXY_KEY": "k"])
        defer { CLITests.removeWorkingDirectory(server.process) }
        try await Task.sleep(for: .milliseconds(30))
        server.process.terminate()
        try await Self.waitForExit(server)
        // Exit 0 once main has run; a signal that lands before main (runtime start-up) kills the
        // process with the default action, which is not a lost signal either.
        #expect(
            (server.process.terminationReason == .exit && server.process.terminationStatus == 0)
                || (server.process.terminationReason == .uncaughtSignal && server.process.terminationStatus == SIGTERM)
        )
    }
}
