// SPDX-License-Identifier: Apache-2.0

import Configuration
import MoxyServer
import MoxyValidation
import MoxyYAML

/// The config file as the settings see it: its top-level settings as swift-configuration provider
/// values (every key checked against ``SettingsKey``), and its named routes and signed-URL
/// validation, built from the same parsed tree.
struct ConfigFile {
    /// The top-level settings, by `moxy.`-scoped key, for the file's provider.
    var values: [AbsoluteConfigKey: ConfigValue] = [:]
    /// The routes under `routes.NAME`.
    var namedRoutes: [RouteConfiguration] = []
    /// The rules under `signed.validate`.
    var signedValidation: ValidationConfiguration?

    /// Reads and checks a file.
    /// - Throws: ``SettingsError`` naming the file, the key and the reason.
    init(path: String) throws {
        let document = try Self.read(path)
        do {
            namedRoutes = try RouteSettings.named(document.filter { $0.key.hasPrefix("routes.") })
            signedValidation = try ValidationSettings.build(RouteSettings.section("signed.validate.", of: document), context: "signed.validate")
        } catch let error as SettingsError {
            throw SettingsError(error.code, "\(path): \(error.message)")
        }
        for (keyPath, value) in document where !keyPath.hasPrefix("routes.") && !keyPath.hasPrefix("signed.validate.") {
            guard let key = SettingsKey.all.first(where: { $0.path == keyPath }) else {
                throw SettingsError(.unknownKey, "\(path): unknown key '\(keyPath)'")
            }
            let content: ConfigContent
            switch value {
            case .scalar(let text): content = key.isList ? .stringArray([text]) : .string(text)
            case .list(let items):
                guard key.isList else { throw SettingsError(.invalidValue, "\(path): '\(keyPath)' is not a list") }
                content = .stringArray(items)
            case .nodes:
                throw SettingsError(.invalidValue, "\(path): '\(keyPath)' must be a list of plain values")
            }
            values[AbsoluteConfigKey(["moxy"] + keyPath.split(separator: ".").map(String.init))] = ConfigValue(content, isSecret: key.isSecret)
        }
    }

    /// Parses a file (at most 1 MiB of UTF-8) into dotted paths.
    static func read(_ path: String) throws -> [String: YAMLSubset.Value] {
        let bytes: [UInt8]
        do {
            bytes = try SmallFile.read(path, limit: 1 << 20)
        } catch {
            throw SettingsError(.file, "cannot read config file: \(error)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw SettingsError(.file, "\(path): not UTF-8")
        }
        do {
            return try YAMLSubset.parse(text)
        } catch {
            throw SettingsError(.file, "\(path): \(error)")
        }
    }
}
