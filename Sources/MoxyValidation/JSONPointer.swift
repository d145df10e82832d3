// SPDX-License-Identifier: Apache-2.0

/// A JSON Pointer (RFC 6901): `""` is the whole document, `/data/status` a member of a member,
/// `/items/0` an array element; `~1` stands for `/` and `~0` for `~` in names.
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    /// The unescaped reference tokens.
    public let tokens: [String]
    /// The pointer as written.
    public let description: String

    /// Why a pointer is malformed.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        /// What is wrong.
        public let description: String
    }

    /// Parses a pointer.
    /// - Parameter text: `""` or text starting with `/`.
    /// - Throws: ``ParseError`` when it does not start with `/` or has a `~` not followed by `0` or `1`.
    public init(_ text: String) throws(ParseError) {
        description = text
        guard !text.isEmpty else {
            tokens = []
            return
        }
        guard text.hasPrefix("/") else {
            throw ParseError(description: "a JSON pointer is empty or starts with '/' ('\(text)')")
        }
        var tokens: [String] = []
        for raw in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            var token = ""
            var tilde = false
            for char in raw {
                if tilde {
                    guard char == "0" || char == "1" else {
                        throw ParseError(description: "'~' must be followed by 0 or 1 in a JSON pointer ('\(text)')")
                    }
                    token.append(char == "0" ? "~" : "/")
                    tilde = false
                } else if char == "~" {
                    tilde = true
                } else {
                    token.append(char)
                }
            }
            guard !tilde else { throw ParseError(description: "'~' must be followed by 0 or 1 in a JSON pointer ('\(text)')") }
            tokens.append(token)
        }
        self.tokens = tokens
    }

    /// The array index a token stands for: `0` or digits without a leading zero (`-`, past the
    /// end, never exists).
    static func arrayIndex(_ token: String) -> Int? {
        guard let first = token.utf8.first, token.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            first != 0x30 || token.utf8.count == 1, token.utf8.count <= 18
        else { return nil }
        return Int(token)
    }

    /// The value the pointer refers to in a document, or `nil` when there is none.
    /// - Parameter document: The document.
    /// - Returns: The value.
    public func resolve(in document: JSONValue) -> JSONValue? {
        var current = document
        for token in tokens {
            switch current {
            case .object:
                guard let next = current[member: token] else { return nil }
                current = next
            case .array(let items):
                guard let index = Self.arrayIndex(token), index < items.count else { return nil }
                current = items[index]
            default:
                return nil
            }
        }
        return current
    }
}
