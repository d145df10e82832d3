// SPDX-License-Identifier: Apache-2.0

/// The admin listener: its own address (never the public listener's) and the bearer token that
/// protects everything but `/healthz`, `/readyz` and `/metrics`.
public struct AdminConfiguration: Sendable {
    /// Where to listen (loopback is the suggested place; see `docs/operations.md`).
    public var host: String
    /// The port; `0` picks a free one.
    public var port: Int
    /// The bearer token; `nil` leaves only `/healthz`, `/readyz` and `/metrics` answering.
    public var token: String?

    /// Creates settings.
    public init(host: String = "127.0.0.1", port: Int = 8081, token: String? = nil) {
        self.host = host
        self.port = port
        self.token = token
    }
}
