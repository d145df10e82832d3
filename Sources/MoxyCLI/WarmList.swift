// SPDX-License-Identifier: Apache-2.0

import MoxyRewrite
import MoxySigning

/// What `moxy warm` requests: the URLs of a list (one a line, `#` comments) or a sitemap, each
/// turned into a URL under the Moxy base. Pure functions, tested without a network.
enum WarmList {
    /// The URLs in a file: a sitemap's `<loc>` and `<image:loc>` values, or its non-empty lines.
    static func entries(_ bytes: [UInt8]) throws -> [String] {
        let text = String(decoding: bytes, as: UTF8.self)
        let start = text.drop { $0.isWhitespace || $0 == "\u{FEFF}" }
        if start.hasPrefix("<") {
            if text.contains("<sitemapindex") {
                throw CLIFailure("this is a sitemap index: it lists sitemaps, not pages; warm each sitemap it names")
            }
            return locations(start)
        }
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingWhitespace() }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    /// The `<loc>` values of a sitemap (``SitemapReader``).
    static func locations(_ xml: Substring) -> [String] { SitemapReader.locations(xml) }

    /// The URL to request for one entry: a Moxy path or URL goes under `base` as it is; a plain
    /// URL is signed with `signer`, or with `routePaths` its path and query go under `base`.
    static func requestURL(_ entry: String, base: String, signer: () throws -> URLSigner, routePaths: Bool) throws -> String {
        if entry.hasPrefix("/") { return base + entry }
        let lower = entry.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            throw CLIFailure("not an http(s) URL or a path")
        }
        let afterScheme = entry[entry.index(entry.startIndex, offsetBy: lower.hasPrefix("https") ? 8 : 7)...]
        let path = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }).map { afterScheme[$0...] } ?? "/"
        if routePaths || URLSigner.hasSignedShape(path) { return base + (path.hasPrefix("?") ? "/" + path : path) }
        do {
            return base + (try signer().sign(entry))
        } catch let error as SigningError {
            throw CLIFailure(error.message)
        }
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
