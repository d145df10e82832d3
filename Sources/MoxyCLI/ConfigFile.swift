// SPDX-License-Identifier: Apache-2.0

import MoxyServer
import MoxyYAML

/// The config file: read, parsed into the ``YAMLProvider`` that the run's `ConfigReader` reads it
/// through, and checked for keys Moxy does not know (a reader only looks keys up, so a misspelt
/// key would otherwise be silently ignored).
struct ConfigFile {
    /// The file's path, for messages.
    let path: String
    /// The file as a configuration provider, its keys under `moxy`.
    let provider: YAMLProvider

    /// Reads, parses and checks a file (at most 1 MiB of UTF-8).
    /// - Throws: ``SettingsError`` naming the file, the key and the reason.
    init(path: String) throws {
        self.path = path
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
            provider = try YAMLProvider(text: text, name: path, root: ConfigNode.scope)
        } catch {
            throw SettingsError(.file, "\(path): \(error)")
        }
        guard case .map? = provider.shape(at: ConfigNode.scope) else {
            throw SettingsError(.file, "\(path): the file must be a mapping of settings (key: value)")
        }
        do {
            try checkTopLevelKeys()
        } catch let error as SettingsError {
            throw SettingsError(error.code, "\(path): \(error.message)")
        }
    }

    /// Every value outside `routes.NAME` and `signed.validate` must be a ``SettingsKey``, a list
    /// only where the key takes one. (Named routes and validation sections check their own keys.)
    func checkTopLevelKeys() throws {
        for (key, shape) in provider.leaves {
            let path = Array(key.dropFirst(ConfigNode.scope.count))
            if path.count > 1, path[0] == "routes" { continue }
            if path.starts(with: ["signed", "validate"]) { continue }
            let dotted = path.joined(separator: ".")
            guard let settingsKey = SettingsKey.all.first(where: { $0.path == dotted }) else {
                throw SettingsError(.unknownKey, "unknown key '\(dotted)'")
            }
            guard case .list(let count) = shape else { continue }
            guard settingsKey.isList else { throw SettingsError(.invalidValue, "'\(dotted)' is not a list") }
            for index in 0..<count {
                guard case .scalar? = provider.shape(at: key + [String(index)]) else {
                    throw SettingsError(.invalidValue, "'\(dotted)' must be a list of plain values")
                }
            }
        }
    }

    /// The names of the routes under `routes.NAME`, sorted.
    var routeNames: [String] {
        guard case .map(let names)? = provider.shape(at: ConfigNode.scope + ["routes"]) else { return [] }
        return names.sorted()
    }
}
