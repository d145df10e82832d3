// SPDX-License-Identifier: Apache-2.0

public import AsyncHTTPClient
public import MoxyServer
import NIOCore
public import NIOHTTP1
import NIOPosix
import Testing

/// The token the admin tests configure.
public let adminToken = "test-admin-token-0123456789"

/// Calls an admin API on a loopback port (a client of its own, real sockets).
public func adminCall(port: Int, _ method: HTTPMethod, _ path: String, token: String? = adminToken, body: String? = nil) async throws -> TestResponse
{
    let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
    request.method = method
    if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
    if let body {
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: body))
    }
    do {
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        try await client.shutdown()
        return TestResponse(status: Int(response.status.code), headers: response.headers, body: Array(buffer: bytes))
    } catch {
        try? await client.shutdown()
        throw error
    }
}

extension MoxyHarness {
    /// Calls the admin API of the harness's server.
    public func admin(_ method: HTTPMethod, _ path: String, token: String? = adminToken, body: String? = nil) async throws -> TestResponse {
        let port = try #require(server.adminPort, "the server has no admin listener")
        return try await adminCall(port: port, method, path, token: token, body: body)
    }

    /// `POST /purge` with a form, expecting 200; returns the number purged.
    public func purge(_ form: String) async throws -> Int {
        let answer = try await admin(.POST, "/purge", body: form)
        #expect(answer.status == 200, "\(answer.text)")
        return Self.number("purged", in: answer.text) ?? -1
    }

    /// An integer member of a flat JSON text (`"name":123`).
    public static func number(_ name: String, in text: String) -> Int? {
        guard let range = text.firstRange(of: "\"\(name)\":") else { return nil }
        return Int(text[range.upperBound...].prefix { $0.isNumber || $0 == "-" })
    }
}

/// The value of one sample of a Prometheus text (`name{labels} value`), 0 when absent.
public func sample(_ text: String, _ series: String) -> Double {
    for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Double(line.dropFirst(series.count + 1)) ?? .nan
    }
    return 0
}

/// Runs `body` with an HTTP client that is shut down afterwards whatever happens: a client left
/// to its deinit stops the whole test process (AsyncHTTPClient's precondition), so a test that
/// throws half-way must not leak one.
public func withHTTPClient<T>(
    _ configuration: HTTPClient.Configuration = HTTPClient.Configuration(), _ body: (HTTPClient) async throws -> T
) async throws -> T {
    let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    do {
        let result = try await body(client)
        try await client.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        throw error
    }
}
