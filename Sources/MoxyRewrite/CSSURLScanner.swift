// SPDX-License-Identifier: Apache-2.0

/// Finds `url(…)` tokens in CSS, fed one byte at a time with its offset, so that a `<style>` block
/// can be streamed and a `style` attribute scanned whole with the same rules.
///
/// It skips comments and strings (a `url(` inside either is text), requires `url` to start an
/// identifier (not `myurl(`), and reports the URL between the optional quotes. A URL with a
/// backslash escape, a newline in a string, or more than `maxLength` bytes is not reported.
struct CSSURLScanner: Sendable {
    enum State: Sendable, Equatable {
        case normal
        case slash  // a `/` that may open a comment
        case comment
        case commentStar
        case string(quote: UInt8, escaped: Bool)
        case identifier  // inside an identifier that is not `url`
        case matching(count: Int)  // matched the first `count` bytes of `url(`
        case beforeURL
        case quoted(quote: UInt8)
        case unquoted
        case afterURL
    }

    /// A `url(…)` found: where the token starts and where its URL lies (input offsets).
    struct Token: Sendable, Equatable {
        var start: Int
        var url: Range<Int>
    }

    private(set) var state: State = .normal
    /// Where the token being matched started: nothing before it can still change.
    private(set) var tokenStart: Int?
    private var urlStart = 0
    private var urlEnd = 0
    let maxLength: Int

    init(maxLength: Int) { self.maxLength = maxLength }

    static let keyword = Array("url(".utf8)

    /// Feeds one byte; returns a token when this byte closes one.
    mutating func feed(_ byte: UInt8, at offset: Int) -> Token? {
        switch state {
        case .normal:
            start(byte, at: offset)
        case .identifier:
            if !byte.isCSSNameByte { start(byte, at: offset) }
        case .slash:
            if byte == UInt8(ascii: "*") { state = .comment } else { start(byte, at: offset) }
        case .comment:
            if byte == UInt8(ascii: "*") { state = .commentStar }
        case .commentStar:
            state = byte == UInt8(ascii: "/") ? .normal : (byte == UInt8(ascii: "*") ? .commentStar : .comment)
        case .string(let quote, let escaped):
            if escaped {
                state = .string(quote: quote, escaped: false)
            } else if byte == UInt8(ascii: "\\") {
                state = .string(quote: quote, escaped: true)
            } else if byte == quote || byte == 0x0A {
                state = .normal
            }
        case .matching(let count):
            let expected = Self.keyword[count]
            if byte.asciiLowercased == expected {
                state = count == 3 ? .beforeURL : .matching(count: count + 1)
            } else {
                tokenStart = nil
                if byte.isCSSNameByte {
                    state = .identifier
                } else {
                    start(byte, at: offset)
                }
            }
        case .beforeURL:
            if byte.isHTMLSpace { break }
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                state = .quoted(quote: byte)
                urlStart = offset + 1
            } else if byte == UInt8(ascii: ")") {
                abandon()  // `url()`: nothing to rewrite
            } else {
                state = .unquoted
                urlStart = offset
                return checkUnquoted(byte, at: offset)
            }
        case .quoted(let quote):
            if byte == quote {
                urlEnd = offset
                state = .afterURL
            } else if byte == UInt8(ascii: "\\") || byte == 0x0A || offset - urlStart >= maxLength {
                abandon()
            }
        case .unquoted:
            return checkUnquoted(byte, at: offset)
        case .afterURL:
            if byte.isHTMLSpace { break }
            return finish(byte)
        }
        return nil
    }

    private mutating func checkUnquoted(_ byte: UInt8, at offset: Int) -> Token? {
        if byte.isHTMLSpace {
            urlEnd = offset
            state = .afterURL
        } else if byte == UInt8(ascii: ")") {
            urlEnd = offset
            return finish(byte)
        } else if byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
            || byte == UInt8(ascii: "(") || offset - urlStart >= maxLength
        {
            abandon()
        }
        return nil
    }

    private mutating func finish(_ byte: UInt8) -> Token? {
        defer { abandon() }
        guard byte == UInt8(ascii: ")"), let tokenStart, urlEnd > urlStart else { return nil }
        return Token(start: tokenStart, url: urlStart..<urlEnd)
    }

    private mutating func abandon() {
        state = .normal
        tokenStart = nil
    }

    /// The `normal` state's transitions.
    private mutating func start(_ byte: UInt8, at offset: Int) {
        tokenStart = nil
        switch byte {
        case UInt8(ascii: "/"): state = .slash
        case UInt8(ascii: "\""), UInt8(ascii: "'"): state = .string(quote: byte, escaped: false)
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            state = .matching(count: 1)
            tokenStart = offset
        default:
            state = byte.isCSSNameByte ? .identifier : .normal
        }
    }

    /// Every `url(…)` in a complete piece of CSS (a `style` attribute).
    static func tokens(in css: [UInt8], maxLength: Int) -> [Token] {
        var scanner = CSSURLScanner(maxLength: maxLength)
        var tokens: [Token] = []
        for (offset, byte) in css.enumerated() {
            if let token = scanner.feed(byte, at: offset) { tokens.append(token) }
        }
        return tokens
    }
}

extension UInt8 {
    /// A byte that continues a CSS identifier (so `url` after it is not a function name).
    var isCSSNameByte: Bool {
        isASCIIAlphanumeric || self == UInt8(ascii: "-") || self == UInt8(ascii: "_") || self >= 0x80
            || self == UInt8(ascii: "\\")
    }
}
