// SPDX-License-Identifier: Apache-2.0

import Configuration
import MoxyServer
import MoxySigning

/// camo / go-camo drop-in settings: `compat.*` keys, and the environment of an existing camo or
/// go-camo unit (`CAMO_KEY`, `PORT`, `CAMO_LENGTH_LIMIT`, `CAMO_MAX_REDIRECTS`, `CAMO_SOCKET_TIMEOUT`;
/// `GOCAMO_HMAC`), so that a systemd unit can switch by changing only the binary.
enum CompatSettings {
    /// Whether only a camo (or go-camo) key configures this run: no Moxy key, no config file.
    static func mode(_ environment: [String: String], hasConfigFile: Bool) -> CompatProfile? {
        let moxyKey = environment["MOXY_KEY"] != nil || environment["MOXY_KEYS"] != nil
        guard !moxyKey, !hasConfigFile else { return nil }
        switch (environment["CAMO_KEY"] != nil, environment["GOCAMO_HMAC"] != nil) {
        case (true, false): return .camo
        case (false, true): return .goCamo
        default: return nil
        }
    }

    /// Defaults taken from a camo or go-camo environment (lowest priority, below the file).
    static func environmentDefaults(_ environment: [String: String], hasConfigFile: Bool) -> [String: String] {
        var values: [String: String] = [:]
        switch mode(environment, hasConfigFile: hasConfigFile) {
        case .camo?:
            // camo listens on every interface, port $PORT (8081).
            values["listen"] = "0.0.0.0:\(environment["PORT"] ?? "8081")"
            if let limit = environment["CAMO_LENGTH_LIMIT"] { values["upstream.max_object_size"] = limit }
            if let redirects = environment["CAMO_MAX_REDIRECTS"] { values["upstream.max_redirects"] = redirects }
            if let timeout = environment["CAMO_SOCKET_TIMEOUT"] { values["upstream.read_timeout"] = timeout + "s" }
        case .goCamo?:
            values["listen"] = "0.0.0.0:8080"  // go-camo's default --listen
        default:
            break
        }
        return values
    }

    /// Builds the camo signer and the profile.
    static func apply(
        to settings: inout MoxySettings,
        reader: ConfigReader,
        environment: [String: String],
        hasConfigFile: Bool
    ) throws {
        var keys = reader.stringArray(forKey: ConfigKey(SettingsKey.compatKeys.path), isSecret: true) ?? []
        var formats: CamoSigner.Formats = []
        if let key = environment["CAMO_KEY"], !key.isEmpty {
            keys.append(key)
            formats.formUnion(.camo)
        }
        if let key = environment["GOCAMO_HMAC"], !key.isEmpty {
            keys.append(key)
            formats.formUnion(.goCamo)
        }
        if let names = reader.stringArray(forKey: ConfigKey(SettingsKey.compatFormats.path)) {
            formats = []
            for name in names {
                switch name.lowercased() {
                case "camo-hex": formats.insert(.hex)
                case "camo-query": formats.insert(.query)
                case "go-camo-base64": formats.insert(.base64)
                case "camo": formats.formUnion(.camo)
                case "go-camo": formats.formUnion(.goCamo)
                default:
                    throw SettingsError(.invalidValue, "invalid compat.formats entry '\(name)' (camo-hex, camo-query, go-camo-base64, camo, go-camo)")
                }
            }
        }
        if !keys.isEmpty {
            guard !formats.isEmpty else {
                throw SettingsError(.invalidValue, "compat.keys is set but compat.formats is empty (e.g. [camo] or [go-camo])")
            }
            do {
                settings.server.camoSigner = try CamoSigner(keys: keys, formats: formats)
            } catch let error as SigningError {
                throw SettingsError(.invalidValue, "invalid compat key: \(error.message)")
            }
        } else if !formats.isEmpty {
            throw SettingsError(.invalidValue, "compat.formats is set but there is no compat key (compat.keys, CAMO_KEY or GOCAMO_HMAC)")
        }
        if let text = reader.string(forKey: ConfigKey(SettingsKey.compatProfile.path)) {
            guard let profile = CompatProfile(rawValue: text.lowercased()) else {
                throw SettingsError(.invalidValue, "invalid compat.profile: '\(text)' (moxy, camo or go-camo)")
            }
            settings.server.compatProfile = profile
        } else if let profile = mode(environment, hasConfigFile: hasConfigFile) {
            settings.server.compatProfile = profile
        }
    }
}
