// SPDX-License-Identifier: Apache-2.0

public import AsyncHTTPClient
import Logging
public import MoxyServer
public import MoxySigning
public import NIOCore
import NIOHTTP1
import NIOPosix

/// A response as a test sees it.
public struct TestResponse: Sendable {
    /// The status code.
    public var status: Int
    /// The header fields.
    public var headers: HTTPHeaders
    /// The body bytes.
    public var body: [UInt8]

    /// The first value of a field.
    public func header(_ name: String) -> String? { headers.first(name: name) }
    /// The body as text.
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// A test origin and a Moxy server in front of it, both on 127.0.0.1, with a real HTTP client.
public struct MoxyHarness: Sendable {
    /// The origin.
    public let origin: TestOrigin
    /// Moxy's port.
    public let port: Int
    /// The keys Moxy verifies with.
    public let signer: URLSigner
    /// The server.
    public let server: MoxyServer
    /// The server's clock: time moves only through ``advance(seconds:)`` (or, with `realTime`, with the wall clock).
    public let clock: MoxyClock
    let client: HTTPClient

    /// Runs `body` with a fresh origin and server; both stop afterwards.
    /// - Parameters:
    ///   - configure: Changes to the default test configuration (loopback allowed, one thread, port 0).
    ///   - body: The test.
    ///   - realTime: Run the server on the wall clock instead of a manual one.
    ///   - routes: Origin routes, given the started origin (e.g. `/` to the origin).
    public static func run(
        configure: (inout ServerConfiguration) -> Void = { _ in },
        realTime: Bool = false,
        routes: (TestOrigin) throws -> [RouteConfiguration] = { _ in [] },
        _ body: (MoxyHarness) async throws -> Void
    ) async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let origin = TestOrigin()
        try await origin.start(group: group)
        var configuration = ServerConfiguration(port: 0, eventLoopThreads: 1)
        configuration.upstream.addressPolicy = AddressPolicy(allowed: [.loopback])
        configuration.routes = try routes(origin)
        configure(&configuration)
        let signer = try URLSigner(
            keys: [try SigningKey(id: "default", secret: "test-secret"), try SigningKey(id: "2", secret: "second")],
            defaultKeyID: "default"
        )
        var logger = Logger(label: "moxy-test")
        logger.logLevel = .warning
        let clock: MoxyClock = realTime ? .system : .manual(ManualClock())
        let server = MoxyServer(configuration: configuration, signer: signer, logger: logger, clock: clock)
        let port: Int
        do {
            port = try await server.start()
        } catch {
            // Its upstream clients must be shut down before they are released.
            await server.shutdown()
            await origin.stop()
            throw error
        }
        var clientConfiguration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: .seconds(20)))
        clientConfiguration.decompression = .disabled
        clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 128
        let client = HTTPClient(eventLoopGroup: group, configuration: clientConfiguration)
        let harness = MoxyHarness(origin: origin, port: port, signer: signer, server: server, clock: clock, client: client)
        // The server's background work runs in this task group, as under a ServiceGroup.
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await server.run() }
            do {
                try await body(harness)
            } catch {
                try? await client.shutdown()
                await server.shutdown()
                try? await tasks.waitForAll()
                await origin.stop()
                throw error
            }
            try await client.shutdown()
            await server.shutdown()
            try await tasks.waitForAll()
        }
        await origin.stop()
    }

    /// The Moxy path for an origin path.
    public func path(_ originPath: String, options: SignOptions = SignOptions()) throws -> String {
        try signer.sign(origin.url(originPath), options: options)
    }

    /// Requests a Moxy path.
    public func request(
        _ path: String,
        method: HTTPMethod = .GET,
        headers: [(String, String)] = [],
        body: [UInt8]? = nil
    ) async throws -> TestResponse {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 32 << 20)
        return TestResponse(status: Int(response.status.code), headers: response.headers, body: Array(buffer: body))
    }

    /// Requests a Moxy path and returns as soon as the response head arrived (the body is read
    /// from the response, in the order it comes).
    public func open(_ path: String, headers: [(String, String)] = []) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        return try await client.execute(request, timeout: .seconds(30))
    }

    /// Moves the server's clock forward (a manual clock only; with `realTime` it sleeps instead).
    public func advance(seconds: Double) async throws {
        switch clock {
        case .manual(let manual): manual.advance(seconds: seconds)
        case .system: try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
        }
    }

    /// Waits until no upstream fetch or background refresh is in progress (a refresh has stored
    /// what it fetched, or kept the entry).
    public func waitForUpstreamWork() async throws {
        try await waitUntil { server.upstreamWorkInProgress == 0 }
    }

    /// Signs an origin path and requests it.
    public func get(_ originPath: String, options: SignOptions = SignOptions(), method: HTTPMethod = .GET) async throws -> TestResponse {
        try await request(path(originPath, options: options), method: method)
    }
}
