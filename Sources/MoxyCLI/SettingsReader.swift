// SPDX-License-Identifier: Apache-2.0

import Configuration

/// Reads one ``SettingsKey`` as text or parsed, naming the key and its environment variable when
/// the value is bad: the one way every configuration type's `init(reader:)` reads scalars.
struct SettingsReader {
    let reader: ConfigReader

    init(_ reader: ConfigReader) {
        self.reader = reader
    }

    /// The key's text, if set.
    func text(_ key: SettingsKey) -> String? {
        reader.string(forKey: ConfigKey(key.path), isSecret: key.isSecret)
    }

    /// The key's value parsed, if set.
    /// - Throws: ``SettingsError`` when the text does not parse.
    func parsed<T>(_ key: SettingsKey, _ parse: (String) -> T?) throws -> T? {
        guard let value = text(key) else { return nil }
        guard let result = parse(value) else {
            throw SettingsError(.invalidValue, "invalid \(key.path) (\(key.environmentVariable)): '\(value)'")
        }
        return result
    }
}
