// SPDX-License-Identifier: Apache-2.0

public import MoxySigning

/// What an ``HTMLRewriter`` rewrites and how it writes the new URLs.
public struct RewriteOptions: Sendable {
    /// The Moxy base the signed paths are appended to, e.g. `https://img.example.com`; empty for
    /// bare paths (`/<sig>/…`, for a Moxy on the page's own host). URLs already under it are left alone.
    public var base: String
    /// Rewrite only `http:` URLs (mixed content), leaving `https:` ones as they are.
    public var onlyInsecure: Bool
    /// Host globs (`*.example.com`, `cdn.example.org`); when not empty a URL's host must match one.
    public var allowHosts: [String]
    /// The document's own URL, against which relative URLs (and a relative `<base href>`) resolve;
    /// without it relative URLs are left alone.
    public var origin: String?
    /// Key id and expiry of the signed URLs.
    public var signOptions: SignOptions
    /// The longest start tag held to be rewritten; a longer one passes through unchanged, so memory
    /// stays bounded whatever the input.
    public var maxTagBytes: Int
    /// The longest CSS `url(…)` held to be rewritten; a longer one passes through unchanged.
    public var maxURLBytes: Int

    /// Creates options; by default every absolute http(s) URL is rewritten into a bare path.
    public init(
        base: String = "", onlyInsecure: Bool = false, allowHosts: [String] = [], origin: String? = nil,
        signOptions: SignOptions = SignOptions(), maxTagBytes: Int = 256 * 1024, maxURLBytes: Int = 16 * 1024
    ) {
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.onlyInsecure = onlyInsecure
        self.allowHosts = allowHosts
        self.origin = origin
        self.signOptions = signOptions
        self.maxTagBytes = maxTagBytes
        self.maxURLBytes = maxURLBytes
    }
}
