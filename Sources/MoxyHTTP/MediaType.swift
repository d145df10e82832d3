// SPDX-License-Identifier: Apache-2.0

/// A strictly parsed media type (RFC 9110 §8.3.1), re-emitted in canonical form.
public struct MediaType: Sendable, Hashable, CustomStringConvertible {
    /// The type, lowercase (`image`).
    public let type: String
    /// The subtype, lowercase (`png`, `svg+xml`).
    public let subtype: String
    /// Parameters in order, names lowercase, values as given (unquoted).
    public let parameters: [(name: String, value: String)]

    /// Parses a `Content-Type` value.
    ///
    /// Refuses anything that is not exactly one `type/subtype` with optional `; name=value`
    /// parameters: lists (`image/png, text/html`), missing parts and non-token characters.
    /// - Parameter text: The field value.
    public init?(_ text: some StringProtocol) {
        let parts = Self.splitParameters(Substring(text))
        guard let first = parts.first else { return nil }
        let essence = first.trimmingSpaces.split(separator: "/", omittingEmptySubsequences: false)
        guard essence.count == 2, Self.isToken(essence[0]), Self.isToken(essence[1]) else { return nil }
        var parameters: [(String, String)] = []
        for raw in parts.dropFirst() {
            let parameter = raw.trimmingSpaces
            guard let equals = parameter.firstIndex(of: "=") else { return nil }
            let name = parameter[..<equals]
            var value = parameter[parameter.index(after: equals)...]
            guard Self.isToken(name) else { return nil }
            if value.hasPrefix("\"") {
                guard value.count >= 2, value.hasSuffix("\"") else { return nil }
                value = value.dropFirst().dropLast()
                guard !value.contains("\"") && !value.contains("\\") else { return nil }
            } else {
                guard Self.isToken(value) else { return nil }
            }
            parameters.append((name.lowercased(), String(value)))
        }
        self.type = essence[0].lowercased()
        self.subtype = essence[1].lowercased()
        self.parameters = parameters
    }

    /// `type/subtype; name=value`, quoting values that are not tokens.
    public var description: String {
        var text = "\(type)/\(subtype)"
        for (name, value) in parameters {
            text += "; \(name)=" + (Self.isToken(Substring(value)) ? value : "\"\(value)\"")
        }
        return text
    }

    /// Whether this type matches a pattern such as `image/*`, `*/*` or `video/mp4`.
    /// - Parameter pattern: A lowercase pattern.
    /// - Returns: `true` when it matches.
    public func matches(_ pattern: String) -> Bool {
        let parts = pattern.split(separator: "/")
        guard parts.count == 2 else { return false }
        return (parts[0] == "*" || parts[0] == type) && (parts[1] == "*" || parts[1] == subtype)
    }

    /// Two types are equal when type, subtype and parameters are.
    public static func == (lhs: MediaType, rhs: MediaType) -> Bool { lhs.description == rhs.description }
    /// Hashes the canonical text.
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }

    static func splitParameters(_ text: Substring) -> [Substring] {
        // Split on ';' outside quotes; a ',' anywhere outside quotes means a list, which is refused.
        var parts: [Substring] = []
        var start = text.startIndex
        var inQuotes = false
        var index = text.startIndex
        while index < text.endIndex {
            let char = text[index]
            if char == "\"" { inQuotes.toggle() }
            if !inQuotes && char == "," { return [] }
            if !inQuotes && char == ";" {
                parts.append(text[start..<index])
                start = text.index(after: index)
            }
            index = text.index(after: index)
        }
        if inQuotes { return [] }
        parts.append(text[start...])
        return parts
    }

    static func isToken(_ text: Substring) -> Bool {
        !text.isEmpty
            && text.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"):
                    return true
                default:
                    return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
                }
            }
    }
}
