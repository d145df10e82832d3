// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP

/// A parser for the YAML subset Moxy's config file uses, without Foundation (a full YAML
/// library would link ICU and cost several MiB of resident memory).
///
/// Supported: block mappings and sequences nested by indentation (including mappings as list items,
/// `- key: value`), flow collections on one line (`[a, "b"]`, `{pointer: /code, absent: true}`),
/// scalars (plain, `"double"` with `\"`, `\\`, `\n`, `\t` escapes, `'single'` with `''`) and `#`
/// comments. Anything else (anchors, tags, multi-line scalars, tabs for indentation) is refused
/// with the line number.
public enum YAMLSubset {
    /// A parsed document tree.
    public indirect enum Node: Sendable, Hashable {
        /// A scalar; `quoted` tells `"500"` (text) from `500` (a number where types matter).
        case scalar(String, quoted: Bool)
        /// A sequence.
        case list([Node])
        /// A mapping, in document order.
        case map([Entry])

        /// One key of a mapping.
        public struct Entry: Sendable, Hashable {
            /// The key.
            public var key: String
            /// The value.
            public var value: Node

            /// Creates an entry.
            public init(key: String, value: Node) {
                self.key = key
                self.value = value
            }
        }

        /// The scalar's text, if this is a scalar.
        public var text: String? {
            if case .scalar(let text, _) = self { return text }
            return nil
        }
    }

    /// A syntax error at a line.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        /// The 1-based line number.
        public let line: Int
        /// What is wrong.
        public let message: String
        /// `line N: message`.
        public var description: String { "line \(line): \(message)" }
    }

    /// Parses a document into its tree (an empty document is an empty mapping).
    /// - Parameter text: The document.
    /// - Returns: The root node.
    /// - Throws: ``ParseError``.
    public static func parseTree(_ text: String) throws(ParseError) -> Node {
        var parser = try BlockParser(text)
        guard !parser.lines.isEmpty else { return .map([]) }
        let root = try parser.node()
        if parser.index < parser.lines.count {
            throw ParseError(line: parser.lines[parser.index].number, message: "unexpected indentation")
        }
        return root
    }
}

extension YAMLSubset {
    /// One non-blank line: its number, indentation and content without the comment.
    struct Line {
        var number: Int
        var indent: Int
        var text: Substring

        var isListItem: Bool { text == "-" || text.hasPrefix("- ") }
    }

    /// The deepest nesting accepted (block and flow collections together): a config tree is a few
    /// levels deep, and a bound keeps hostile input from exhausting the stack.
    static let maxDepth = 64

    /// Recursive descent over indented lines.
    struct BlockParser {
        var lines: [Line] = []
        var index = 0
        var depth = 0

        mutating func enter(_ number: Int) throws(ParseError) {
            depth += 1
            guard depth <= YAMLSubset.maxDepth else {
                throw ParseError(line: number, message: "nested deeper than \(YAMLSubset.maxDepth) levels")
            }
        }

        init(_ text: String) throws(ParseError) {
            for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let number = offset + 1
                var line = Substring(rawLine)
                if line.hasSuffix("\r") { line = line.dropLast() }
                line = try YAMLSubset.stripComment(line, number)
                while line.last == " " { line = line.dropLast() }
                if line.isEmpty { continue }
                let indent = line.prefix(while: { $0 == " " }).count
                let content = line.dropFirst(indent)
                if content.first == "\t" { throw ParseError(line: number, message: "tabs are not allowed for indentation") }
                if content == "---" && indent == 0 { continue }
                lines.append(Line(number: number, indent: indent, text: content))
            }
        }

        mutating func node() throws(ParseError) -> Node {
            let line = lines[index]
            return line.isListItem ? try sequence(indent: line.indent) : try mapping(indent: line.indent)
        }

        mutating func mapping(indent: Int) throws(ParseError) -> Node {
            try enter(lines[index].number)
            defer { depth -= 1 }
            var entries: [Node.Entry] = []
            while index < lines.count, lines[index].indent == indent {
                let line = lines[index]
                if line.isListItem {
                    throw ParseError(line: line.number, message: "a list item where a key was expected")
                }
                guard let colon = YAMLSubset.keyColon(line.text) else {
                    throw ParseError(line: line.number, message: "expected 'key: value'")
                }
                let key = String(line.text[..<colon].trimmingSpaces)
                try YAMLSubset.checkKey(key, line.number)
                guard !entries.contains(where: { $0.key == key }) else {
                    throw ParseError(line: line.number, message: "duplicate key '\(key)'")
                }
                let rest = line.text[line.text.index(after: colon)...].trimmingSpaces
                index += 1
                let value: Node
                if !rest.isEmpty {
                    value = try YAMLSubset.inline(rest, line.number)
                } else if index < lines.count, lines[index].indent > indent {
                    value = try node()
                } else if index < lines.count, lines[index].indent == indent, lines[index].isListItem {
                    value = try sequence(indent: indent)
                } else {
                    value = .map([])
                }
                entries.append(Node.Entry(key: key, value: value))
            }
            if index < lines.count, lines[index].indent > indent {
                throw ParseError(line: lines[index].number, message: "unexpected indentation")
            }
            return .map(entries)
        }

