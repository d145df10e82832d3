// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import NIOCore

/// One response under validation; the body is parsed as JSON at most once, and only if a rule needs it.
struct ValidationInput {
    let status: Int
    let headers: [(name: String, value: String)]
    let body: ByteBuffer?
    let paths: JSONPaths
    private var parsed: Result<JSONValue, JSONParser.ParseError>?
    private var text: String?

    init(status: Int, headers: [(name: String, value: String)], body: ByteBuffer?, paths: JSONPaths) {
        self.status = status
        self.headers = headers
        self.body = body
        self.paths = paths
    }

    /// The document, parsed on first use.
    mutating func document() -> Result<JSONValue, JSONParser.ParseError> {
        if let parsed { return parsed }
        let result: Result<JSONValue, JSONParser.ParseError>
        if let body {
            result = body.withUnsafeReadableBytes { bytes in Result { () throws(JSONParser.ParseError) in try JSONParser.parse(bytes, keeping: paths) } }
        } else {
            result = .failure(JSONParser.ParseError(offset: 0, message: "body not available"))
        }
        parsed = result
        return result
    }

    /// The body as text, decoded on first use (for regular expressions).
    mutating func bodyText() -> String {
        if let text { return text }
        let decoded = body.map { String(decoding: $0.readableBytesView, as: UTF8.self) } ?? ""
        text = decoded
        return decoded
    }

    /// Why a rule fails, or `nil` when it passes.
    mutating func failure(of rule: ValidationRule) -> String? {
        let size = body?.readableBytes ?? 0
        switch rule.check {
        case .status(let allowed):
            return allowed.contains(status) ? nil : "status \(status) is not allowed"
        case .contentType(let patterns):
            guard let field = headers.first(named: "content-type") else { return "no Content-Type" }
            // The one media-type parser of the server: a malformed type matches no pattern.
            guard let type = MediaType(field) else { return "Content-Type '\(field)' is malformed" }
            return patterns.contains { type.matches($0) } ? nil : "Content-Type '\(field)' is not allowed"
        case .minBytes(let minimum):
            return size >= minimum ? nil : "body has \(size) bytes, fewer than \(minimum)"
        case .maxBytes(let maximum):
            return size <= maximum ? nil : "body has \(size) bytes, more than \(maximum)"
        case .header(let name, let predicate):
            let values = headers.values(named: name)
            switch predicate {
            case .present: return values.isEmpty ? "\(name) is missing" : nil
            case .absent: return values.isEmpty ? nil : "\(name) is present"
            case .equals(let expected):
                return values.contains { $0.trimmingSpaces == expected } ? nil : "\(name) is not '\(expected)'"
            case .matches(let pattern):
                return values.contains { pattern.found(in: $0) } ? nil : "\(name) does not match \(pattern)"
            }
        case .json:
            if case .failure(let error) = document() { return "body is not JSON (\(error))" }
            return nil
        case .pointer(let pointer, let predicate):
            let document: JSONValue
            switch self.document() {
            case .success(let value): document = value
            case .failure(let error): return "body is not JSON (\(error))"
            }
            return Self.failure(of: predicate, at: pointer, in: document)
        case .bodyDenies(let needle):
            guard let body, Self.contains(body, needle) else { return nil }
            return "body contains '\(String(decoding: needle, as: UTF8.self))'"
        case .bodyDeniesPattern(let pattern):
            return pattern.found(in: bodyText()) ? "body matches \(pattern)" : nil
        case .all(let rules):
            for rule in rules {
                if let reason = failure(of: rule) { return reason }
            }
            return nil
        case .any(let rules):
            var reasons: [String] = []
            for rule in rules {
                guard let reason = failure(of: rule) else { return nil }
                reasons.append(reason)
            }
            return "none passed (" + reasons.joined(separator: "; ") + ")"
        case .not(let inner):
            return failure(of: inner) == nil ? "matched \(inner.name)" : nil
        }
    }

    /// Whether `needle` occurs in the body: a scan for its first byte, then a comparison (the
    /// generic `firstRange(of:)` on a buffer view is about a hundred times slower).
    static func contains(_ body: ByteBuffer, _ needle: [UInt8]) -> Bool {
        guard let first = needle.first else { return true }
        return body.withUnsafeReadableBytes { haystack in
            needle.withUnsafeBytes { needle in
                let count = needle.count
                guard haystack.count >= count else { return false }
                var index = 0
                let last = haystack.count - count
                while index <= last {
                    if haystack[index] == first {
                        var matched = 1
                        while matched < count, haystack[index + matched] == needle[matched] { matched += 1 }
                        if matched == count { return true }
                    }
                    index += 1
                }
                return false
            }
        }
    }

    static func failure(of predicate: ValidationRule.JSONPredicate, at pointer: JSONPointer, in document: JSONValue) -> String? {
        let value = pointer.resolve(in: document)
        let at = "'\(pointer)'"
        func number(_ test: (Double) -> Bool, _ words: String) -> String? {
            guard case .number(let number)? = value else { return "\(at) is \(value?.summary ?? "missing"), not a number" }
            return test(number) ? nil : "\(at) is \(value?.summary ?? ""), not \(words)"
        }
        switch predicate {
        case .exists: return value == nil ? "\(at) is missing" : nil
        case .absent: return value.map { "\(at) is present (\($0.summary))" }
        case .equals(let expected):
            guard let value else { return "\(at) is missing" }
            return value.jsonEquals(expected) ? nil : "\(at) is \(value.summary), not \(expected.summary)"
        case .notEquals(let unwanted):
            guard let value, value.jsonEquals(unwanted) else { return nil }
            return "\(at) is \(unwanted.summary)"
        case .oneOf(let allowed):
            guard let value else { return "\(at) is missing" }
            return allowed.contains { value.jsonEquals($0) } ? nil : "\(at) is \(value.summary), not one of the allowed values"
        case .lessThan(let limit): return number({ $0 < limit }, "< \(limit)")
        case .atMost(let limit): return number({ $0 <= limit }, "<= \(limit)")
        case .greaterThan(let limit): return number({ $0 > limit }, "> \(limit)")
        case .atLeast(let limit): return number({ $0 >= limit }, ">= \(limit)")
        case .matches(let pattern):
            guard case .string(let text)? = value else { return "\(at) is \(value?.summary ?? "missing"), not a string" }
            return pattern.found(in: text) ? nil : "\(at) does not match \(pattern)"
        case .type(let kind):
            guard let value else { return "\(at) is missing" }
            return value.kind == kind ? nil : "\(at) is a \(value.kind.rawValue), not a \(kind.rawValue)"
        case .minItems(let minimum):
            guard case .array(let items)? = value else { return "\(at) is \(value?.summary ?? "missing"), not an array" }
            return items.count >= minimum ? nil : "\(at) has \(items.count) items, fewer than \(minimum)"
        }
    }
}

/// A printable excerpt of a body for logs: the first bytes, control characters and non-UTF-8 escaped.
public enum BodyExcerpt {
    /// The first `limit` bytes of a body, escaped (`\n`, `\u{1B}`, `\x80`).
    public static func make(_ body: ByteBuffer?, limit: Int = 200) -> String {
        guard let body else { return "" }
        var output = ""
        for scalar in String(decoding: body.readableBytesView.prefix(limit), as: UTF8.self).unicodeScalars {
            switch scalar {
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\\": output += "\\\\"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value) {
                    output += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        return output + (body.readableBytes > limit ? "…" : "")
    }
}
