// SPDX-License-Identifier: Apache-2.0

public import MoxySigning

/// Rewrites the image URLs of an HTML document into signed Moxy URLs, streaming: bytes in, bytes
/// out, in memory bounded by ``RewriteOptions/maxTagBytes`` whatever the document's size.
///
/// It follows the WHATWG tokenizer where it matters (tags and attributes, quoting, comments,
/// CDATA in SVG and MathML, raw text elements) and rewrites `img[src]`, `img[srcset]`,
/// `source[srcset]`, `video[poster]`, `link[rel~=icon][href]` and CSS `url(…)` in `style`
/// attributes and `<style>` blocks. Every other byte is written as it came: nothing is
/// reformatted, and a document with nothing to rewrite comes out identical. `<script>`,
/// `<textarea>`, comments and `<template>` contents are never touched.
///
/// ```swift
/// var rewriter = HTMLRewriter(signer: signer, options: RewriteOptions(base: "https://img.example.com"))
/// var output: [UInt8] = []
/// rewriter.feed(chunk, into: &output)  // as often as there is input
/// rewriter.finish(into: &output)
/// ```
public struct HTMLRewriter: Sendable {
    /// One URL rewritten: where its value was in the input and what replaced it.
    public struct Rewrite: Sendable, Equatable {
        /// The raw bytes' range in the input (character references included).
        public var inputRange: Range<Int>
        /// The URL as read (references decoded).
        public var original: String
        /// The URL written (before escaping for the attribute).
        public var replacement: String
        /// Whether the value was an attribute's, with character references (not `<style>` text).
        public var inAttribute: Bool
    }

    var policy: URLRewritePolicy
    let options: RewriteOptions
    var state: State = .data
    /// The bytes of the start tag being read, from its `<` (empty for end tags and oversized tags).
    var tagBuffer: [UInt8] = []
    var tagStart = 0
    var tag: TagScanner?
    /// Raw text elements: the end tag being recognised (`</style`), held until it is one or is not.
    /// The name of the raw text element being read (for its end tag).
    var rawTextName: [UInt8] = []
    var probe: [UInt8] = []
    var probeStart = 0
    /// `<style>` contents from where a `url(` may start, held until the token ends.
    var cssHeld: [UInt8] = []
    var cssHeldStart = 0
    var css: CSSURLScanner
    /// The input offset of the next byte.
    var offset = 0
    var templateDepth = 0
    var foreignDepth = 0
    /// With ``recordRewrites``, every URL rewritten so far (for tests and the fuzzer).
    public private(set) var rewrites: [Rewrite] = []
    /// Whether ``rewrites`` is kept (off by default: it grows with the document).
    public var recordRewrites = false

    /// Creates a rewriter.
    /// - Parameters:
    ///   - signer: Signs the new URLs (with ``RewriteOptions/signOptions``).
    ///   - options: What is rewritten and the base of the new URLs.
    public init(signer: URLSigner, options: RewriteOptions) {
        self.policy = URLRewritePolicy(signer: signer, options: options)
        self.options = options
        self.css = CSSURLScanner(maxLength: options.maxURLBytes)
    }

    /// Rewrites the next bytes of the document, appending what can be written so far to `output`.
    public mutating func feed(_ bytes: some Collection<UInt8>, into output: inout [UInt8]) {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { feedBuffer($0, into: &output) }
        if handled == nil {
            let copy = Array(bytes)
            copy.withUnsafeBufferPointer { feedBuffer($0, into: &output) }
        }
    }

    /// Ends the document: whatever is held (an unfinished tag, comment or `url(`) is written unchanged.
    public mutating func finish(into output: inout [UInt8]) {
        if case .tagOpen = state { output.append(UInt8(ascii: "<")) }
        if case .endTagOpen = state { output += [UInt8(ascii: "<"), UInt8(ascii: "/")] }
        output += tagBuffer
        output += cssHeld
        output += probe
        tagBuffer = []
        cssHeld = []
        probe = []
        tag = nil
        state = .data
    }

    /// Rewrites a whole document.
    public static func rewrite(_ html: some Collection<UInt8>, signer: URLSigner, options: RewriteOptions) -> [UInt8] {
        var rewriter = HTMLRewriter(signer: signer, options: options)
        var output: [UInt8] = []
        output.reserveCapacity(html.count + html.count / 8)
        rewriter.feed(html, into: &output)
        rewriter.finish(into: &output)
        return output
    }

    /// The signed Moxy URL for one plain URL (a JSON field that holds an image URL), under the
    /// same policy as URLs in a document: `nil` when the policy leaves it alone (not http(s), a
    /// host not allowed, already a Moxy URL, relative without an `origin`).
    public static func rewriteURL(_ url: String, signer: URLSigner, options: RewriteOptions) -> String? {
        URLRewritePolicy(signer: signer, options: options).rewrite(Array(url.utf8))
    }

    mutating func record(_ range: Range<Int>, _ original: [UInt8], _ replacement: String, inAttribute: Bool) {
        guard recordRewrites else { return }
        rewrites.append(
            Rewrite(
                inputRange: range, original: String(decoding: original, as: UTF8.self), replacement: replacement,
                inAttribute: inAttribute))
    }
}
