// SPDX-License-Identifier: Apache-2.0

import MoxyCache

/// Every configuration key Moxy reads, with its environment variable, flag and default.
///
/// Keys are dotted paths in the config file (`cache.memory_size`); the environment variable is
/// `MOXY_` plus the path uppercased with `.` as `_` (`MOXY_CACHE_MEMORY_SIZE`). This table is the
/// source of `docs/configuration.md`.
public struct SettingsKey: Sendable, Hashable {
    /// The dotted path in the config file.
    public let path: String
    /// The command-line flag of `moxy serve`, if any.
    public let flag: String?
    /// The default, as text.
    public let defaultValue: String
    /// Whether the value is a list.
    public let isList: Bool
    /// Whether the value is secret (never logged).
    public let isSecret: Bool
    /// What it does.
    public let help: String

    /// The environment variable name.
    public var environmentVariable: String {
        "MOXY_" + path.uppercased().map { $0 == "." || $0 == "-" ? "_" : $0 }.reduce(into: "") { $0.append($1) }
    }

    init(_ path: String, flag: String?, _ defaultValue: String, list: Bool = false, secret: Bool = false, _ help: String) {
        self.path = path
        self.flag = flag
        self.defaultValue = defaultValue
        self.isList = list
        self.isSecret = secret
        self.help = help
    }

    static let listen = SettingsKey("listen", flag: "--listen", "127.0.0.1:8080", "HOST:PORT to listen on")
    static let idleTimeout = SettingsKey(
        "idle_timeout", flag: "--idle-timeout", "75s", "close client connections idle this long")
    static let shutdownTimeout = SettingsKey(
        "shutdown_timeout", flag: "--shutdown-timeout", "10s",
        "on SIGTERM/SIGINT, let requests in progress finish this long, then cancel what is left")
    static let threads = SettingsKey("threads", flag: "--threads", "CPUs available", "event-loop threads")
    static let key = SettingsKey("key", flag: nil, "(none)", secret: true, "the default signing key (UTF-8 secret)")
    static let keys = SettingsKey(
        "keys", flag: nil, "(none)", list: true, secret: true, "more signing keys as ID=SECRET (comma-separated in env)")
    static let defaultKeyID = SettingsKey(
        "default_key_id", flag: nil, "default", "key id used for URLs without a k option; `key` has this id")
    static let logLevel = SettingsKey("log_level", flag: "--log-level", "info", "trace, debug, info, notice, warning, error")
    static let allowLoopback = SettingsKey(
        "allow_loopback", flag: "--allow-loopback", "false", "let signed URLs reach loopback addresses")
    static let allowPrivate = SettingsKey(
        "allow_private", flag: "--allow-private", "false", "let signed URLs reach RFC 1918 / ULA addresses")
    static let allowNetworks = SettingsKey(
        "allow_networks", flag: "--allow-network", "(none)", list: true,
        "CIDR networks signed URLs may reach whatever their class, e.g. 10.1.2.0/24 (repeatable flag)")
    static let memorySize = SettingsKey("cache.memory_size", flag: "--memory-cache-size", "64MiB", "memory tier size")
    static let memoryPolicy = SettingsKey(
        "cache.memory_policy", flag: "--memory-cache-policy", "s3fifo", "memory tier eviction: s3fifo (scan-resistant) or lru")
    static let memoryMaxObject = SettingsKey(
        "cache.memory_max_object", flag: nil, "(an eighth of memory_size)", "largest object the memory tier holds")
    static let diskEnabled = SettingsKey(
        "cache.disk.enabled", flag: nil, "true", "keep entries on disk too, across restarts (see docs/storage.md)")
    static let diskPath = SettingsKey("cache.disk.path", flag: nil, "./moxy-cache", "the disk tier's directory")
    static let diskMaxSize = SettingsKey("cache.disk.max_size", flag: nil, "1GiB", "bytes of files the disk tier keeps")
    static let diskMinFree = SettingsKey("cache.disk.min_free", flag: nil, "0", "free bytes the disk tier leaves on its file system")
    static let cacheTiers = SettingsKey(
        "cache.tiers", flag: nil, "memory, disk (+ shared with shared.url)", list: true,
        "the tiers in order: memory, then disk and/or shared")
    static let sharedURL = SettingsKey(
        "shared.url", flag: nil, "(none)", secret: true, "the shared tier's Redis: redis://[user:password@]host:port/db")
    static let sharedCluster = SettingsKey(
        "shared.cluster", flag: nil, "(none)", list: true, "Redis Cluster seed nodes, host:port each")
    static let sharedTimeout = SettingsKey(
        "shared.timeout", flag: nil, "20ms", "time a shared-tier lookup may take before it is a miss")
    static let sharedWriteTimeout = SettingsKey(
        "shared.write_timeout", flag: nil, "1s", "time a shared-tier write, removal or purge may take (behind the answer)")
    static let sharedMaxObject = SettingsKey(
        "shared.max_object_size", flag: nil, "8MiB", "largest body the shared tier stores")
    static let sharedTLSCAFile = SettingsKey(
        "shared.tls_ca_file", flag: nil, "(the system's)", "PEM authorities that sign the Redis server's certificate (rediss://)")
    static let sharedCoalesce = SettingsKey(
        "shared.coalesce", flag: nil, "true", "one node of the cluster fetches a cold key while the others wait")
    static let sharedKeyPrefix = SettingsKey(
        "shared.key_prefix", flag: nil, "moxy:", "what every Redis key of Moxy starts with")
    static let defaultTTL = SettingsKey(
        "cache.default_ttl", flag: "--default-ttl", "1h", "freshness when the origin gives none (0 = do not store)")
    static let connectTimeout = SettingsKey(
        "upstream.connect_timeout", flag: "--connect-timeout", "5s", "time to connect upstream")
    static let readTimeout = SettingsKey(
        "upstream.read_timeout", flag: "--read-timeout", "10s", "time without upstream data before failing")
    static let totalTimeout = SettingsKey(
        "upstream.total_timeout", flag: "--total-timeout", "30s", "time for a whole fetch, redirects and body")
    static let maxObjectSize = SettingsKey(
        "upstream.max_object_size", flag: "--max-object-size", "10MiB", "largest object fetched")
    static let maxRedirects = SettingsKey(
        "upstream.max_redirects", flag: "--max-redirects", "4", "redirects followed per fetch")
    static let contentTypes = SettingsKey(
        "upstream.content_types", flag: "--content-type", "image/*", list: true, "allowed content types (repeatable flag)")
    static let userAgent = SettingsKey(
        "upstream.user_agent", flag: nil, "Moxy/0.1 (camo profile: Camo Asset Proxy 2.3.0; go-camo: go-camo)", "User-Agent sent upstream")
    static let serverName = SettingsKey(
        "server_name", flag: nil, "moxy (camo profile: Camo Asset Proxy 2.3.0; go-camo: go-camo)",
        "the Server field of signed responses (camo sends none) and the Via token sent upstream and checked for loops")

