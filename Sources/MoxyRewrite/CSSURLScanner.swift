// SPDX-License-Identifier: Apache-2.0

/// Finds `url(…)` tokens in CSS, fed one byte at a time with its offset, so that a `<style>` block
/// can be streamed and a `style` attribute scanned whole with the same rules.
///
/// It skips comments and strings (a `url(` inside either is text), requires `url` to start an
/// identifier (not `myurl(`), and reports the URL between the optional quotes. A URL with a
/// backslash escape or more than `maxLength` bytes, or a bad URL token, is read to its end like
/// any other but not reported: how the bytes after it are read never depends on a URL's length,
/// so a rewritten document reads the same as the original.
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
        case quoted(quote: UInt8, escaped: Bool)
        case unquoted(escaped: Bool)
        case afterURL
        case badURL(escaped: Bool)  // CSS's bad-url token: everything up to `)`
    }

    /// A `url(…)` found: where the token starts and where its URL lies (input offsets).
    struct Token: Sendable, Equatable {
        var start: Int
        var url: Range<Int>
    }

    private(set) var state: State = .normal
    /// Where the token being read started, while it may still be reported: nothing before it can
    /// still change, and without it no bytes need holding.
    private(set) var tokenStart: Int?
    private var urlStart = 0
    private var urlEnd = 0
    let maxLength: Int

    init(maxLength: Int) { self.maxLength = maxLength }

    static let keyword = Array("url(".utf8)

    /// The token being read will not be reported (the caller stops holding its bytes); it is
    /// still read to its end.
    mutating func forgetToken() { tokenStart = nil }

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
            if byte.asciiLowercased == Self.keyword[count] {
                state = count == 3 ? .beforeURL : .matching(count: count + 1)
                urlStart = offset + 1
                urlEnd = offset + 1
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
                state = .quoted(quote: byte, escaped: false)
                urlStart = offset + 1
            } else if byte == UInt8(ascii: ")") {
                return finish(at: offset)  // `url()`: nothing to report
            } else {
                urlStart = offset
                return unquoted(byte, escaped: false, at: offset)
            }
        case .quoted(let quote, let escaped):
            if escaped {
                state = .quoted(quote: quote, escaped: false)
            } else if byte == quote {
                urlEnd = offset
                state = .afterURL
            } else if byte == UInt8(ascii: "\\") {
                tokenStart = nil
                state = .quoted(quote: quote, escaped: true)
            } else if byte == 0x0A {
                tokenStart = nil
                state = .badURL(escaped: false)
            } else if offset - urlStart >= maxLength {
                tokenStart = nil
            }
        case .unquoted(let escaped):
            return unquoted(byte, escaped: escaped, at: offset)
        case .afterURL:
            if byte.isHTMLSpace { break }
            if byte == UInt8(ascii: ")") { return finish(at: offset) }
            tokenStart = nil
            state = .badURL(escaped: false)
        case .badURL(let escaped):
            if escaped {
                state = .badURL(escaped: false)
            } else if byte == UInt8(ascii: "\\") {
                state = .badURL(escaped: true)
            } else if byte == UInt8(ascii: ")") {
                state = .normal
            }
        }
        return nil
    }

    private mutating func unquoted(_ byte: UInt8, escaped: Bool, at offset: Int) -> Token? {
        state = .unquoted(escaped: false)
        if escaped { return nil }
        if byte.isHTMLSpace {
            urlEnd = offset
            state = .afterURL
        } else if byte == UInt8(ascii: ")") {
            urlEnd = offset
            return finish(at: offset)
        } else if byte == UInt8(ascii: "\\") {
            tokenStart = nil
            state = .unquoted(escaped: true)
        } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") || byte == UInt8(ascii: "(") {
            tokenStart = nil
            state = .badURL(escaped: false)
        } else if offset - urlStart >= maxLength {
            tokenStart = nil
        }
        return nil
    }

    /// The `)` that closes a token.
    private mutating func finish(at offset: Int) -> Token? {
        defer {
            state = .normal
            tokenStart = nil
        }
        guard let tokenStart, urlEnd > urlStart else { return nil }
        return Token(start: tokenStart, url: urlStart..<urlEnd)
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
