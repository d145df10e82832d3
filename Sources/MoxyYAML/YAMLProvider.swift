// SPDX-License-Identifier: Apache-2.0

public import Configuration

/// A swift-configuration provider over a document in the YAML subset: the one representation of
/// Moxy's config file, read through the same `ConfigReader` as flags and environment variables.
///
/// Every node of the document has an absolute key: mapping keys are its components, and list items
/// are the components `0`, `1`, … below their list. A reader can look a key up but cannot list keys, so ``shape(at:)``
/// tells what is at a key (the keys of a mapping in document order, the length of a list): that
/// is how named routes and validation rules, which are mappings and lists of mappings, are found.
///
/// Lookups convert as the YAML subset reads: a scalar is a `string`, and also an `int`, `double` or
/// `bool` when it is plain (unquoted) and reads as one; a scalar asked for as an array is a
/// one-item array; a list of scalars is an array. Anything else is a ``TypeMismatch``.
public struct YAMLProvider: Sendable {
    /// What the document has at a key.
    public enum Shape: Sendable, Hashable {
        /// A scalar; `quoted` tells `"500"` (text) from `500` (a number where types matter).
        case scalar(String, quoted: Bool)
        /// A list of this many items, at the components `0`, `1`, … below it.
        case list(count: Int)
        /// A mapping with these keys, in document order.
        case map([String])
    }

    /// A lookup whose type the value cannot be read as (a list asked for as a string, a quoted
    /// scalar as a number).
    public struct TypeMismatch: Error, Sendable, CustomStringConvertible {
        /// The key looked up.
        public let key: String
        /// The type asked for.
        public let type: ConfigType
        /// `'key' is not a TYPE`.
        public var description: String { "'\(key)' is not a \(type.rawValue)" }
    }

    /// The provider's name, for access reports.
    public let providerName: String
    /// The key the document's root is at.
    public let root: [String]
    /// Every node by its absolute key components.
    let nodes: [[String]: Shape]

    /// Parses a document.
    /// - Parameters:
    ///   - text: The document.
    ///   - name: A name for access reports (e.g. the file path).
    ///   - root: The key the document's root is at (e.g. `["moxy"]` for a reader scoped to `moxy`).
    /// - Throws: ``YAMLSubset/ParseError``.
    public init(text: String, name: String = "yaml", root: [String] = []) throws(YAMLSubset.ParseError) {
        self.init(tree: try YAMLSubset.parseTree(text), name: name, root: root)
    }

    /// A provider over a parsed tree.
    public init(tree: YAMLSubset.Node, name: String = "yaml", root: [String] = []) {
        var nodes: [[String]: Shape] = [:]
        Self.record(tree, at: root, into: &nodes)
        self.providerName = "YAMLProvider[\(name)]"
        self.root = root
        self.nodes = nodes
    }

    /// What is at a key, or `nil` when the document has nothing there.
    public func shape(at key: [String]) -> Shape? {
        nodes[key]
    }

    /// The document's values (scalars and lists, not the items of lists), by key, in document
    /// order: what a check for unknown keys walks.
    public var leaves: [(key: [String], shape: Shape)] {
        var result: [(key: [String], shape: Shape)] = []
        func walk(_ key: [String]) {
            guard let shape = nodes[key] else { return }
            if case .map(let keys) = shape {
                for child in keys { walk(key + [child]) }
            } else {
                result.append((key, shape))
            }
        }
        walk(root)
        return result
    }

    /// The texts of a list's items when every item is a scalar.
    func scalarItems(_ key: [String], count: Int) -> [(text: String, quoted: Bool)]? {
        var items: [(text: String, quoted: Bool)] = []
        for index in 0..<count {
            guard case .scalar(let text, let quoted)? = nodes[key + [String(index)]] else { return nil }
            items.append((text, quoted))
        }
        return items
    }