    static let allowClasses = SettingsKey(
        "upstream.allow_classes", flag: nil, "(none)", list: true,
        "address classes signed URLs may reach besides global: loopback, private, link-local, shared-address-space, …")
    static let allowCredentials = SettingsKey(
        "upstream.allow_credentials", flag: nil, "false", "fetch URLs with user:pass@ (credentials dropped) instead of refusing them")
    static let forwardClientAddress = SettingsKey(
        "upstream.forward_client_address", flag: nil, "false", "send the client address upstream in X-Forwarded-For (signed URLs)")
    static let maxConcurrentFetches = SettingsKey(
        "upstream.max_concurrent_fetches", flag: nil, "512", "upstream fetches in flight at once; 503 past it")
    static let filterAllow = SettingsKey(
        "filter.allow", flag: nil, "(none)", list: true, "when set, a signed target must match one: host, *.host, host/path*, exact URL")
    static let filterDeny = SettingsKey(
        "filter.deny", flag: nil, "(none)", list: true, "signed targets refused: CIDR, host, *.host, host/path*, exact URL")
    static let maxURIBytes = SettingsKey("limits.max_uri_bytes", flag: nil, "8KiB", "longest request target (414 past it)")
    static let maxHeaderCount = SettingsKey("limits.max_header_count", flag: nil, "100", "most request header fields (431 past it)")
    static let maxHeaderBytes = SettingsKey("limits.max_header_bytes", flag: nil, "32KiB", "most request header bytes (431 past it)")
    static let routes = SettingsKey(
        "routes", flag: "--route", "(none)", list: true,
        "shorthand origin routes PREFIX=UPSTREAM or HOST/PREFIX=UPSTREAM (repeatable flag; named routes: routes.NAME.*)")
    static let signedPrefix = SettingsKey(
        "signed_prefix", flag: "--signed-prefix", "(none)", "path prefix reserved for signed URLs, checked before routes (e.g. /_s)")
    static let cacheStatusKey = SettingsKey(
        "cache.status_key", flag: nil, "false", "add the cache key to Cache-Status (debugging)")
    static let compatKeys = SettingsKey(
        "compat.keys", flag: nil, "(none)", list: true, secret: true,
        "camo / go-camo keys (raw bytes, not hex); CAMO_KEY and GOCAMO_HMAC are read too")
    static let compatFormats = SettingsKey(
        "compat.formats", flag: nil, "(none)", list: true,
        "accepted camo-family formats: camo-hex, camo-query, go-camo-base64 (or camo, go-camo for both of each)")
    static let compatProfile = SettingsKey(
        "compat.profile", flag: "--compat-profile", "moxy", "status codes and headers for signed URLs: moxy, camo or go-camo")
    static let adminListen = SettingsKey(
        "admin.listen", flag: "--admin-listen", "(off)", "HOST:PORT of the admin API (health, metrics, purge, stats, status page); loopback suggested")
    static let adminToken = SettingsKey(
        "admin.token", flag: nil, "(none)", secret: true,
        "bearer token of the admin API; without one only /healthz, /readyz and /metrics answer")
    static let tlsListen = SettingsKey(
        "tls.listen", flag: "--tls-listen", "(off)", "HOST:PORT of the TLS listener (HTTPS, TLS 1.2 and 1.3), beside or instead of listen")
    static let tlsCert = SettingsKey(
        "tls.cert", flag: "--tls-cert", "(none)", "the TLS listener's certificate file: PEM, the certificate then its chain (reloaded on SIGHUP)")
    static let tlsKey = SettingsKey("tls.key", flag: "--tls-key", "(none)", "the TLS listener's private key file (PEM)")
    static let http2Cleartext = SettingsKey(
        "http2.cleartext", flag: "--h2c", "false", "the plain listener also takes HTTP/2 with prior knowledge (h2c), for a CDN or load balancer that speaks it")
    static let accessLogEnabled = SettingsKey("access_log.enabled", flag: nil, "true", "write one line per request")
    static let accessLogPath = SettingsKey(
        "access_log.path", flag: "--access-log", "-", "file to append the access log to (reopened on SIGUSR1); - for standard output")
    static let accessLogFormat = SettingsKey("access_log.format", flag: nil, "logfmt", "access log lines: logfmt or json")
    static let accessLogFullURLs = SettingsKey(
        "access_log.full_urls", flag: nil, "false", "log signed URL paths and query strings (they can carry secrets)")

