// SPDX-License-Identifier: Apache-2.0

import Configuration
import MoxyYAML

/// One node of the configuration (a named route, its `cache:` or `validate:` section, a rule, one
/// value in a rule), read through the one `ConfigReader` of a run (flags over environment over the
/// file), with its keys and shape listed by the file's ``YAMLProvider``: a reader looks keys up but
/// cannot list them, and routes and rules are found by listing.
struct ConfigNode {
    /// The reader, scoped to `moxy`.
    let reader: ConfigReader
    /// The config file, if any.
    let file: YAMLProvider?
    /// The key below `moxy`.
    let path: [String]

    /// The key every setting is under, in the reader and in the file's provider.
    static let scope = ["moxy"]

    /// The node at a key below `moxy`.
    init(reader: ConfigReader, file: YAMLProvider?, path: [String]) {
        self.reader = reader
        self.file = file
        self.path = path
    }

    /// The dotted key, for messages (`routes.api.validate`).
    var context: String { path.joined(separator: ".") }

    /// What the file has here.
    var shape: YAMLProvider.Shape? { file?.shape(at: Self.scope + path) }

    /// The file's keys of this mapping, in document order (none when it is not a mapping).
    var keys: [String] {
        if case .map(let keys)? = shape { return keys }
        return []
    }

    /// Whether the file has a mapping here.
    var isMap: Bool {
        if case .map? = shape { return true }
        return false
    }

    /// The items of the file's list here (none when it is not a list).
    var items: [ConfigNode] {
        guard case .list(let count)? = shape else { return [] }
        return (0..<count).map { self[String($0)] }
    }

    /// Whether the file has a quoted scalar here (`"500"` is text where `500` is a number).
    var isQuoted: Bool {
        if case .scalar(_, quoted: true)? = shape { return true }
        return false
    }

    /// The node below this one.
    subscript(key: String) -> ConfigNode {
        ConfigNode(reader: reader, file: file, path: path + [key])
    }

    /// The value here as one text, through the reader (`nil` when unset or not a scalar).
    var text: String? { reader.string(forKey: ConfigKey(path)) }

    /// The value here as a list of texts, through the reader (a scalar is a list of one).
    var texts: [String]? { reader.stringArray(forKey: ConfigKey(path)) }

    /// The value here as one text, `nil` when it is a list or a mapping.
    var scalarText: String? {
        switch shape {
        case .list?, .map?: nil
        case .scalar?, nil: text
        }
    }

    /// The value here as one text, refusing a list or a mapping.
    /// - Throws: ``SettingsError`` naming the key.
    func scalar() throws -> String? {
        switch shape {
        case .list?, .map?: throw SettingsError(.invalidValue, "invalid \(context): a single value is expected")
        case .scalar?, nil: return text
        }
    }

    /// The value here as a boolean (`true`/`false`, `yes`/`no` …).
    /// - Throws: ``SettingsError`` naming the key and the value.
    func flag() throws -> Bool? {
        guard let text = try scalar() else { return nil }
        guard let value = ValueParsers.bool(text) else { throw SettingsError(.invalidValue, "invalid \(context): '\(text)' (use true or false)") }
        return value
    }

    /// The value here as whole seconds of a duration (`30s`, `5m`, `1h`) up to ten years.
    /// - Throws: ``SettingsError`` naming the key and the value.
    func seconds() throws -> Int64? {
        guard let text = try scalar() else { return nil }
        guard let value = ValueParsers.duration(text), value <= 10 * 365 * 86_400 else {
            throw SettingsError(.invalidValue, "invalid \(context): '\(text)' (use a duration such as 30s, 5m, 1h)")
        }
        return Int64(value)
    }

    /// The value here as a positive size in bytes (`10MiB`).
    /// - Throws: ``SettingsError`` naming the key and the value.
    func bytes() throws -> Int? {
        guard let text = try scalar() else { return nil }
        guard let value = ValueParsers.size(text), value > 0 else {
            throw SettingsError(.invalidValue, "invalid \(context): '\(text)' (use a size such as 10MiB)")
        }
        return value
    }

    /// The value here as a list of texts, refusing a mapping or a list with collections in it.
    /// - Throws: ``SettingsError`` naming the key.
    func list() throws -> [String]? {
        if case .map? = shape { throw SettingsError(.invalidValue, "invalid \(context): a list of plain values is expected") }
        if case .list? = shape, items.contains(where: { if case .scalar? = $0.shape { false } else { true } }) {
            throw SettingsError(.invalidValue, "invalid \(context): a list of plain values is expected")
        }
        return texts
    }

    /// Refuses a value that is not a mapping, and keys of the mapping that are not known.
    /// - Throws: ``SettingsError`` (`unknown-key`) naming the first unknown key.
    func checkKeys(_ known: some Sequence<String>) throws {
        switch shape {
        case .scalar?, .list?: throw SettingsError(.invalidValue, "invalid \(context): a mapping is expected")
        case .map?, nil: break
        }
        let known = Set(known)
        if let unknown = keys.first(where: { !known.contains($0) }) {
            throw SettingsError(.unknownKey, "unknown key '\(self[unknown].context)'")
        }
    }
}
