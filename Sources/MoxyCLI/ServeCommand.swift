// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Configuration
import Logging
import MoxyServer
import MoxyStorage
import Metrics
import Prometheus
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// `moxy serve`: runs the proxy until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the proxy.")

    @OptionGroup var common: CommonOptions
    @Option(help: "HOST:PORT to listen on (default 127.0.0.1:8080).") var listen: String?
    @Option(help: "Event-loop threads (default: the CPUs this process may use).") var threads: String?
    @Option(name: .customLong("idle-timeout"), help: "Close client connections idle this long (default 75s).")
    var idleTimeout: String?
    @Option(name: .customLong("shutdown-timeout"), help: "On SIGTERM/SIGINT, let requests finish this long (default 10s).")
    var shutdownTimeout: String?
    @Option(name: .customLong("memory-cache-size"), help: "Memory tier size, e.g. 64MiB.") var memoryCacheSize: String?
    @Option(name: .customLong("memory-cache-policy"), help: "Memory tier eviction: s3fifo (default) or lru.")
    var memoryCachePolicy: String?
    @Option(name: .customLong("default-ttl"), help: "Freshness when the origin gives none, e.g. 1h.") var defaultTTL: String?
    @Option(name: .customLong("connect-timeout"), help: "Upstream connect timeout, e.g. 5s.") var connectTimeout: String?
    @Option(name: .customLong("read-timeout"), help: "Upstream read timeout, e.g. 10s.") var readTimeout: String?
    @Option(name: .customLong("total-timeout"), help: "Upstream total timeout, e.g. 30s.") var totalTimeout: String?
    @Option(name: .customLong("max-object-size"), help: "Largest object fetched, e.g. 10MiB.") var maxObjectSize: String?
    @Option(name: .customLong("max-redirects"), help: "Redirects followed per fetch (default 4).") var maxRedirects: String?
    @Option(name: .customLong("content-type"), help: "Allowed content type (repeatable), e.g. image/*.")
    var contentTypes: [String] = []
    @Flag(name: .customLong("allow-loopback"), inversion: .prefixedNo, help: "Let signed URLs reach loopback addresses.")
    var allowLoopback: Bool?
    @Flag(name: .customLong("allow-private"), inversion: .prefixedNo, help: "Let signed URLs reach private addresses.")
    var allowPrivate: Bool?
    @Option(name: .customLong("allow-network"), help: "A CIDR network signed URLs may reach (repeatable).")
    var allowNetworks: [String] = []
    @Option(name: .customLong("route"), help: "An origin route PREFIX=UPSTREAM or HOST/PREFIX=UPSTREAM (repeatable).")
    var routes: [String] = []
    @Option(name: .customLong("signed-prefix"), help: "Path prefix reserved for signed URLs, e.g. /_s.") var signedPrefix: String?
    @Option(name: .customLong("compat-profile"), help: "Status codes and headers for signed URLs: moxy, camo or go-camo.")
    var compatProfile: String?
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error.") var logLevel: String?
    @Option(name: .customLong("admin-listen"), help: "HOST:PORT of the admin API (off by default), e.g. 127.0.0.1:8081.")
    var adminListen: String?
    @Option(name: [.customLong("tls-listen"), .customLong("ssl-listen")], help: "HOST:PORT of the TLS listener (go-camo's --ssl-listen too).")
    var tlsListen: String?
    @Option(name: [.customLong("tls-cert"), .customLong("ssl-cert")], help: "The TLS certificate file: PEM, the certificate then its chain.")
    var tlsCert: String?
    @Option(name: [.customLong("tls-key"), .customLong("ssl-key")], help: "The TLS private key file (PEM).")
    var tlsKey: String?
    @Flag(name: .customLong("h2c"), help: "Also take HTTP/2 with prior knowledge (h2c) on the plain listener.")
    var cleartextHTTP2 = false
    @Option(name: .customLong("access-log"), help: "Access log file (reopened on SIGUSR1), - for standard output, off for none.")
    var accessLog: String?

    /// The flags that were given, by config path.
    var flagValues: [String: ConfigContent] {
        var values: [String: ConfigContent] = [:]
        let strings: [(SettingsKey, String?)] = [
            (.listen, listen), (.threads, threads), (.idleTimeout, idleTimeout), (.shutdownTimeout, shutdownTimeout), (.memorySize, memoryCacheSize),
            (.memoryPolicy, memoryCachePolicy), (.defaultTTL, defaultTTL),
            (.connectTimeout, connectTimeout), (.readTimeout, readTimeout), (.totalTimeout, totalTimeout),
            (.maxObjectSize, maxObjectSize), (.maxRedirects, maxRedirects), (.logLevel, logLevel), (.signedPrefix, signedPrefix), (.compatProfile, compatProfile),
            (.allowLoopback, allowLoopback.map { String($0) }), (.allowPrivate, allowPrivate.map { String($0) }),
            (.adminListen, adminListen), (.tlsListen, tlsListen), (.tlsCert, tlsCert), (.tlsKey, tlsKey),
            (.http2Cleartext, cleartextHTTP2 ? "true" : nil), (.accessLogPath, accessLog == "off" ? nil : accessLog),
            (.accessLogEnabled, accessLog == "off" ? "false" : nil),
        ]
        for (key, value) in strings { if let value { values[key.path] = .string(value) } }
        if !contentTypes.isEmpty { values[SettingsKey.contentTypes.path] = .stringArray(contentTypes) }
        if !routes.isEmpty { values[SettingsKey.routes.path] = .stringArray(routes) }
        if !allowNetworks.isEmpty { values[SettingsKey.allowNetworks.path] = .stringArray(allowNetworks) }
        return values
    }

    func run() async throws {
        let settings: MoxySettings
        do {
            settings = try MoxySettings.load(flags: flagValues, environment: ProcessEnvironment.current, configFile: common.config)
        } catch let error as SettingsError {
            throw CLIFailure(error.message)
        }
        let signer = settings.signer
        guard signer != nil || settings.server.camoSigner != nil || !settings.server.routes.isEmpty else {
            throw CLIFailure(
                "no signing key and no route: set MOXY_KEY (or key/keys in the config file, or CAMO_KEY / GOCAMO_HMAC), or give --route PREFIX=UPSTREAM"
            )
        }
        if signer == nil, let route = settings.server.routes.first(where: { $0.jsonImages != nil }) {
            throw CLIFailure("routes.\(route.name).rewrite_json signs image URLs: set MOXY_KEY (or key/keys in the config file)")
        }
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "moxy")
        let server = MoxyServer(configuration: settings.server, signer: signer, logger: logger)
        // Libraries reporting through swift-metrics land in the server's registry (`/metrics`).
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: server.metrics.registry))
        let reload = Reload(server: server, flags: flagValues, configFile: common.config, logger: logger)
        server.setReloader { await reload.run() }
        // Signals are taken by ServeSignals (blocked since the process started, so one sent
        // while Moxy starts waits instead of being lost), not by the service group.
        let group = ServiceGroup(configuration: .init(services: [.init(service: server)], logger: logger))
        do {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    waiting: while true {
                        let signals = await ServeSignals.next()
                        if signals.isEmpty { return }
                        for signal in signals {
                            switch signal {
                            case SIGHUP:
                                logger.info("moxy received SIGHUP: reloading the configuration")
                                _ = await reload.run()
                            case SIGUSR1:
                                logger.info("moxy received SIGUSR1: reopening the access log")
                                server.reopenAccessLog()
                            default:
                                logger.info("moxy received \(signal == SIGINT ? "SIGINT" : "SIGTERM")")
                                await group.triggerGracefulShutdown()
                                break waiting
                            }
                        }
                    }
                }
                try await group.run()
                tasks.cancelAll()
            }
        } catch let error as DiskLockError {
            throw CLIFailure(error.description)
        } catch {
            throw CLIFailure("cannot serve on \(settings.server.host):\(settings.server.port): \(error)")
        }
    }
}

/// The process environment as a dictionary, without Foundation.
enum ProcessEnvironment {
    static var current: [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}
