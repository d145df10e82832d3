// SPDX-License-Identifier: Apache-2.0

import MoxyYAML
public import Configuration
import MoxyCache
public import MoxyServer
import MoxyValidation
public import MoxySigning

/// The resolved settings of one `moxy` run: flags over environment over config file over defaults.
public struct MoxySettings: Sendable {
    /// The server configuration.
    public var server: ServerConfiguration
    /// The signing keys (`nil` when none is configured; `serve` then refuses to start).
    public var signer: URLSigner?
    /// The log level name.
    public var logLevel: String

    /// Reads settings from the three sources.
    /// - Parameters:
    ///   - flags: Values given on the command line, by dotted path (lists as `.stringArray`).
    ///   - environment: The environment variables (only `MOXY_*` are read).
    ///   - configFile: A YAML file path, if given.
    /// - Returns: The settings.
    /// - Throws: ``SettingsError`` naming the key and the bad value.
    public static func load(
        flags: [String: ConfigContent] = [:],
        environment: [String: String],
        configFile: String?
    ) throws -> MoxySettings {
        let file = try configFile.map { try ConfigFile(path: $0) }
        var flagValues: [AbsoluteConfigKey: ConfigValue] = [:]
        for (path, content) in flags {
            flagValues[AbsoluteConfigKey(ConfigNode.scope + path.split(separator: ".").map(String.init))] = ConfigValue(
                content,
                isSecret: false
            )
        }
        // Highest priority first: flags, environment, the file, then a camo / go-camo unit's defaults.
        var providers: [any ConfigProvider] = [
            InMemoryProvider(name: "flags", values: flagValues),
            EnvironmentVariablesProvider(
                environmentVariables: environment.filter { $0.key.hasPrefix("MOXY_") },
                secretsSpecifier: .specific(["MOXY_KEY", "MOXY_KEYS", "MOXY_COMPAT_KEYS", "MOXY_ADMIN_TOKEN"])
            ),
        ]
        if let file { providers.append(file.provider) }
        // The profile chooses defaults of its own (camo's timeout, go-camo's User-Agent …), so it
        // is read before the rest.
        let profile = try CompatSettings.profile(
            reader: ConfigReader(providers: providers).scoped(to: ConfigKey(ConfigNode.scope)),
            environment: environment,
            hasConfigFile: configFile != nil
        )
        var compatDefaults: [AbsoluteConfigKey: ConfigValue] = [:]
        let defaults = CompatSettings.profileDefaults(profile, environment: environment)
            .merging(CompatSettings.environmentDefaults(environment, hasConfigFile: configFile != nil)) { $1 }
        for (path, value) in defaults {
            compatDefaults[AbsoluteConfigKey(ConfigNode.scope + path.split(separator: ".").map(String.init))] = ConfigValue(.string(value), isSecret: false)
        }
        providers.append(InMemoryProvider(name: "compat-defaults", values: compatDefaults))
        let reader = ConfigReader(providers: providers).scoped(to: ConfigKey(ConfigNode.scope))
        var settings = try MoxySettings(reader: reader, file: file)
        try CompatSettings.apply(
            to: &settings,
            reader: reader,
            environment: environment,
            hasConfigFile: configFile != nil
        )
        let names = settings.server.routes.map(\.name)
        if Set(names).count != names.count {
            throw SettingsError(.invalidValue, "two routes have the same name")
        }
        return settings
    }

    /// Builds settings from a reader scoped to `moxy` and the config file it reads, if any.
    init(reader: ConfigReader, file: ConfigFile?) throws {
        let settings = SettingsReader(reader)
        self.server = try ServerConfiguration(reader: reader, file: file)
        self.logLevel = try settings.parsed(.logLevel) {
            ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains($0.lowercased()) ? $0.lowercased() : nil
        } ?? "info"
        self.signer = try MoxySettings.makeSigner(
            key: settings.text(.key),
            keys: reader.stringArray(forKey: ConfigKey(SettingsKey.keys.path), isSecret: true) ?? [],
            defaultKeyID: settings.text(.defaultKeyID)
        )
    }

    static func makeSigner(key: String?, keys: [String], defaultKeyID: String?) throws -> URLSigner? {
        let defaultID = defaultKeyID ?? "default"
        var signingKeys: [SigningKey] = []
        do {
            if let key, !key.isEmpty { signingKeys.append(try SigningKey(id: defaultID, secret: key)) }
            for entry in keys {
                guard let equals = entry.firstIndex(of: "=") else {
                    throw SettingsError(.invalidValue, "invalid keys entry: expected ID=SECRET")
                }
                signingKeys.append(try SigningKey(id: String(entry[..<equals]), secret: String(entry[entry.index(after: equals)...])))
            }
            guard !signingKeys.isEmpty else { return nil }
            return try URLSigner(keys: signingKeys, defaultKeyID: defaultID)
        } catch let error as SigningError {
            throw SettingsError(.invalidValue, error.message)
        }
    }

    /// Content-type classes that `upstream.content_types` accepts by name.
    static let contentTypeClasses: [String: [String]] = [
        "image": ["image/*"],
        "video": ["video/*"],
        "audio": ["audio/*"],
        "font": ["font/*", "application/font-woff", "application/font-woff2", "application/x-font-ttf", "application/x-font-otf",
                 "application/vnd.ms-fontobject"],
        "pdf": ["application/pdf"],
        "json": ["application/json"],
    ]

    static func isContentTypePattern(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
            && text.allSatisfy { $0.isLetter || $0.isNumber || "/*+-.".contains($0) }
    }
}
