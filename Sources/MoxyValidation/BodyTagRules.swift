// SPDX-License-Identifier: Apache-2.0

/// A route's surrogate keys (tags) that come from its configuration and from the JSON body: a
/// WordPress collection tags its entry `post-1 post-2 …` from `/*/id`, so a purge by `post-2` finds
/// every list that shows that post. The tags join those the upstream sends in `Surrogate-Key`,
/// `xkey` and `Cache-Tag`.
public struct BodyTagRules: Sendable {
    /// One tag source: the values a pattern selects, each written into a template.
    public struct Rule: Sendable {
        /// Where the values are (`/*/id`).
        public var pattern: JSONPattern
        /// The tag, with `{}` standing for the value (`post-{}`).
        public var template: String {
            didSet { pieces = Self.pieces(of: template) }
        }
        /// The template's text around each `{}`, split once.
        private(set) var pieces: [Substring]

        /// Creates a rule.
        public init(pattern: JSONPattern, template: String) {
            self.pattern = pattern
            self.template = template
            pieces = Self.pieces(of: template)
        }

        /// `post-{}` as `["post-", ""]`: the value goes between each two pieces.
        static func pieces(of template: String) -> [Substring] {
            var pieces: [Substring] = []
            var start = template.utf8.startIndex
            var index = start
            let utf8 = template.utf8
            while index < utf8.endIndex {
                let next = utf8.index(after: index)
                if utf8[index] == UInt8(ascii: "{"), next < utf8.endIndex, utf8[next] == UInt8(ascii: "}") {
                    pieces.append(template[start..<index])
                    index = utf8.index(after: next)
                    start = index
                } else {
                    index = next
                }
            }
            pieces.append(template[start...])
            return pieces
        }

        /// The tag for one value.
        func tag(_ value: String) -> String {
            var tag = String(pieces[0])
            for piece in pieces.dropFirst() {
                tag += value
                tag += piece
            }
            return tag
        }
    }

    /// Tags every entry of the route gets.
    public var fixed: [String]
    /// The tags read from the body.
    public var rules: [Rule] {
        didSet { selector = JSONSelector(rules.map(\.pattern)) }
    }
    /// At most this many tags per entry (the upstream's, the fixed ones and the body's together);
    /// the rest are dropped and counted.
    public var maxCount: Int
    /// Longer tags are dropped and counted.
    public var maxLength: Int
    /// The rules' patterns, ready to walk a body.
    public private(set) var selector: JSONSelector

    /// Creates tag rules.
    public init(fixed: [String] = [], rules: [Rule] = [], maxCount: Int = 64, maxLength: Int = 128) {
        self.fixed = fixed
        self.rules = rules
        self.maxCount = maxCount
        self.maxLength = maxLength
        selector = JSONSelector(rules.map(\.pattern))
    }

    /// The tags of an entry, and how many were dropped.
    public struct Result: Sendable, Equatable {
        /// The tags, deduplicated, in order: the upstream's, the fixed ones, the body's.
        public var tags: [String]
        /// Tags over the count or the length bound, or with characters a tag cannot hold.
        public var dropped: Int

        /// Creates a result.
        public init(tags: [String], dropped: Int) {
            self.tags = tags
            self.dropped = dropped
        }
    }

    /// Whether a text can be a tag: visible ASCII without the separators of the tag fields
    /// (`,`) and without `"` or `\`, which would need escaping wherever tags are written.
    public static func isValidTag(_ text: some StringProtocol) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ",") && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
    }

    /// The tags of an entry.
    /// - Parameters:
    ///   - upstream: The tags the upstream sent (``SurrogateKeys``).
    ///   - body: The body, or `nil` when the body rules do not apply (it was not JSON, or not kept
    ///     whole); the fixed tags apply either way.
    /// - Returns: The tags and the count of those dropped.
    public func tags(upstream: [String], body: UnsafeRawBufferPointer?) -> Result {
        var result = Result(tags: [], dropped: 0)
        var seen = Set<String>()
        func add(_ tag: String) {
            guard tag.utf8.count <= maxLength, Self.isValidTag(tag) else {
                result.dropped += 1
                return
            }
            guard seen.insert(tag).inserted else { return }
            if result.tags.count < maxCount { result.tags.append(tag) } else { result.dropped += 1 }
        }
        upstream.forEach(add)
        fixed.forEach(add)
        guard let body, !rules.isEmpty, let matches = try? selector.matches(in: body) else { return result }
        for match in matches {
            guard let text = Self.text(of: match, in: body) else { continue }
            add(rules[match.pattern].tag(text))
        }
        return result
    }

    /// A scalar's text: a string unescaped, a number as written, `true` or `false`; `nil` for
    /// `null`, objects and arrays (they make no tag).
    static func text(of match: JSONSelector.Match, in body: UnsafeRawBufferPointer) -> String? {
        switch match.value {
        case .string(let text): text
        case .number: String(decoding: UnsafeRawBufferPointer(rebasing: body[match.range]), as: UTF8.self)
        case .bool(let flag): flag ? "true" : "false"
        case .null, .array, .object: nil
        }
    }
}