    /// The node at a key converted to a type, `nil` when there is none.
    func content(at key: [String], type: ConfigType) throws(TypeMismatch) -> ConfigContent? {
        guard let shape = nodes[key] else { return nil }
        let items: [(text: String, quoted: Bool)]?
        switch shape {
        case .scalar(let text, let quoted): items = [(text, quoted)]
        case .list(let count): items = scalarItems(key, count: count)
        case .map: items = nil
        }
        let mismatch = TypeMismatch(key: key.joined(separator: "."), type: type)
        guard let items else { throw mismatch }
        func each<T>(_ parse: (String) -> T?) throws(TypeMismatch) -> [T] {
            var values: [T] = []
            for item in items {
                guard !item.quoted, let value = parse(item.text) else { throw mismatch }
                values.append(value)
            }
            return values
        }
        let single: Bool
        if case .scalar = shape { single = true } else { single = false }
        switch type {
        case .string:
            guard single else { throw mismatch }
            return .string(items[0].text)
        case .int:
            guard single else { throw mismatch }
            return .int(try each { Int($0) }[0])
        case .double:
            guard single else { throw mismatch }
            return .double(try each { Double($0) }[0])
        case .bool:
            guard single else { throw mismatch }
            return .bool(try each(Self.bool)[0])
        case .stringArray: return .stringArray(items.map(\.text))
        case .intArray: return .intArray(try each { Int($0) })
        case .doubleArray: return .doubleArray(try each { Double($0) })
        case .boolArray: return .boolArray(try each(Self.bool))
        case .bytes, .byteChunkArray: throw mismatch
        }
    }

    static func bool(_ text: String) -> Bool? {
        switch text {
        case "true": true
        case "false": false
        default: nil
        }
    }

    /// Records every node of a tree under its key. (The parser refuses duplicate keys and keys
    /// with dots, so no two nodes share a key.)
    static func record(_ node: YAMLSubset.Node, at key: [String], into nodes: inout [[String]: Shape]) {
        switch node {
        case .scalar(let text, let quoted):
            nodes[key] = .scalar(text, quoted: quoted)
        case .list(let items):
            nodes[key] = .list(count: items.count)
            for (index, item) in items.enumerated() { record(item, at: key + [String(index)], into: &nodes) }
        case .map(let entries):
            nodes[key] = .map(entries.map(\.key))
            for entry in entries { record(entry.value, at: key + [entry.key], into: &nodes) }
        }
    }
}

extension YAMLProvider: ConfigProvider, ConfigSnapshot {
    // swift-format-ignore: AllPublicDeclarationsHaveDocumentation
    public func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
        let content = try content(at: key.components, type: type)
        return LookupResult(encodedKey: key.description, value: content.map { ConfigValue($0, isSecret: false) })
    }

    // swift-format-ignore: AllPublicDeclarationsHaveDocumentation
    nonisolated(nonsending) public func fetchValue(forKey key: AbsoluteConfigKey, type: ConfigType) async throws -> LookupResult {
        try value(forKey: key, type: type)
    }

    // swift-format-ignore: AllPublicDeclarationsHaveDocumentation
    nonisolated(nonsending) public func watchValue<Return: ~Copyable>(
        forKey key: AbsoluteConfigKey,
        type: ConfigType,
        updatesHandler: nonisolated(nonsending) (_ updates: ConfigUpdatesAsyncSequence<Result<LookupResult, any Error>, Never>) async throws -> Return
    ) async throws -> Return {
        try await watchValueFromValue(forKey: key, type: type, updatesHandler: updatesHandler)
    }

    // swift-format-ignore: AllPublicDeclarationsHaveDocumentation
    public func snapshot() -> any ConfigSnapshot {
        self
    }

    // swift-format-ignore: AllPublicDeclarationsHaveDocumentation
    nonisolated(nonsending) public func watchSnapshot<Return: ~Copyable>(
        updatesHandler: nonisolated(nonsending) (_ updates: ConfigUpdatesAsyncSequence<any ConfigSnapshot, Never>) async throws -> Return
    ) async throws -> Return {
        try await watchSnapshotFromSnapshot(updatesHandler: updatesHandler)
    }
}
