// SPDX-License-Identifier: Apache-2.0

/// Reads the page URLs of a sitemap (`moxy warm`): the text of every element whose name is `loc`
/// or ends in `:loc` (`<image:loc>`), character references decoded (XML's are a subset of
/// HTML's), surrounding whitespace dropped. A scan, not an XML parser: a sitemap too broken for
/// one still gives what it holds, and nothing in it is executed or fetched.
public enum SitemapReader {
    /// The `<loc>` values, in document order.
    /// - Parameter xml: The sitemap's text.
    /// - Returns: The non-empty values.
    public static func locations(_ xml: Substring) -> [String] {
        var found: [String] = []
        var rest = xml[...]
        while let open = rest.firstIndex(of: "<") {
            rest = rest[rest.index(after: open)...]
            guard let close = rest.firstIndex(of: ">") else { break }
            let name = rest[..<close]
            rest = rest[rest.index(after: close)...]
            guard name == "loc" || name.hasSuffix(":loc") else { continue }
            let end = rest.firstIndex(of: "<") ?? rest.endIndex
            let value = trimmed(CharacterReferences.decoded(rest[..<end]))
            if !value.isEmpty { found.append(value) }
            rest = rest[end...]
        }
        return found
    }

    private static func trimmed(_ text: some StringProtocol) -> String {
        String(text.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
