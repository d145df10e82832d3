// SPDX-License-Identifier: Apache-2.0

extension HTMLRewriter {
    /// A byte of a raw text element's contents, or of the end tag that may close it.
    mutating func rawTextByte(_ byte: UInt8, isStyle: Bool, into output: inout [UInt8]) {
        guard !probe.isEmpty else {
            if byte == UInt8(ascii: "<") {
                probe = [byte]
                probeStart = offset
            } else {
                content(byte, at: offset, isStyle: isStyle, into: &output)
            }
            return
        }
        let matched = probe.count - 2  // bytes of the name matched after `</`
        if probe.count == 1 ? byte == UInt8(ascii: "/") : (matched < rawTextName.count && byte.asciiLowercased == rawTextName[matched]) {
            probe.append(byte)
            return
        }
        if matched == rawTextName.count && (byte.isHTMLSpace || byte == UInt8(ascii: "/") || byte == UInt8(ascii: ">")) {
            // The end tag: what CSS is held goes out unchanged, then the tag is read as any end tag.
            output += cssHeld
            cssHeld = []
            output += probe
            var scanner = TagScanner(isEndTag: true, firstNameByte: probe[2])
            for (index, nameByte) in probe.dropFirst(3).enumerated() { _ = scanner.feed(nameByte, at: index) }
            probe = []
            tag = scanner
            state = .tag
            step(byte, into: &output)
            return
        }
        // Not the end tag: the held bytes are contents after all, and this byte is read again.
        let held = probe, heldStart = probeStart
        probe = []
        for (index, heldByte) in held.enumerated() { content(heldByte, at: heldStart + index, isStyle: isStyle, into: &output) }
        rawTextByte(byte, isStyle: isStyle, into: &output)
    }

    /// A byte of contents: copied, or, in `<style>`, read for `url(…)`.
    private mutating func content(_ byte: UInt8, at position: Int, isStyle: Bool, into output: inout [UInt8]) {
        guard isStyle && templateDepth == 0 else {
            output.append(byte)
            return
        }
        if let token = css.feed(byte, at: position) {
            cssHeld.append(byte)
            let url = (token.url.lowerBound - cssHeldStart)..<(token.url.upperBound - cssHeldStart)
            let original = Array(cssHeld[url])
            if let replacement = policy.rewrite(original), Self.fits(replacement, unquoted: false, css: true) {
                output += cssHeld[..<url.lowerBound]
                output += Array(replacement.utf8)
                output += cssHeld[url.upperBound...]
                record(token.url, original, replacement, inAttribute: false)
            } else {
                output += cssHeld
            }
            cssHeld = []
        } else if let start = css.tokenStart {
            if cssHeld.isEmpty || start != cssHeldStart {
                output += cssHeld
                cssHeld = []
                cssHeldStart = start
            }
            cssHeld.append(byte)
            if cssHeld.count > options.maxURLBytes + 256 {
                // Only spacing can make a token this long before its URL: it is not reported
                // (and no longer held), but still read to its end.
                output += cssHeld
                cssHeld = []
                css.forgetToken()
            }
        } else {
            output += cssHeld
            cssHeld = []
            output.append(byte)
        }
    }
}
