// SPDX-License-Identifier: Apache-2.0

import AsyncHTTPClient
public import MoxyCache
public import MoxySharedTier
public import MoxyValidation
public import MoxySigning
import NIOCore

/// Everything the Moxy server needs to run, with the documented defaults.
///
/// Reading it from files, environment variables and flags is the CLI's job
/// (see `docs/configuration.md`); the server only takes this value.
public struct ServerConfiguration: Sendable {
    /// Where to listen.
    public var host: String
    /// The port to listen on; `0` picks a free port.
    public var port: Int
    /// Event-loop threads; `nil` means the CPUs this process may run on.
    public var eventLoopThreads: Int?
    /// Memory tier size in bytes.
    public var memoryCacheSize: Int
    /// How the memory tier chooses what to evict (S3-FIFO; LRU for comparison).
    public var memoryCachePolicy: MemoryStore.Policy = .s3fifo
    /// The largest object the memory tier holds (`nil`: an eighth of its size).
    public var memoryMaxObjectSize: Int?
    /// The disk tier's directory; `nil` for no disk tier.
    public var diskCachePath: String?
    /// The most bytes of files the disk tier keeps.
    public var diskCacheMaxSize = 1 << 30
    /// The free bytes the disk tier leaves on its file system (0: not checked).
    public var diskCacheMinFree = 0
    /// The shared tier on Redis, behind memory and disk (`nil`: none).
    public var shared: SharedTierConfiguration?
    /// Freshness (seconds) for signed-URL responses whose origin gives no lifetime.
    public var defaultTTL: Int64 {
        get { signedCache.defaultTTL ?? 0 }
        set { signedCache.defaultTTL = newValue }
    }
    /// Caching adjustments for signed URLs (default: `200` only, one hour without explicit freshness).
    public var signedCache: CacheOverrides = .signedURLs
    /// Rules a signed URL's response must pass to be stored or to replace the stored one (`nil`: none).
    public var signedValidation: ValidationConfiguration?
    /// Origin routes (reverse proxy); matched before signed URLs unless ``signedPrefix`` is set.
    public var routes: [RouteConfiguration] = []
    /// A path prefix (e.g. `/_s`) reserved for signed URLs, checked before routes; `nil` for none.
    public var signedPrefix: String?
    /// Add the cache key to `Cache-Status` (RFC 9211 `key`), for debugging.
    public var cacheStatusKey = false
    /// camo / go-camo URL formats and their key(s); `nil` when not enabled.
    public var camoSigner: CamoSigner?
    /// Whose outward behaviour signed URLs imitate (status codes, error texts, headers, service paths).
    public var compatProfile: CompatProfile = .moxy
    /// Longest request target accepted from clients, in bytes (414 past it).
    public var maxURIBytes = 8192
    /// Most request header fields accepted from clients (431 past it).
    public var maxHeaderCount = 100
    /// Most bytes of request header fields accepted from clients (431 past it).
    public var maxHeaderBytes = 32 << 10
    /// How upstream fetches behave.
    public var upstream: UpstreamConfiguration
    /// The `Server` and `Via` token.
    public var serverName: String
    /// The `Camo-Host` field of successful signed responses in the camo profile (`CAMO_HOSTNAME`).
    public var camoHost = "unknown"
    /// Seconds a client connection may stay idle (no request in progress) before it is closed.
    public var idleTimeout: Double
    /// Seconds a graceful shutdown waits for requests in progress (a slow upstream body included)
    /// before cancelling what is left.
    public var shutdownTimeout: Double = 10
    /// The access log (`nil`: none).
    public var accessLog: AccessLogConfiguration?
    /// The admin listener (`nil`: none).
    public var admin: AdminConfiguration?
    /// The TLS listener (`nil`: none).
    public var tls: TLSListenerConfiguration?
    /// Whether the plain listener also takes HTTP/2 with prior knowledge (`h2c`, for a CDN or a
    /// load balancer that speaks it), told from HTTP/1.1 by the connection preface.
    public var cleartextHTTP2 = false

