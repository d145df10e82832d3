// SPDX-License-Identifier: Apache-2.0

/// Where a Redis (or Valkey) server is and how to talk to it.
public struct RedisConfiguration: Sendable, Hashable {
    /// The server's host name or address.
    public var host: String
    /// Its TCP port.
    public var port: Int
    /// The ACL user (`nil`: `default`, or the RESP2 `AUTH password` form).
    public var username: String?
    /// The password (`nil`: no `AUTH`). Never logged.
    public var password: String?
    /// The logical database (`SELECT`); Redis Cluster has only 0.
    public var database: Int
    /// Seconds to wait for a connection (and its handshake).
    public var connectTimeout: Double
    /// Seconds to wait for an answer; past it the connection is closed.
    public var commandTimeout: Double
    /// Connections per endpoint; each carries pipelined commands.
    public var poolSize: Int
    /// Bounds on what the server may send.
    public var limits: RESPDecoder.Limits
    /// TLS (`rediss://`): TLS 1.2 or 1.3, the server's certificate verified (its name, or its IP
    /// address when the host is one).
    public var tls = false
    /// A PEM file of the authorities that sign the server's certificate (`nil`: the system's).
    public var tlsCAFile: String?

    /// Creates a configuration.
    public init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        connectTimeout: Double = 1,
        commandTimeout: Double = 1,
        poolSize: Int = 2,
        limits: RESPDecoder.Limits = RESPDecoder.Limits()
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.poolSize = poolSize
        self.limits = limits
    }

    /// Reads `redis://[[user]:password@]host[:port][/db]` (user and password percent-encoded, as
    /// in redis-cli and every client library); other fields keep their defaults.
    /// - Throws: ``RedisError/Code/badConfiguration`` naming what is wrong (never the password).
    public init(url: String) throws(RedisError) {
        self.init()
        tls = url.hasPrefix("rediss://")
        guard url.hasPrefix("redis://") || tls else { throw RedisError(.badConfiguration, "a Redis URL starts with redis:// (or rediss:// for TLS)") }
        var rest = Substring(url.dropFirst(tls ? "rediss://".count : "redis://".count))
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            if !path.isEmpty {
                guard let database = Int(path), database >= 0 else { throw RedisError(.badConfiguration, "the database after / is not a number") }
                self.database = database
            }
            rest = rest[..<slash]
        }
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = credentials[..<colon]
                username = user.isEmpty ? nil : try Self.decode(user)
                password = try Self.decode(credentials[credentials.index(after: colon)...])
            } else if !credentials.isEmpty {
                // redis-cli reads a lone credential as the password.
                password = try Self.decode(credentials)
            }
        }
        var hostPart = rest
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw RedisError(.badConfiguration, "an IPv6 address without its ]") }
            hostPart = rest[rest.index(after: rest.startIndex)..<close]
            rest = rest[rest.index(after: close)...]
            if rest.hasPrefix(":") { try readPort(rest.dropFirst()) } else if !rest.isEmpty { throw RedisError(.badConfiguration, "text after the IPv6 address") }
        } else if let colon = rest.lastIndex(of: ":") {
            hostPart = rest[..<colon]
            try readPort(rest[rest.index(after: colon)...])
        }
        guard !hostPart.isEmpty else { throw RedisError(.badConfiguration, "the URL names no host") }
        host = String(hostPart)
    }

    private mutating func readPort(_ text: Substring) throws(RedisError) {
        guard let port = Int(text), (1...65535).contains(port) else { throw RedisError(.badConfiguration, "the port is not a number from 1 to 65535") }
        self.port = port
    }

    private static func decode(_ text: Substring) throws(RedisError) -> String {
        var bytes: [UInt8] = []
        var index = text.utf8.startIndex
        let utf8 = text.utf8
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%") {
                let first = utf8.index(after: index)
                guard first < utf8.endIndex, utf8.index(after: first) < utf8.endIndex,
                    let high = hex(utf8[first]), let low = hex(utf8[utf8.index(after: first)])
                else { throw RedisError(.badConfiguration, "a credential with a bad %-escape") }
                bytes.append(high << 4 | low)
                index = utf8.index(first, offsetBy: 2)
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension RedisConfiguration: CustomStringConvertible {
    /// The URL without the password (for logs).
    public var description: String {
        let credentials = password == nil ? (username.map { $0 + "@" } ?? "") : (username ?? "") + ":***@"
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "\(tls ? "rediss" : "redis")://\(credentials)\(hostPart):\(port)/\(database)"
    }
}
