// SPDX-License-Identifier: Apache-2.0

extension HTMLRewriter {
    /// How an attribute's value holds URLs.
    enum URLSlot {
        case single  // the whole value (`src`, `poster`, `href`)
        case srcset
        case css  // `url(…)` in a `style` attribute
    }

    /// Elements whose contents are raw text: nothing in them is markup (`textarea` and `title`
    /// are RCDATA, which differs only in character references, never rewritten there).
    static let rawTextElements: [[UInt8]] = ["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"]
        .map { Array($0.utf8) }

    /// A tag's closing `>` was read: write it (rewritten) and switch state as its element demands.
    mutating func finishTag(_ scanner: TagScanner, into output: inout [UInt8]) {
        tag = nil
        state = .data
        let name = scanner.name
        if scanner.isEndTag {
            if name == Array("template".utf8) { templateDepth = max(0, templateDepth - 1) }
            if name == Array("svg".utf8) || name == Array("math".utf8) { foreignDepth = max(0, foreignDepth - 1) }
            return
        }
        if scanner.recording {
            writeRewritten(scanner, into: &output)
        }
        tagBuffer = []
        if name == Array("template".utf8) {
            templateDepth += 1
        } else if name == Array("svg".utf8) || name == Array("math".utf8) {
            if !scanner.selfClosing { foreignDepth += 1 }
        } else if name == Array("plaintext".utf8) {
            state = .plaintext
        } else if Self.rawTextElements.contains(name), !(foreignDepth > 0 && scanner.selfClosing) {
            state = .rawText(RawText(name: name, isStyle: name == Array("style".utf8)))
            css = CSSURLScanner(maxLength: options.maxURLBytes)
        }
    }

    /// The URL-bearing attributes of a start tag: the first of each name, as browsers read them.
    func slots(_ scanner: TagScanner) -> [(TagScanner.Attribute, URLSlot)] {
        var first: [[UInt8]: TagScanner.Attribute] = [:]
        for attribute in scanner.attributes {
            let name = tagBuffer[attribute.name].map(\.asciiLowercased)
            if first[name] == nil { first[name] = attribute }
        }
        func named(_ name: String) -> TagScanner.Attribute? { first[Array(name.utf8)] }
        var slots: [(TagScanner.Attribute, URLSlot)] = []
        switch String(decoding: scanner.name, as: UTF8.self) {
        case "img":
            if let src = named("src") { slots.append((src, .single)) }
            if let srcset = named("srcset") { slots.append((srcset, .srcset)) }
        case "source":
            if let srcset = named("srcset") { slots.append((srcset, .srcset)) }
        case "video":
            if let poster = named("poster") { slots.append((poster, .single)) }
        case "link":
            if let rel = named("rel")?.value, let href = named("href"),
                CharacterReferences.decode(tagBuffer[rel]).bytes.split(whereSeparator: \.isHTMLSpace)
                    .contains(where: { $0.map(\.asciiLowercased) == Array("icon".utf8) })
            {
                slots.append((href, .single))
            }
        default:
            break
        }
        if let style = named("style") { slots.append((style, .css)) }
        return slots
    }

    /// Writes the held start tag with its URLs replaced.
    private mutating func writeRewritten(_ scanner: TagScanner, into output: inout [UInt8]) {
        if scanner.name == Array("base".utf8), let href = slotsBase(scanner) {
            policy.setBase(href)
        }
        guard templateDepth == 0 else {
            output += tagBuffer
            return
        }
        var replacements: [Replacement] = []
        for (attribute, slot) in slots(scanner) {
            guard let valueRange = attribute.value, !valueRange.isEmpty else { continue }
            let decoded = CharacterReferences.decode(tagBuffer[valueRange])
            guard !decoded.hasUnknownName else { continue }  // a value this decoder may misread
            let ranges: [Range<Int>]
            switch slot {
            case .single: ranges = [Self.trimmed(decoded.bytes)]
            case .srcset: ranges = Srcset.urlRanges(decoded.bytes)
            case .css: ranges = CSSURLScanner.tokens(in: decoded.bytes, maxLength: options.maxURLBytes).map(\.url)
            }
            for range in ranges where !range.isEmpty {
                let original = Array(decoded.bytes[range])
                guard let url = policy.rewrite(original) else { continue }
                var encoded: [UInt8] = []
                CharacterReferences.encode(url, into: &encoded)
                guard Self.fits(url, unquoted: attribute.quote == nil, css: slot == .css) else { continue }
                let raw = decoded.rawRange(range)
                let inTag = (valueRange.lowerBound + raw.lowerBound)..<(valueRange.lowerBound + raw.upperBound)
                replacements.append(Replacement(range: inTag, bytes: encoded, original: original, url: url))
            }
        }
        var written = 0
        for replacement in replacements.sorted(by: { $0.range.lowerBound < $1.range.lowerBound })
        where replacement.range.lowerBound >= written {
            output += tagBuffer[written..<replacement.range.lowerBound]
            output += replacement.bytes
            written = replacement.range.upperBound
            let range = replacement.range
            record((tagStart + range.lowerBound)..<(tagStart + range.upperBound), replacement.original, replacement.url, inAttribute: true)
        }
        output += tagBuffer[written...]
    }

    private func slotsBase(_ scanner: TagScanner) -> [UInt8]? {
        for attribute in scanner.attributes where tagBuffer[attribute.name].map(\.asciiLowercased) == Array("href".utf8) {
            return attribute.value.map { CharacterReferences.decode(tagBuffer[$0]).bytes } ?? []
        }
        return nil
    }

    /// A URL to write in place of the bytes at `range` of the tag.
    struct Replacement {
        var range: Range<Int>
        var bytes: [UInt8]
        var original: [UInt8]
        var url: String
    }

    /// The range of `bytes` without leading and trailing HTML whitespace.
    static func trimmed(_ bytes: [UInt8]) -> Range<Int> {
        var start = 0, end = bytes.count
        while start < end, bytes[start].isHTMLSpace { start += 1 }
        while end > start, bytes[end - 1].isHTMLSpace { end -= 1 }
        return start..<end
    }

    /// Whether a new URL can stand where the old one was without quoting it: an unquoted
    /// attribute value ends at a space or `>`, and a CSS URL at a quote, parenthesis or space.
    static func fits(_ url: String, unquoted: Bool, css: Bool) -> Bool {
        !url.utf8.contains {
            $0.isHTMLSpace || (unquoted && ($0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "`")))
                || (css && Array("()\\\"'".utf8).contains($0))
        }
    }
}