        mutating func sequence(indent: Int) throws(ParseError) -> Node {
            try enter(lines[index].number)
            defer { depth -= 1 }
            var items: [Node] = []
            while index < lines.count, lines[index].indent == indent, lines[index].isListItem {
                let line = lines[index]
                let after = line.text.dropFirst()
                let spaces = after.prefix(while: { $0 == " " }).count
                let content = after.dropFirst(spaces)
                if content.isEmpty {
                    index += 1
                    guard index < lines.count, lines[index].indent > indent else {
                        throw ParseError(line: line.number, message: "empty list item")
                    }
                    items.append(try node())
                } else if content.first == "[" || content.first == "{" || content.first == "\"" || content.first == "'"
                    || YAMLSubset.keyColon(content) == nil
                {
                    if Line(number: 0, indent: 0, text: content).isListItem {
                        lines[index] = Line(number: line.number, indent: indent + 1 + spaces, text: content)
                        items.append(try sequence(indent: indent + 1 + spaces))
                        continue
                    }
                    items.append(try YAMLSubset.inline(content, line.number))
                    index += 1
                } else {
                    // `- key: value`: a mapping whose keys line up with this first one.
                    lines[index] = Line(number: line.number, indent: indent + 1 + spaces, text: content)
                    items.append(try mapping(indent: indent + 1 + spaces))
                }
            }
            if index < lines.count, lines[index].indent > indent {
                throw ParseError(line: lines[index].number, message: "unexpected indentation")
            }
            return .list(items)
        }
    }

    static func checkKey(_ key: String, _ number: Int) throws(ParseError) {
        guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
            throw ParseError(line: number, message: "unsupported key '\(key)'")
        }
    }

    /// A value on the same line as its key or dash: a flow collection or a scalar.
    static func inline(_ text: Substring, _ number: Int) throws(ParseError) -> Node {
        guard text.first == "[" || text.first == "{" else { return try scalar(text, number) }
        var flow = FlowParser(text: text, index: text.startIndex, number: number)
        let node = try flow.value()
        flow.skipSpaces()
        guard flow.index == text.endIndex else { throw ParseError(line: number, message: "unexpected text after a collection") }
        return node
    }

    static func keyColon(_ content: Substring) -> Substring.Index? {
        var index = content.startIndex
        while index < content.endIndex {
            if content[index] == ":" {
                let next = content.index(after: index)
                if next == content.endIndex || content[next] == " " { return index }
            }
            if content[index] == "\"" || content[index] == "'" { return nil }
            index = content.index(after: index)
        }
        return nil
    }

    static func stripComment(_ line: Substring, _ number: Int) throws(ParseError) -> Substring {
        var quote: Character? = nil
        var previous: Character = " "
        var index = line.startIndex
        while index < line.endIndex {
            let char = line[index]
            if let open = quote {
                if char == open { quote = nil }
                if char == "\\" && open == "\"" { index = line.index(after: index) }
            } else if char == "\"" || char == "'" {
                if previous == " " || previous == "[" || previous == "{" || previous == "," || previous == ":" { quote = char }
            } else if char == "#" && (previous == " " || index == line.startIndex) {
                return line[..<index]
            }
            previous = char
            if index < line.endIndex { index = line.index(after: index) }
        }
        return line
    }

    static func scalar(_ text: Substring, _ number: Int) throws(ParseError) -> Node {
        let text = text.trimmingSpaces
        if text.hasPrefix("\"") {
            guard text.count >= 2, text.hasSuffix("\"") else { throw ParseError(line: number, message: "unterminated string") }
            var output = ""
            var escaped = false
            for char in text.dropFirst().dropLast() {
                if escaped {
                    switch char {
                    case "n": output.append("\n")
                    case "t": output.append("\t")
                    case "\"", "\\", "/": output.append(char)
                    default: throw ParseError(line: number, message: "unsupported escape \\\(char)")
                    }
                    escaped = false
                } else if char == "\\" {
                    escaped = true
                } else {
                    output.append(char)
                }
            }
            guard !escaped else { throw ParseError(line: number, message: "unterminated string") }
            return .scalar(output, quoted: true)
        }
        if text.hasPrefix("'") {
            guard text.count >= 2, text.hasSuffix("'") else { throw ParseError(line: number, message: "unterminated string") }
            return .scalar(String(text.dropFirst().dropLast()).replacingAll("''", with: "'"), quoted: true)
        }
        if let first = text.first, "&*!|>%@`".contains(first) {
            throw ParseError(line: number, message: "unsupported YAML construct")
        }
        return .scalar(String(text), quoted: false)
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        var output = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            output += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return output + rest
    }
}
