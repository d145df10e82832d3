// SPDX-License-Identifier: Apache-2.0

extension HTMLRewriter {
    /// The tokenizer states the rewriter tells apart (WHATWG §13.2.5, merged where the difference
    /// never changes which bytes are URLs).
    enum State: Sendable, Equatable {
        case data
        case tagOpen  // after `<`
        case endTagOpen  // after `</`
        case tag  // inside a start or end tag (see `TagScanner`)
        case declarationStart  // after `<!`
        case declarationDash  // after `<!-`
        case declarationCDATA(matched: Int)  // `<![CDATA[` in SVG or MathML
        case comment(CommentPhase)
        case bogusComment  // `<?…>`, `<!DOCTYPE …>`, `</ …>`: to the next `>`
        case cdata(brackets: Int)
        /// Contents of script, style, textarea, title, xmp, iframe, noembed, noframes (the name is
        /// in `rawTextName`, out of the state so that reading a byte retains nothing).
        case rawText(isStyle: Bool)
        case plaintext
    }

    /// The comment states (WHATWG "comment start" to "comment end bang").
    enum CommentPhase: Sendable, Equatable {
        case start, startDash, body, endDash, end, endBang
    }

    mutating func feedBuffer(_ buffer: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        var index = 0
        while index < buffer.count {
            switch state {
            case .data:
                // Text runs are copied whole: the common case, and the only one on large documents.
                let run = Self.run(buffer, from: index)
                output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[index..<run]))
                offset += run - index
                index = run
                if index < buffer.count {
                    state = .tagOpen
                    index += 1
                    offset += 1
                }
                continue
            case .plaintext:
                output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[index...]))
                offset += buffer.count - index
                return
            case .rawText(let isStyle) where probe.isEmpty && (!isStyle || templateDepth > 0):
                let run = Self.run(buffer, from: index)
                output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[index..<run]))
                offset += run - index
                index = run
                if index < buffer.count {
                    probe = [UInt8(ascii: "<")]
                    probeStart = offset
                    index += 1
                    offset += 1
                }
                continue
            default:
                step(buffer[index], into: &output)
                index += 1
                offset += 1
            }
        }
    }

    static let cdataOpen = Array("[CDATA[".utf8)

    /// The end of the run of bytes from `start` that holds no `<`.
    static func run(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var end = start
        while end < buffer.count, buffer[end] != UInt8(ascii: "<") { end += 1 }
        return end
    }

    /// One byte in any state but text: `offset` is its offset in the input.
    mutating func step(_ byte: UInt8, into output: inout [UInt8]) {
        switch state {
        case .data:
            if byte == UInt8(ascii: "<") { state = .tagOpen } else { output.append(byte) }
        case .tagOpen:
            tagOpen(byte, into: &output)
        case .endTagOpen:
            if byte.isASCIILetter {
                output += [UInt8(ascii: "<"), UInt8(ascii: "/"), byte]
                tag = TagScanner(isEndTag: true, firstNameByte: byte)
                state = .tag
            } else {
                output += [UInt8(ascii: "<"), UInt8(ascii: "/"), byte]
                state = byte == UInt8(ascii: ">") ? .data : .bogusComment
            }
        case .tag:
            tagByte(byte, into: &output)
        case .declarationStart:
            output.append(byte)
            if byte == UInt8(ascii: "-") {
                state = .declarationDash
            } else if byte == UInt8(ascii: "[") && foreignDepth > 0 {
                state = .declarationCDATA(matched: 1)
            } else {
                state = byte == UInt8(ascii: ">") ? .data : .bogusComment
            }
        case .declarationDash:
            output.append(byte)
            state = byte == UInt8(ascii: "-") ? .comment(.start) : (byte == UInt8(ascii: ">") ? .data : .bogusComment)
        case .declarationCDATA(let matched):
            output.append(byte)
            if byte == Self.cdataOpen[matched] {
                state = matched == 6 ? .cdata(brackets: 0) : .declarationCDATA(matched: matched + 1)
            } else {
                state = byte == UInt8(ascii: ">") ? .data : .bogusComment
            }
        case .comment(let phase):
            output.append(byte)
            state = Self.comment(phase, byte)
        case .bogusComment:
            output.append(byte)
            if byte == UInt8(ascii: ">") { state = .data }
        case .cdata(let brackets):
            output.append(byte)
            if byte == UInt8(ascii: "]") {
                state = .cdata(brackets: min(brackets + 1, 2))
            } else {
                state = byte == UInt8(ascii: ">") && brackets == 2 ? .data : .cdata(brackets: 0)
            }
        case .rawText(let isStyle):
            rawTextByte(byte, isStyle: isStyle, into: &output)
        case .plaintext:
            output.append(byte)
        }
    }

    private mutating func tagOpen(_ byte: UInt8, into output: inout [UInt8]) {
        if byte.isASCIILetter {
            tagStart = offset - 1
            tagBuffer = [UInt8(ascii: "<"), byte]
            tag = TagScanner(isEndTag: false, firstNameByte: byte)
            state = .tag
        } else if byte == UInt8(ascii: "/") {
            state = .endTagOpen
        } else if byte == UInt8(ascii: "!") {
            output += [UInt8(ascii: "<"), byte]
            state = .declarationStart
        } else if byte == UInt8(ascii: "?") {
            output += [UInt8(ascii: "<"), byte]
            state = .bogusComment
        } else {
            output.append(UInt8(ascii: "<"))
            state = .data
            step(byte, into: &output)  // `<<`: the second may open a tag
        }
    }

    private mutating func tagByte(_ byte: UInt8, into output: inout [UInt8]) {
        // Taken out while it changes, so that its arrays are not copied for every byte.
        guard var scanner = tag else { return }
        tag = nil
        let done: Bool
        if scanner.recording && !scanner.isEndTag {
            tagBuffer.append(byte)
            done = scanner.feed(byte, at: tagBuffer.count - 1)
            if !done && tagBuffer.count > options.maxTagBytes {
                // Too long to hold: written as it is, and its attributes are not rewritten.
                output += tagBuffer
                tagBuffer = []
                scanner.recording = false
            }
        } else {
            output.append(byte)
            done = scanner.feed(byte, at: 0)
        }
        tag = scanner
        if done { finishTag(scanner, into: &output) }
    }

    static func comment(_ phase: CommentPhase, _ byte: UInt8) -> State {
        let dash = byte == UInt8(ascii: "-"), close = byte == UInt8(ascii: ">")
        switch phase {
        case .start: return dash ? .comment(.startDash) : (close ? .data : .comment(.body))
        case .startDash: return dash ? .comment(.end) : (close ? .data : .comment(.body))
        case .body: return dash ? .comment(.endDash) : .comment(.body)
        case .endDash: return dash ? .comment(.end) : .comment(.body)
        case .end:
            if close { return .data }
            if byte == UInt8(ascii: "!") { return .comment(.endBang) }
            return dash ? .comment(.end) : .comment(.body)
        case .endBang: return dash ? .comment(.endDash) : (close ? .data : .comment(.body))
        }
    }
}
