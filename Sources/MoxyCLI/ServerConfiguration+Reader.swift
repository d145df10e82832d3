// SPDX-License-Identifier: Apache-2.0

public import Configuration
import MoxyCache
import MoxyHTTP
import MoxySharedTier
public import MoxyServer
import MoxyValidation

extension ServerConfiguration {
    /// Reads the server's settings (listener, limits, routes given as shorthands, signed-URL cache
    /// knobs, upstream) from a reader scoped to `moxy`; every key is in ``SettingsKey`` and
    /// `docs/configuration.md`.
    /// - Throws: ``SettingsError`` naming the key and the bad value.
    public init(reader: ConfigReader) throws {
        try self.init(reader: reader, file: nil)
    }

    /// Reads the server's settings, with the named routes (`routes.NAME`) and signed-URL
    /// validation (`signed.validate`) that the config file lists, their fields read through the
    /// same reader (so `MOXY_ROUTES_API_UPSTREAM` overrides the file's `routes.api.upstream`).
    /// - Throws: ``SettingsError`` naming the key and the bad value (and the file, for its sections).
    init(reader: ConfigReader, file: ConfigFile?) throws {
        let settings = SettingsReader(reader)
        var server = ServerConfiguration()
        server.upstream = try UpstreamConfiguration(reader: reader)
        if let (host, port) = try settings.parsed(.listen, ValueParsers.listenAddress) {
            server.host = host
            server.port = port
        }
        server.eventLoopThreads = try settings.parsed(.threads) { Int($0).flatMap { (1...256).contains($0) ? $0 : nil } }
        if let value = try settings.parsed(.idleTimeout, { ValueParsers.duration($0).flatMap { $0 > 0 ? $0 : nil } }) {
            server.idleTimeout = value
        }
        if let value = try settings.parsed(.shutdownTimeout, { ValueParsers.duration($0).flatMap { $0 >= 0 ? $0 : nil } }) {
            server.shutdownTimeout = value
        }
        if let size = try settings.parsed(.memorySize, ValueParsers.size) { server.memoryCacheSize = size }
        if let policy = try settings.parsed(.memoryPolicy, { MemoryStore.Policy(rawValue: $0) }) { server.memoryCachePolicy = policy }
        server.memoryMaxObjectSize = try settings.parsed(.memoryMaxObject, ValueParsers.size)
        server.shared = try SharedTierConfiguration(reader: reader)
        let tiers = try Self.tiers(reader.stringArray(forKey: ConfigKey(SettingsKey.cacheTiers.path)), shared: server.shared != nil)
        // The disk tier is the embedded default: on unless turned off.
        if tiers.contains("disk"), try settings.parsed(.diskEnabled, ValueParsers.bool) ?? true {
            server.diskCachePath = try settings.parsed(.diskPath) { $0.isEmpty ? nil : $0 } ?? "./moxy-cache"
            if let size = try settings.parsed(.diskMaxSize, { ValueParsers.size($0).flatMap { $0 >= 1 << 20 ? $0 : nil } }) {
                server.diskCacheMaxSize = size
            }
            if let size = try settings.parsed(.diskMinFree, ValueParsers.size) { server.diskCacheMinFree = size }
        }
        // The global knob is every mode's default: signed URLs' and, when set, each route's
        // (a route's own `cache.default_ttl` wins), so `--route … --default-ttl 5m` does what it says.
        let globalTTL = try settings.parsed(.defaultTTL, ValueParsers.duration).map { Int64($0) }
        if let globalTTL { server.defaultTTL = globalTTL }
        var routeCache = CacheOverrides()
        routeCache.defaultTTL = globalTTL
        if let value = try settings.parsed(.maxURIBytes, { ValueParsers.size($0).flatMap { (256...1 << 20).contains($0) ? $0 : nil } }) {
            server.maxURIBytes = value
        }
        if let value = try settings.parsed(.maxHeaderCount, { Int($0).flatMap { (8...10_000).contains($0) ? $0 : nil } }) {
            server.maxHeaderCount = value
        }
        if let value = try settings.parsed(.maxHeaderBytes, { ValueParsers.size($0).flatMap { (1024...1 << 20).contains($0) ? $0 : nil } }) {
            server.maxHeaderBytes = value
        }
        let node = ConfigNode(reader: reader, file: file?.provider, path: [])
        do {
            for name in file?.routeNames ?? [] {
                server.routes.append(try RouteConfiguration(name: name, node: node["routes"][name], cacheDefaults: routeCache))
            }
            server.signedValidation = try ValidationConfiguration(node: node["signed"]["validate"])
        } catch let error as SettingsError {
            throw SettingsError(error.code, "\(file?.path ?? "config"): \(error.message)")
        }
        for (index, text) in (reader.stringArray(forKey: ConfigKey(SettingsKey.routes.path)) ?? []).enumerated() {
            var route = try RouteConfiguration(shorthand: text, name: "route\(index + 1)")
            route.cache = routeCache
            server.routes.append(route)
        }
        if let prefix = settings.text(.signedPrefix) {
            guard prefix.hasPrefix("/"), prefix.count > 1, !prefix.contains("?") else {
                throw SettingsError(.invalidValue, "invalid signed_prefix: '\(prefix)' (use a path such as /_s)")
            }
            server.signedPrefix = prefix
        }
        if let value = try settings.parsed(.cacheStatusKey, ValueParsers.bool) { server.cacheStatusKey = value }
        try server.readOperations(settings)
        if let name = try settings.parsed(.serverName, { text in
            let printable = !text.isEmpty && text.utf8.count <= 128 && text.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7f }
            return printable && !text.contains(",") ? text : nil
        }) {
            server.serverName = name
        }
        server.signedCache = try CacheOverrides(node: node["signed"]["cache"], defaults: server.signedCache)
        self = server
    }

    /// The tier names of `cache.tiers` checked: `memory` first, then `disk` and `shared` in that
    /// order, each once; `shared` only with `shared.url` or `shared.cluster`. Unset: memory, disk,
    /// and shared when it is configured.
    static func tiers(_ listed: [String]?, shared: Bool) throws -> [String] {
        guard let listed else { return shared ? ["memory", "disk", "shared"] : ["memory", "disk"] }
        let names = listed.map { String($0.trimmingSpaces).lowercased() }
        let order = ["memory", "disk", "shared"]
        guard names.first == "memory", Set(names).count == names.count, names.allSatisfy(order.contains),
            names == order.filter(names.contains)
        else {
            throw SettingsError(.invalidValue, "invalid cache.tiers: '\(listed.joined(separator: ", "))' (memory first, then disk and/or shared, each once)")
        }
        if names.contains("shared") && !shared {
            throw SettingsError(.invalidValue, "cache.tiers lists shared, but shared.url (or shared.cluster) is not set")
        }
        if !names.contains("shared") && shared {
            throw SettingsError(.invalidValue, "shared.url is set, but cache.tiers does not list shared")
        }
        return names
    }
}
