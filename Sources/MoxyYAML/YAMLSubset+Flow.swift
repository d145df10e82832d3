// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP

extension YAMLSubset {
    /// Flow collections (`[…]`, `{…}`) on one line.
    struct FlowParser {
        let text: Substring
        var index: Substring.Index
        let number: Int
        var depth = 0

        mutating func skipSpaces() {
            while index < text.endIndex, text[index] == " " { index = text.index(after: index) }
        }

        mutating func value() throws(ParseError) -> Node {
            depth += 1
            defer { depth -= 1 }
            guard depth <= YAMLSubset.maxDepth else {
                throw ParseError(line: number, message: "nested deeper than \(YAMLSubset.maxDepth) levels")
            }
            skipSpaces()
            guard index < text.endIndex else { throw ParseError(line: number, message: "missing value") }
            switch text[index] {
            case "[":
                index = text.index(after: index)
                var items: [Node] = []
                try collection(closing: "]") { (parser: inout FlowParser) throws(ParseError) in items.append(try parser.value()) }
                return .list(items)
            case "{":
                index = text.index(after: index)
                var entries: [Node.Entry] = []
                try collection(closing: "}") { (parser: inout FlowParser) throws(ParseError) in
                    let key = try parser.scalarText(stopAtColon: true)
                    guard parser.index < parser.text.endIndex, parser.text[parser.index] == ":" else {
                        throw ParseError(line: parser.number, message: "expected 'key: value' in {…}")
                    }
                    parser.index = parser.text.index(after: parser.index)
                    try YAMLSubset.checkKey(key.text ?? "", parser.number)
                    let name = key.text ?? ""
                    guard !entries.contains(where: { $0.key == name }) else {
                        throw ParseError(line: parser.number, message: "duplicate key '\(name)'")
                    }
                    entries.append(Node.Entry(key: name, value: try parser.value()))
                }
                return .map(entries)
            default:
                return try scalarText(stopAtColon: false)
            }
        }

        mutating func collection(
            closing: Character,
            item: (inout FlowParser) throws(ParseError) -> Void
        ) throws(ParseError) {
            skipSpaces()
            if index < text.endIndex, text[index] == closing {
                index = text.index(after: index)
                return
            }
            while true {
                try item(&self)
                skipSpaces()
                guard index < text.endIndex else { throw ParseError(line: number, message: "unterminated \(closing == "]" ? "[…]" : "{…}")") }
                let char = text[index]
                index = text.index(after: index)
                if char == closing { return }
                guard char == "," else { throw ParseError(line: number, message: "expected ',' or '\(closing)'") }
            }
        }

        /// A quoted or plain scalar; plain ones end at `,`, `]`, `}` (and at `:` for keys).
        mutating func scalarText(stopAtColon: Bool) throws(ParseError) -> Node {
            skipSpaces()
            let start = index
            if index < text.endIndex, text[index] == "\"" || text[index] == "'" {
                let quote = text[index]
                index = text.index(after: index)
                while index < text.endIndex {
                    if text[index] == "\\" && quote == "\"" {
                        index = text.index(after: index)
                    } else if text[index] == quote {
                        // A doubled single quote is an escaped quote, not the end.
                        let next = text.index(after: index)
                        guard quote == "'", next < text.endIndex, text[next] == "'" else { break }
                        index = next
                    }
                    if index < text.endIndex { index = text.index(after: index) }
                }
                guard index < text.endIndex else { throw ParseError(line: number, message: "unterminated string") }
                index = text.index(after: index)
                return try YAMLSubset.scalar(text[start..<index], number)
            }
            while index < text.endIndex, !",]}".contains(text[index]), !(stopAtColon && text[index] == ":") {
                if "[{".contains(text[index]) { throw ParseError(line: number, message: "unexpected '\(text[index])'") }
                index = text.index(after: index)
            }
            return try YAMLSubset.scalar(text[start..<index], number)
        }
    }
}
