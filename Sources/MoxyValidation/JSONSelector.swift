// SPDX-License-Identifier: Apache-2.0

/// Finds the values that a set of ``JSONPattern``s select in a document, in one pass over its
/// bytes, with each value's byte range: everything else is checked for syntax only, so the cost
/// is that of the syntax check plus the selected values.
public struct JSONSelector: Sendable {
    /// The patterns, in the order their indices are reported.
    public let patterns: [JSONPattern]
    private let root: Node

    /// One level of the patterns' tree.
    struct Node: Sendable {
        /// The patterns that end here (their indices).
        var ends: [Int] = []
        /// Member names (and array indices, as text) to follow.
        var names: [String: Node] = [:]
        /// Where `*` leads.
        var any: [Node] = []

        var isEmpty: Bool { ends.isEmpty && names.isEmpty && any.isEmpty }

        mutating func insert(_ tokens: ArraySlice<JSONPattern.Token>, index: Int) {
            guard let token = tokens.first else {
                ends.append(index)
                return
            }
            switch token {
            case .name(let name): names[name, default: Node()].insert(tokens.dropFirst(), index: index)
            case .any:
                if any.isEmpty { any.append(Node()) }
                any[0].insert(tokens.dropFirst(), index: index)
            }
        }

        /// The node after a member name or array index; `nil` when nothing is selected below it.
        func child(_ name: String) -> Node? {
            let named = names[name]
            guard let wildcard = any.first else { return named }
            guard let named else { return wildcard }
            return named.merged(with: wildcard)
        }

        func merged(with other: Node) -> Node {
            var result = self
            result.ends += other.ends
            for (name, node) in other.names {
                result.names[name] = result.names[name].map { $0.merged(with: node) } ?? node
            }
            if let wildcard = other.any.first { result.any = [result.any.first.map { $0.merged(with: wildcard) } ?? wildcard] }
            return result
        }
    }

    /// Creates a selector.
    public init(_ patterns: [JSONPattern]) {
        self.patterns = patterns
        var root = Node()
        for (index, pattern) in patterns.enumerated() { root.insert(pattern.tokens[...], index: index) }
        self.root = root
    }

    /// One selected value.
    public struct Match: Sendable {
        /// The index of the pattern that selected it (a value several select is reported once per pattern).
        public var pattern: Int
        /// The value.
        public var value: JSONValue
        /// Its bytes in the document (a string's include its quotes).
        public var range: Range<Int>
    }

    /// The values the patterns select, in document order.
    /// - Parameter bytes: The document.
    /// - Throws: ``JSONParser/ParseError`` when it is not one JSON document.
    public func matches(in bytes: UnsafeRawBufferPointer) throws(JSONParser.ParseError) -> [Match] {
        var walker = Walker(reader: JSONParser.Reader(bytes: bytes))
        walker.reader.skipWhitespace()
        try walker.walk(root, depth: 0)
        walker.reader.skipWhitespace()
        guard walker.reader.index == bytes.count else {
            throw JSONParser.ParseError(offset: walker.reader.index, message: "unexpected text after the value")
        }
        return walker.matches
    }

    /// The same for a document in an array.
    public func matches(in bytes: [UInt8]) throws(JSONParser.ParseError) -> [Match] {
        do {
            return try bytes.withUnsafeBytes { buffer in try matches(in: buffer) }
        } catch let error as JSONParser.ParseError {
            throw error
        } catch {
            throw JSONParser.ParseError(offset: 0, message: "\(error)")
        }
    }

    struct Walker {
        var reader: JSONParser.Reader
        var matches: [Match] = []

        mutating func walk(_ node: Node, depth: Int) throws(JSONParser.ParseError) {
            guard reader.index < reader.bytes.count else { throw reader.fail("unexpected end of input") }
            let start = reader.index
            if !node.ends.isEmpty {
                // A selected value is built whole (what is below it may be selected too: walk it again).
                let value = try reader.value(depth: depth, keep: .everything)
                for pattern in node.ends { matches.append(Match(pattern: pattern, value: value, range: start..<reader.index)) }
                guard !node.names.isEmpty || !node.any.isEmpty else { return }
                let end = reader.index
                reader.index = start
                var inner = node
                inner.ends = []
                try walk(inner, depth: depth)
                precondition(reader.index == end, "a second walk over the same value ends where the first did")
                return
            }
            switch reader.bytes[start] {
            case UInt8(ascii: "{"): try object(node, depth: depth + 1)
            case UInt8(ascii: "["): try array(node, depth: depth + 1)
            default: _ = try reader.value(depth: depth, keep: nil)  // a scalar where the patterns go deeper
            }
        }

        mutating func descend(_ child: Node?, depth: Int) throws(JSONParser.ParseError) {
            if let child, !child.isEmpty { try walk(child, depth: depth) } else { _ = try reader.value(depth: depth, keep: nil) }
        }

        mutating func object(_ node: Node, depth: Int) throws(JSONParser.ParseError) {
            guard depth <= JSONParser.maxDepth else { throw reader.fail("nested too deeply") }
            reader.index += 1
            reader.skipWhitespace()
            if reader.index < reader.bytes.count, reader.bytes[reader.index] == UInt8(ascii: "}") {
                reader.index += 1
                return
            }
            while true {
                reader.skipWhitespace()
                guard reader.index < reader.bytes.count, reader.bytes[reader.index] == UInt8(ascii: "\"") else {
                    throw reader.fail("expected a member name")
                }
                let name = try reader.string()
                reader.skipWhitespace()
                guard reader.index < reader.bytes.count, reader.bytes[reader.index] == UInt8(ascii: ":") else {
                    throw reader.fail("expected ':'")
                }
                reader.index += 1
                reader.skipWhitespace()
                try descend(node.child(name), depth: depth)
                if try reader.endOfCollection(UInt8(ascii: "}")) { return }
            }
        }

        mutating func array(_ node: Node, depth: Int) throws(JSONParser.ParseError) {
            guard depth <= JSONParser.maxDepth else { throw reader.fail("nested too deeply") }
            reader.index += 1
            reader.skipWhitespace()
            if reader.index < reader.bytes.count, reader.bytes[reader.index] == UInt8(ascii: "]") {
                reader.index += 1
                return
            }
            var index = 0
            while true {
                reader.skipWhitespace()
                try descend(node.child(String(index)), depth: depth)
                index += 1
                if try reader.endOfCollection(UInt8(ascii: "]")) { return }
            }
        }
    }
}