    /// The signed-URL cache knobs (`signed.cache.*`), the same as a route's `cache.*`.
    static let signedCacheKnobs: [SettingsKey] = CacheOverrides.knobs.map { knob in
        let defaults = [
            "default_ttl": "1h", "heuristic_max_ttl": "1d", "honor_request_cache_control": "true", "hit_for_miss": "30s",
            "targeted_cache_control": "Moxy-Cache-Control", "compress": "true",
        ]
        return SettingsKey(
            "signed.cache." + knob.name, flag: nil, defaults[knob.name] ?? "(none)", list: knob.name == "status_ttl", knob.help)
    }

    /// All keys, in documentation order.
    public static let all: [SettingsKey] = [
        listen, threads, idleTimeout, shutdownTimeout, key, keys, defaultKeyID, logLevel, allowLoopback, allowPrivate, allowNetworks, memorySize, memoryPolicy,
        memoryMaxObject, diskEnabled, diskPath, diskMaxSize, diskMinFree, cacheTiers, sharedURL, sharedCluster, sharedTimeout,
        sharedWriteTimeout, sharedMaxObject, sharedTLSCAFile, sharedCoalesce, sharedKeyPrefix, defaultTTL,
        connectTimeout, readTimeout, totalTimeout, maxObjectSize, maxRedirects, contentTypes, userAgent, allowClasses,
        allowCredentials, forwardClientAddress, maxConcurrentFetches, filterAllow, filterDeny, maxURIBytes, maxHeaderCount,
        maxHeaderBytes, routes, signedPrefix,
        cacheStatusKey, compatKeys, compatFormats, compatProfile, serverName, adminListen, adminToken, tlsListen, tlsCert, tlsKey, http2Cleartext, accessLogEnabled, accessLogPath,
        accessLogFormat, accessLogFullURLs,
    ] + signedCacheKnobs
}
