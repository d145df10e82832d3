// SPDX-License-Identifier: Apache-2.0

/// The attribute states of the WHATWG tokenizer for one tag, fed the bytes after its name starts.
/// It records each attribute's name and value as ranges of the tag's bytes (when it holds them).
struct TagScanner: Sendable {
    enum Phase: Sendable {
        case name, beforeAttributeName, attributeName, afterAttributeName, beforeAttributeValue
        case doubleQuoted, singleQuoted, unquoted, afterQuotedValue, selfClosing
    }

    /// One attribute: ranges in the tag's bytes (starting at its `<`).
    struct Attribute: Sendable {
        var name: Range<Int>
        var value: Range<Int>?
        var quote: UInt8?
    }

    let isEndTag: Bool
    private(set) var phase: Phase = .name
    /// The tag name, lower case, at most 16 bytes (enough for every name the rewriter acts on).
    private(set) var name: [UInt8] = []
    private(set) var attributes: [Attribute] = []
    private(set) var selfClosing = false
    /// Set when the tag outgrew the buffer: attributes are no longer recorded.
    var recording = true

    init(isEndTag: Bool, firstNameByte: UInt8) {
        self.isEndTag = isEndTag
        name.append(firstNameByte.asciiLowercased)
    }

    /// Feeds the byte at `offset` of the tag; returns true when it was the closing `>`.
    mutating func feed(_ byte: UInt8, at offset: Int) -> Bool {
        switch phase {
        case .name:
            if byte.isHTMLSpace {
                phase = .beforeAttributeName
            } else if byte == UInt8(ascii: "/") {
                phase = .selfClosing
            } else if byte == UInt8(ascii: ">") {
                return true
            } else if name.count < 16 {
                name.append(byte.asciiLowercased)
            } else {
                name = Array("(long)".utf8)  // no name the rewriter knows is this long
            }
        case .beforeAttributeName:
            return beforeAttributeName(byte, at: offset)
        case .attributeName:
            if byte.isHTMLSpace {
                phase = .afterAttributeName
            } else if byte == UInt8(ascii: "/") {
                phase = .selfClosing
            } else if byte == UInt8(ascii: "=") {
                phase = .beforeAttributeValue
            } else if byte == UInt8(ascii: ">") {
                return true
            } else {
                extendName(to: offset + 1)
            }
        case .afterAttributeName:
            if byte.isHTMLSpace { break }
            if byte == UInt8(ascii: "=") {
                phase = .beforeAttributeValue
            } else {
                return beforeAttributeName(byte, at: offset)
            }
        case .beforeAttributeValue:
            if byte.isHTMLSpace { break }
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                phase = byte == UInt8(ascii: "\"") ? .doubleQuoted : .singleQuoted
                setValue(start: offset + 1, quote: byte)
            } else if byte == UInt8(ascii: ">") {
                return true
            } else {
                phase = .unquoted
                setValue(start: offset, quote: nil)
                extendValue(to: offset + 1)
            }
        case .doubleQuoted, .singleQuoted:
            if byte == (phase == .doubleQuoted ? UInt8(ascii: "\"") : UInt8(ascii: "'")) {
                phase = .afterQuotedValue
            } else {
                extendValue(to: offset + 1)
            }
        case .unquoted:
            if byte.isHTMLSpace {
                phase = .beforeAttributeName
            } else if byte == UInt8(ascii: ">") {
                return true
            } else {
                extendValue(to: offset + 1)
            }
        case .afterQuotedValue:
            // A byte right after the quote starts the next name, as after a space (a parse error).
            return beforeAttributeName(byte, at: offset)
        case .selfClosing:
            if byte == UInt8(ascii: ">") {
                selfClosing = true
                return true
            }
            return beforeAttributeName(byte, at: offset)
        }
        return false
    }

    private mutating func beforeAttributeName(_ byte: UInt8, at offset: Int) -> Bool {
        if byte.isHTMLSpace {
            phase = .beforeAttributeName
        } else if byte == UInt8(ascii: "/") {
            phase = .selfClosing
        } else if byte == UInt8(ascii: ">") {
            return true
        } else {
            // Any other byte starts a name, `=` included (a parse error that browsers accept).
            phase = .attributeName
            if recording && !isEndTag { attributes.append(Attribute(name: offset..<(offset + 1))) }
        }
        return false
    }

    private mutating func extendName(to end: Int) {
        guard recording, !isEndTag, !attributes.isEmpty else { return }
        attributes[attributes.count - 1].name = attributes[attributes.count - 1].name.lowerBound..<end
    }

    private mutating func setValue(start: Int, quote: UInt8?) {
        guard recording, !isEndTag, !attributes.isEmpty else { return }
        attributes[attributes.count - 1].value = start..<start
        attributes[attributes.count - 1].quote = quote
    }

    private mutating func extendValue(to end: Int) {
        guard recording, !isEndTag, !attributes.isEmpty, let value = attributes[attributes.count - 1].value else { return }
        attributes[attributes.count - 1].value = value.lowerBound..<end
    }
}

extension TagScanner.Attribute {
    init(name: Range<Int>) {
        self.name = name
        self.value = nil
        self.quote = nil
    }
}
