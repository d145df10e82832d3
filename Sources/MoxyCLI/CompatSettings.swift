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

    /// The listener of a camo or go-camo unit that only its key configures (lowest priority).
    static func environmentDefaults(_ environment: [String: String], hasConfigFile: Bool) -> [String: String] {
        switch mode(environment, hasConfigFile: hasConfigFile) {
        case .camo?: ["listen": "0.0.0.0:\(environment["PORT"] ?? "8081")"]  // camo listens on every interface, port $PORT
        case .goCamo?: ["listen": "0.0.0.0:8080"]  // go-camo's default --listen
        default: [:]
        }
    }

    /// The profile of a run: `compat.profile` when set, else the one a camo or go-camo key alone implies.
    static func profile(reader: ConfigReader, environment: [String: String], hasConfigFile: Bool) throws -> CompatProfile {
        if let text = reader.string(forKey: ConfigKey(SettingsKey.compatProfile.path)) {
            guard let profile = CompatProfile(rawValue: text.lowercased()) else {
                throw SettingsError(.invalidValue, "invalid compat.profile: '\(text)' (moxy, camo or go-camo)")
            }
            return profile
        }
        return mode(environment, hasConfigFile: hasConfigFile) ?? .moxy
    }

    /// The original's defaults in its profile, and the values of its own environment variables
    /// for them (CAMO-COMPAT §2, §4), below every Moxy setting: the upstream timeout, redirects
    /// followed, size limit, `User-Agent`, `Server` and `Via`.
    static func profileDefaults(_ profile: CompatProfile, environment: [String: String]) -> [String: String] {
        switch profile {
        case .moxy:
            return [:]
        case .camo:
            let via = environment["CAMO_HEADER_VIA"] ?? profile.defaultServerName
            return [
                "server_name": via,
                "upstream.user_agent": via,
                // camo's timeout is per socket: an idle timeout, Moxy's read_timeout.
                "upstream.read_timeout": (environment["CAMO_SOCKET_TIMEOUT"] ?? "10") + "s",
                "upstream.max_redirects": environment["CAMO_MAX_REDIRECTS"] ?? "4",
                "upstream.max_object_size": environment["CAMO_LENGTH_LIMIT"] ?? "5242880",
            ]
        case .goCamo:
            var values = [
                "server_name": environment["GOCAMO_SERVER_NAME"] ?? profile.defaultServerName,
                "upstream.user_agent": environment["GOCAMO_USER_AGENT"] ?? profile.defaultUserAgent,
                // go-camo's --timeout covers the whole fetch, body included.
                "upstream.total_timeout": environment["GOCAMO_TIMEOUT"] ?? "4s",
            ]
            // go-camo stops at len(via) >= N, so --max-redirects N follows N - 1 hops.
            let redirects = environment["GOCAMO_MAX_REDIRECTS"] ?? "3"
            values["upstream.max_redirects"] = Int(redirects).map { String(max(0, $0 - 1)) } ?? redirects
            // go-camo's TLS listener (--ssl-listen, --ssl-cert, --ssl-key; `:8443` is every address).
            if let listen = environment["GOCAMO_SSL_LISTEN"] { values["tls.listen"] = listen }
            if let cert = environment["GOCAMO_SSL_CERT"] { values["tls.cert"] = cert }
            if let key = environment["GOCAMO_SSL_KEY"] { values["tls.key"] = key }
            // --max-size is in KB; its default 0 (unlimited) keeps Moxy's bound.
            if let size = environment["GOCAMO_MAX_SIZE"] {
                if let kilobytes = Int(size) {
                    if kilobytes > 0 { values["upstream.max_object_size"] = "\(kilobytes)KiB" }
                } else {
                    values["upstream.max_object_size"] = size
                }
            }
            return values
        }
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
        settings.server.compatProfile = try profile(reader: reader, environment: environment, hasConfigFile: hasConfigFile)
        if let host = environment["CAMO_HOSTNAME"] { settings.server.camoHost = host }
    }
}
