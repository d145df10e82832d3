// SPDX-License-Identifier: Apache-2.0

public import MoxyRewrite
public import MoxyValidation

/// A route's rewriting of image URLs inside its JSON answers into signed Moxy URLs: WordPress
/// sends each post's HTML in `content.rendered`, with plain `<img src>` and `srcset` URLs that
/// would otherwise reach the site's own server. Done once per stored answer, after validation.
public struct JSONImageRewrite: Sendable {
    /// String fields that hold HTML (`/content/rendered`, `/*/excerpt/rendered`): their image,
    /// `srcset`, `poster`, CSS `url()` … URLs are rewritten as `moxy rewrite` does in a page.
    public var htmlFields: [JSONPattern]
    /// String fields that are one URL each (`/*/jetpack_featured_media_url`).
    public var urlFields: [JSONPattern]
    /// The policy of `moxy rewrite`: the Moxy base, allowed hosts, only-insecure, the origin
    /// relative URLs resolve against, the key id and expiry.
    public var options: RewriteOptions

    /// Creates the settings.
    public init(htmlFields: [JSONPattern] = [], urlFields: [JSONPattern] = [], options: RewriteOptions = RewriteOptions()) {
        self.htmlFields = htmlFields
        self.urlFields = urlFields
        self.options = options
    }
}
