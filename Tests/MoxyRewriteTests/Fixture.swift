// SPDX-License-Identifier: Apache-2.0

import MoxyRewrite
import MoxySigning

/// A signer, a base, and pages written as pieces: text stays, URLs are expected to become signed
/// URLs, so each test states the whole expected output byte for byte, independently of the rewriter.
enum Fixture {
    static let signer = try! URLSigner(keys: [SigningKey(id: "default", secret: "rewrite-secret")])
    static let base = "https://img.example.com"

    /// One piece of a page.
    enum Piece: ExpressibleByStringLiteral {
        /// Bytes that must come out as they went in.
        case text(String)
        /// A URL value as written in the page, and the target it must be signed as.
        case url(String, target: String)

        init(stringLiteral value: String) { self = .text(value) }
    }

    /// The signed URL for a target (a fragment stays outside the signature, on the new URL).
    static func signed(_ target: String, options: SignOptions = SignOptions()) -> String {
        let hash = target.firstIndex(of: "#")
        let path = try! signer.sign(String(target[..<(hash ?? target.endIndex)]), options: options)
        return base + path + (hash.map { String(target[$0...]) } ?? "")
    }

    static func rewrite(_ html: String, _ options: RewriteOptions = RewriteOptions(base: base)) -> String {
        String(decoding: HTMLRewriter.rewrite(Array(html.utf8), signer: signer, options: options), as: UTF8.self)
    }

    /// The page as input, and as it must come out.
    static func page(_ pieces: [Piece]) -> (input: String, expected: String) {
        var input = "", expected = ""
        for piece in pieces {
            switch piece {
            case .text(let text):
                input += text
                expected += text
            case .url(let raw, let target):
                input += raw
                expected += signed(target)
            }
        }
        return (input, expected)
    }
}
