// SPDX-License-Identifier: Apache-2.0

import MoxySigning

/// Decides whether one URL found in a document is rewritten, and into what: a pure function of the
/// URL, the options and the document's base URL so far.
struct URLRewritePolicy: Sendable {
    let signer: URLSigner
    let options: RewriteOptions
    let globs: [HostGlob]
    /// `base/`: URLs starting with it are already rewritten.
    let basePrefix: String
    /// The URL relative references resolve against: `--origin`, then the first `<base href>`.
    private(set) var documentBase: URLReference?
    private var sawBase = false

    init(signer: URLSigner, options: RewriteOptions) {
        self.signer = signer
        self.options = options
        self.globs = options.allowHosts.map(HostGlob.init)
        self.basePrefix = options.base + "/"
        self.documentBase = options.origin.map(URLReference.init).flatMap { Self.isHTTP($0) ? $0 : nil }
    }

    static func isHTTP(_ url: URLReference) -> Bool {
        (url.scheme == "http" || url.scheme == "https") && !(url.host ?? "").isEmpty
    }

    /// A `<base href>`: the first one sets the base URL (resolved against the origin), as in browsers.
    mutating func setBase(_ href: [UInt8]) {
        guard !sawBase else { return }
        sawBase = true
        let reference = URLReference(Self.cleaned(href))
        let resolved = documentBase.map { reference.resolved(against: $0) } ?? reference
        if Self.isHTTP(resolved) { documentBase = resolved }
    }

    /// The signed URL to write instead of `value` (a decoded attribute value or CSS URL), or `nil`
    /// to leave it alone.
    func rewrite(_ value: [UInt8]) -> String? {
        let text = Self.cleaned(value)
        guard !text.isEmpty else { return nil }
        if !options.base.isEmpty, text.utf8.starts(with: basePrefix.utf8) { return nil }  // already rewritten
        if text.utf8.first == UInt8(ascii: "#") { return nil }  // the document itself: an SVG gradient or filter
        var url = URLReference(text)
        if isSigned(url.path) { return nil }  // a Moxy URL under another base (a CDN's) or a bare path
        if url.scheme == nil {
            if url.authority != nil && documentBase == nil {
                url.scheme = "https"  // a protocol-relative URL on an https page, where Moxy URLs are used
            } else {
                guard let base = documentBase else { return nil }
                url = url.resolved(against: base)
            }
        }
        guard Self.isHTTP(url), let host = url.host else { return nil }  // data:, blob:, cid:, mailto:, …
        if options.onlyInsecure && url.scheme != "http" { return nil }
        if !globs.isEmpty {
            let hostBytes = Array(host.utf8)
            guard globs.contains(where: { $0.matches(hostBytes) }) else { return nil }
        }
        // The fragment never reaches a server; it stays on the new URL (an SVG sprite's `#icon`).
        let fragment = url.fragment
        url.fragment = nil
        guard let path = try? signer.sign(url.text, options: options.signOptions) else { return nil }
        return options.base + path + (fragment.map { "#" + $0 } ?? "")
    }

    /// Whether a path is a Moxy path this signer made (one HMAC, only for paths of that shape).
    func isSigned(_ path: String) -> Bool {
        // Expiry is not the question here (now: 0): an expired Moxy URL is still not a target.
        URLSigner.hasSignedShape(path) && (try? signer.verify(path: path, now: 0)) != nil
    }

    /// A URL as a browser reads it: leading and trailing spaces and controls dropped, tabs and
    /// newlines removed, other spaces and controls percent-encoded (WHATWG URL parsing).
    static func cleaned(_ value: [UInt8]) -> String {
        var start = 0, end = value.count
        while start < end, value[start] <= 0x20 { start += 1 }
        while end > start, value[end - 1] <= 0x20 { end -= 1 }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(end - start)
        for byte in value[start..<end] {
            switch byte {
            case 0x09, 0x0A, 0x0D: continue
            case 0...0x20, 0x7F:
                let hex = Array("0123456789ABCDEF".utf8)
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
