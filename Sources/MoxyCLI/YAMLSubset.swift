// SPDX-License-Identifier: Apache-2.0

import MoxyCache

/// A parser for the small YAML subset Moxy's config file uses, without Foundation (a full YAML
/// library would link ICU and cost several MiB of resident memory).
///
/// Supported: nested block mappings (`key:` then indented keys), scalars (plain, `"double"` with
/// `\"`, `\\`, `\n`, `\t` escapes, `'single'` with `''`), block sequences of scalars (`- item`),
/// flow sequences of scalars (`[a, "b"]`), and `#` comments. Anything else (anchors, flow mappings,
/// multi-line scalars, tabs for indentation) is refused with the line number.
public enum YAMLSubset {
    /// A parsed value: one scalar or a list of scalars.
    public enum Value: Sendable, Hashable {
        /// A scalar, as text.
        case scalar(String)
        /// A sequence of scalars.
        case list([String])
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

    /// Parses a document into dotted key paths (`cache.memory_size`) and values.
    /// - Parameter text: The document.
    /// - Returns: Every leaf by its dotted path.
    /// - Throws: ``ParseError``.
    public static func parse(_ text: String) throws(ParseError) -> [String: Value] {
        var result: [String: Value] = [:]
        var stack: [(indent: Int, path: String)] = []
        var openKey: (indent: Int, path: String)? = nil  // a `key:` with nothing after it yet
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            line = try stripComment(line, number)
            if line.allSatisfy({ $0 == " " }) { continue }
            guard !line.contains("\t") || line.drop(while: { $0 == " " }).first != "\t" else {
                throw ParseError(line: number, message: "tabs are not allowed for indentation")
            }
            let indent = line.prefix(while: { $0 == " " }).count
            let content = line.dropFirst(indent)
            if content == "---" && indent == 0 { continue }
            if content.hasPrefix("- ") || content == "-" {
                guard let key = openKey ?? stack.last, indent >= key.indent else {
                    throw ParseError(line: number, message: "list item without a key")
                }
                let item = try scalar(content.dropFirst(1).drop(while: { $0 == " " }), number)
                if case .list(let items)? = result[key.path] {
                    result[key.path] = .list(items + [item])
                } else if result[key.path] == nil {
                    result[key.path] = .list([item])
                } else {
                    throw ParseError(line: number, message: "'\(key.path)' has both a value and list items")
                }
                openKey = nil
                stack.removeAll { $0.indent > key.indent }
                if stack.last?.path != key.path { stack.append((key.indent, key.path)) }
                continue
            }
            guard let colon = keyColon(content) else {
                throw ParseError(line: number, message: "expected 'key: value'")
            }
            let key = content[..<colon].trimmingSpaces
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                throw ParseError(line: number, message: "unsupported key '\(key)'")
            }
            while let top = stack.last, top.indent >= indent { stack.removeLast() }
            if let open = openKey, indent > open.indent { stack.append(open) }
            openKey = nil
            let path = (stack.last.map { $0.path + "." } ?? "") + key
            let rest = content[content.index(after: colon)...].trimmingSpaces
            if rest.isEmpty {
                openKey = (indent, path)
                continue
            }
            guard result[path] == nil else { throw ParseError(line: number, message: "duplicate key '\(path)'") }
            if rest.hasPrefix("[") {
                guard rest.hasSuffix("]") else { throw ParseError(line: number, message: "unterminated list") }
                let inner = rest.dropFirst().dropLast()
                let items = try splitFlow(inner, number)
                var values: [String] = []
                for item in items { values.append(try scalar(item, number)) }
                result[path] = .list(values)
            } else if rest.hasPrefix("{") || rest.hasPrefix("&") || rest.hasPrefix("*") || rest.hasPrefix("|")
                || rest.hasPrefix(">")
            {
                throw ParseError(line: number, message: "unsupported YAML construct")
            } else {
                result[path] = .scalar(try scalar(rest, number))
            }
        }
        return result
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
                quote = char
            } else if char == "#" && (previous == " " || index == line.startIndex) {
                return line[..<index]
            }
            previous = char
            if index < line.endIndex { index = line.index(after: index) }
        }
        return line
    }

    static func splitFlow(_ inner: Substring, _ number: Int) throws(ParseError) -> [Substring] {
        var items: [Substring] = []
        var quote: Character? = nil
        var start = inner.startIndex
        var index = inner.startIndex
        while index < inner.endIndex {
            let char = inner[index]
            if let open = quote {
                if char == open { quote = nil }
            } else if char == "\"" || char == "'" {
                quote = char
            } else if char == "," {
                items.append(inner[start..<index].trimmingSpaces)
                start = inner.index(after: index)
            } else if char == "[" || char == "{" {
                throw ParseError(line: number, message: "nested collections are not supported")
            }
            index = inner.index(after: index)
        }
        let last = inner[start...].trimmingSpaces
        if !last.isEmpty || !items.isEmpty { items.append(last) }
        return items
    }

    static func scalar(_ text: Substring, _ number: Int) throws(ParseError) -> String {
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
            return output
        }
        if text.hasPrefix("'") {
            guard text.count >= 2, text.hasSuffix("'") else { throw ParseError(line: number, message: "unterminated string") }
            return String(text.dropFirst().dropLast()).replacingAll("''", with: "'")
        }
        if text.hasPrefix("&") || text.hasPrefix("*") || text.hasPrefix("{") || text.hasPrefix("!") {
            throw ParseError(line: number, message: "unsupported YAML construct")
        }
        return String(text)
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