    /// Creates a configuration.
    /// - Parameters:
    ///   - host: Listen host (default `127.0.0.1`).
    ///   - port: Listen port (default `8080`).
    ///   - eventLoopThreads: Threads (default: CPUs available to the process).
    ///   - memoryCacheSize: Memory tier bytes (default 64 MiB).
    ///   - defaultTTL: Default freshness seconds (default 3600).
    ///   - upstream: Upstream settings.
    ///   - serverName: `Server`/`Via` token (default `moxy`).
    ///   - idleTimeout: Seconds an idle client connection is kept (default 75, as nginx's `keepalive_timeout`).
    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        eventLoopThreads: Int? = nil,
        memoryCacheSize: Int = 64 << 20,
        defaultTTL: Int64 = 3600,
        upstream: UpstreamConfiguration = UpstreamConfiguration(),
        serverName: String = "moxy",
        idleTimeout: Double = 75
    ) {
        self.host = host
        self.port = port
        self.eventLoopThreads = eventLoopThreads
        self.memoryCacheSize = memoryCacheSize
        self.signedCache.defaultTTL = defaultTTL
        self.upstream = upstream
        self.serverName = serverName
        self.idleTimeout = idleTimeout
    }
}

/// How Moxy fetches targets of signed URLs.
public struct UpstreamConfiguration: Sendable {
    /// Seconds to establish a connection.
    public var connectTimeout: Double
    /// Seconds without receiving data before the fetch fails.
    public var readTimeout: Double
    /// Seconds for the whole fetch, redirects and body included.
    public var totalTimeout: Double
    /// Largest body accepted, in bytes; enforced on `Content-Length` and while streaming.
    public var maxObjectSize: Int
    /// Redirects followed before giving up.
    public var maxRedirects: Int
    /// Allowed content types (`image/*`, `video/mp4`, `*/*`).
    public var contentTypes: [String]
    /// Address classes reachable besides global unicast.
    public var addressPolicy: AddressPolicy
    /// The `User-Agent` sent upstream.
    public var userAgent: String
    /// Allow and deny rules for targets and redirect hops.
    public var filter = TargetFilter()
    /// Fetch URLs with user info (`user:pass@`), with the credentials dropped; refused otherwise.
    public var allowCredentials = false
    /// Most upstream fetches in flight at once, both modes (503 past it, or stale when allowed).
    public var maxConcurrentFetches = 512
    /// Send the client's address upstream in `X-Forwarded-For` for signed URLs (go-camo `--xfwd4`).
    public var forwardClientAddress = false
    /// Whether URL hosts are checked before connecting (always on outside tests, which turn it off
    /// to exercise the connect-time check on its own).
    var checksHostBeforeConnect = true

    /// Creates upstream settings.
    /// - Parameters:
    ///   - connectTimeout: Default 5 s.
    ///   - readTimeout: Default 10 s.
    ///   - totalTimeout: Default 30 s.
    ///   - maxObjectSize: Default 10 MiB.
    ///   - maxRedirects: Default 4.
    ///   - contentTypes: Default `["image/*"]`.
    ///   - addressPolicy: Default: global addresses only.
    ///   - userAgent: Default `Moxy/0.1`.
    public init(
        connectTimeout: Double = 5,
        readTimeout: Double = 10,
        totalTimeout: Double = 30,
        maxObjectSize: Int = 10 << 20,
        maxRedirects: Int = 4,
        contentTypes: [String] = ["image/*"],
        addressPolicy: AddressPolicy = AddressPolicy(),
        userAgent: String = "Moxy/0.1"
    ) {
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.totalTimeout = totalTimeout
        self.maxObjectSize = maxObjectSize
        self.maxRedirects = maxRedirects
        self.contentTypes = contentTypes
        self.addressPolicy = addressPolicy
        self.userAgent = userAgent
    }
}

extension UpstreamConfiguration {
    /// The HTTP client settings shared by the signed-URL fetcher and the route forwarder: HTTP/1.1,
    /// redirects left to Moxy (or the client), no decompression, these timeouts.
    var clientConfiguration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(
                connect: .milliseconds(Int64(connectTimeout * 1000)),
                read: .milliseconds(Int64(readTimeout * 1000))
            ),
            decompression: .disabled
        )
        configuration.httpVersion = .http1Only
        return configuration
    }
}
