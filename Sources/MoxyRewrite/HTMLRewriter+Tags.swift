// SPDX-License-Identifier: Apache-2.0

extension HTMLRewriter {
    /// How an attribute's value holds URLs.
    enum URLSlot {
        case single  // the whole value (`src`, `poster`, `href`)
        case srcset
        case css  // `url(…)` in a `style` attribute
    }

    /// A tag's closing `>` was read: write it (rewritten) and switch state as its element demands.
    mutating func finishTag(_ scanner: TagScanner, into output: inout [UInt8]) {
        tag = nil
        state = .data
        let element = Element(scanner.name)
        if scanner.isEndTag {
            if element == .template { templateDepth = max(0, templateDepth - 1) }
            if element == .foreign { foreignDepth = max(0, foreignDepth - 1) }
            return
        }
        if scanner.recording {
            writeRewritten(scanner, element, into: &output)
        }
        tagBuffer = []
        switch element {
        case .template:
            templateDepth += 1
        case .foreign:
            if !scanner.selfClosing { foreignDepth += 1 }
        case .plaintext:
            state = .plaintext
        case .style, .rawText:
            // In SVG and MathML a self-closed `<style/>` has no contents.
            guard !(foreignDepth > 0 && scanner.selfClosing) else { break }
            rawTextName = scanner.name
            state = .rawText(isStyle: element == .style)
            css = CSSURLScanner(maxLength: options.maxURLBytes)
        default:
            break
        }
    }

    static let icon = Array("icon".utf8), href = Array("href".utf8)

    /// A start tag's attributes by lower-case name, the first of each name, as browsers read them.
    func firstAttributes(_ scanner: TagScanner) -> [[UInt8]: TagScanner.Attribute] {
        var first: [[UInt8]: TagScanner.Attribute] = [:]
        for attribute in scanner.attributes {
            let name = tagBuffer[attribute.name].map(\.asciiLowercased)
            if first[name] == nil { first[name] = attribute }
        }
        return first
    }

    /// The URL-bearing attributes of a start tag.
    func slots(_ element: Element, _ first: [[UInt8]: TagScanner.Attribute]) -> [(TagScanner.Attribute, URLSlot)] {
        func named(_ name: String) -> TagScanner.Attribute? { first[Array(name.utf8)] }
        var slots: [(TagScanner.Attribute, URLSlot)] = []
        switch element {
        case .img:
            if let src = named("src") { slots.append((src, .single)) }
            if let srcset = named("srcset") { slots.append((srcset, .srcset)) }
        case .source:
            if let srcset = named("srcset") { slots.append((srcset, .srcset)) }
        case .video:
            if let poster = named("poster") { slots.append((poster, .single)) }
        case .link:
            if let rel = named("rel")?.value, let href = named("href"),
                CharacterReferences.decode(tagBuffer[rel]).bytes.split(whereSeparator: \.isHTMLSpace)
                    .contains(where: { $0.map(\.asciiLowercased) == Self.icon })
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
    private mutating func writeRewritten(_ scanner: TagScanner, _ element: Element, into output: inout [UInt8]) {
        guard templateDepth == 0 else {
            output += tagBuffer
            return
        }
        let first = firstAttributes(scanner)
        if element == .base, let href = first[Self.href] {
            policy.setBase(href.value.map { CharacterReferences.decode(tagBuffer[$0]).bytes } ?? [])
        }
        var replacements: [Replacement] = []
        for (attribute, slot) in slots(element, first) {
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
        !url.utf8.contains { byte in
            switch byte {
            case 0x09, 0x0A, 0x0C, 0x0D, 0x20: return true
            case UInt8(ascii: "="), UInt8(ascii: "`"): return unquoted
            case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "'"): return css
            default: return false
            }
        }
    }
}
