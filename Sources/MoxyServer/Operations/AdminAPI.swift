// SPDX-License-Identifier: Apache-2.0

import Crypto
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// The admin listener's endpoints. `/healthz`, `/readyz` and `/metrics` answer everyone (a load
/// balancer or Prometheus needs no secret); everything else needs the bearer token (or, for a
/// browser opening the status page, HTTP Basic with the token as password), and without a
/// configured token it is refused.
final class AdminAPI: Sendable {
    let proxy: Proxy
    let background: BackgroundWork
    private let token: [UInt8]?
    /// Unix seconds when the server started.
    let startedAt: Int64
    /// Whether the public listener is bound and the server not stopping.
    let ready = NIOLockedValueBox(false)
    /// What `POST /reload` (and `SIGHUP`) runs: re-reads the configuration and applies it, or
    /// says why not.
    let reloader = NIOLockedValueBox<(@Sendable () async -> ReloadResult)?>(nil)

    init(proxy: Proxy, token: String?) {
        self.proxy = proxy
        self.background = proxy.background
        self.token = token.map { Array($0.utf8) }
        self.startedAt = proxy.clock.now()
    }

    /// The answer to one admin request.
    func respond(_ request: AdminRequest) async -> AdminResponse {
        switch (request.method, request.path) {
        case (.GET, "/healthz"), (.HEAD, "/healthz"):
            return AdminResponse(status: .ok, contentType: "text/plain", body: "ok\n")
        case (.GET, "/readyz"), (.HEAD, "/readyz"):
            let ready = ready.withLockedValue { $0 }
            return AdminResponse(status: ready ? .ok : .serviceUnavailable, contentType: "text/plain", body: ready ? "ready\n" : "not ready\n")
        case (.GET, "/metrics"):
            updateScrapedMetrics()
            return AdminResponse(status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: proxy.metrics.emit())
        default:
            break
        }
        if let refusal = authorize(request) { return refusal }
        switch (request.method, request.path) {
        case (.GET, "/"):
            return AdminResponse(status: .ok, contentType: "text/html; charset=utf-8", body: StatusPage.html)
        case (.GET, "/stats"):
            return .json(stats())
        case (.GET, "/entries"):
            return await entries(request)
        case (.POST, "/purge"):
            return await purge(request)
        case (.POST, "/reload"):
            guard let reloader = reloader.withLockedValue({ $0 }) else {
                return .error(.notImplemented, "no-reload", "this server was not started by moxy serve and cannot re-read a configuration")
            }
            let result = await reloader()
            return .json(
                JSONWriter.object([("reloaded", .bool(result.error == nil)), ("error", .optional(result.error)), ("changes", .array(result.notes.map { .string($0) }))]),
                status: result.error == nil ? .ok : .unprocessableEntity)
        case (_, "/"), (_, "/stats"), (_, "/entries"), (_, "/purge"), (_, "/reload"):
            return .error(.methodNotAllowed, "method-not-allowed", "\(request.method) is not allowed on \(request.path)")
        default:
            return .error(.notFound, "not-found", "no admin endpoint \(request.path)")
        }
    }

    /// `nil` when the request carries the token; otherwise the refusal (`401`, or `403` when no
    /// token is configured). The comparison takes the same time whatever the bytes.
    func authorize(_ request: AdminRequest) -> AdminResponse? {
        guard let token else {
            return .error(.forbidden, "no-admin-token", "the admin API needs a token: set MOXY_ADMIN_TOKEN (or admin.token)")
        }
        let offered = AdminWire.offeredToken(request.authorization)
        guard let offered, AdminWire.constantTimeEqual(offered, token) else {
            var response = AdminResponse.error(.unauthorized, "unauthorized", "missing or wrong admin token (Authorization: Bearer TOKEN)")
            response.headers = [("WWW-Authenticate", "Bearer realm=\"moxy\""), ("WWW-Authenticate", "Basic realm=\"moxy admin\"")]
            return response
        }
        return nil
    }

}

/// What a reload did: the error that refused it (the old configuration stays), or notes on
/// what changed and what needs a restart.
public struct ReloadResult: Sendable {
    /// Why the new configuration was refused, if it was.
    public var error: String?
    /// What changed, and settings that only a restart applies.
    public var notes: [String]

    /// Creates a result.
    public init(error: String? = nil, notes: [String] = []) {
        self.error = error
        self.notes = notes
    }
}

/// Standard base64 decoding (for HTTP Basic credentials).
enum Base64 {
    static func decode(_ text: String) -> [UInt8]? {
        var values: [UInt8] = []
        for byte in text.utf8 where byte != UInt8(ascii: "=") {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): values.append(byte - 65)
            case UInt8(ascii: "a")...UInt8(ascii: "z"): values.append(byte - 71)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): values.append(byte + 4)
            case UInt8(ascii: "+"): values.append(62)
            case UInt8(ascii: "/"): values.append(63)
            default: return nil
            }
        }
        var bytes: [UInt8] = []
        var index = 0
        while index + 1 < values.count {
            let chunk = values[index..<min(index + 4, values.count)]
            let a = chunk[chunk.startIndex], b = chunk[chunk.startIndex + 1]
            bytes.append(a << 2 | b >> 4)
            if chunk.count > 2 { bytes.append((b & 0x0F) << 4 | chunk[chunk.startIndex + 2] >> 2) }
            if chunk.count > 3 { bytes.append((chunk[chunk.startIndex + 2] & 0x03) << 6 | chunk[chunk.startIndex + 3]) }
            index += 4
        }
        return bytes
    }
}
