// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxyHTTP
import MoxyRewrite
import MoxySigning
import MoxyValidation
import NIOCore

/// What a route does to an answer it is about to store, once per fetch and never per hit: its
/// tags (the upstream's, the route's fixed ones and those read from the JSON body) and the image
/// URLs inside the JSON rewritten into signed Moxy URLs. Runs after validation, so it only ever
/// sees answers that pass the route's rules.
final class BodyTransform: Sendable {
    /// The route's tag rules, if it has any.
    let tags: BodyTagRules?
    /// The image rewriting, its patterns ready to walk a body, and the key that signs.
    private let images: Images?

    struct Images: Sendable {
        let options: RewriteOptions
        /// The HTML fields first, then the URL fields: a match's pattern index says which it is.
        let selector: JSONSelector
        let htmlCount: Int
        let signer: URLSigner
    }

    /// The transform of a route, or `nil` when it has nothing to do.
    /// - Parameters:
    ///   - route: The route.
    ///   - signer: The signing keys (image rewriting needs them; the settings refuse a route that
    ///     rewrites without keys).
    init?(route: RouteConfiguration, signer: URLSigner?) {
        tags = route.tags
        if let rewrite = route.jsonImages, let signer, !(rewrite.htmlFields.isEmpty && rewrite.urlFields.isEmpty) {
            images = Images(
                options: rewrite.options, selector: JSONSelector(rewrite.htmlFields + rewrite.urlFields),
                htmlCount: rewrite.htmlFields.count, signer: signer)
        } else {
            images = nil
        }
        if tags == nil && images == nil { return nil }
    }

    /// What the transform made of one answer.
    struct Outcome {
        /// The body to store (the same buffer when nothing was rewritten).
        var body: ByteBuffer
        /// The entry's tags.
        var tags: [String]
        /// Tags dropped by the bounds.
        var droppedTags = 0
        /// Strings whose URLs were rewritten.
        var rewrittenStrings = 0
        /// Why the image rewriting was skipped (not JSON, encoded, `no-transform`, not valid JSON).
        var skipped: String? = nil
    }

    /// Applies the route's tags and image rewriting.
    /// - Parameters:
    ///   - fields: The upstream's response fields.
    ///   - body: The whole body.
    ///   - upstreamTags: The tags the upstream sent.
    func apply(fields: [(name: String, value: String)], body: ByteBuffer, upstreamTags: [String]) -> Outcome {
        let isJSON = Self.isJSON(fields)
        var outcome = Outcome(body: body, tags: upstreamTags)
        if let tags {
            let result = body.withUnsafeReadableBytes { bytes in tags.tags(upstream: upstreamTags, body: isJSON ? bytes : nil) }
            outcome.tags = result.tags
            outcome.droppedTags = result.dropped
        }
        guard let images else { return outcome }
        guard isJSON else {
            outcome.skipped = "not identity-encoded JSON"
            return outcome
        }
        if fields.values(named: "cache-control").contains(where: { $0.lowercased().contains("no-transform") }) {
            outcome.skipped = "no-transform"
            return outcome
        }
        var count = 0
        let edited: [UInt8]?
        do {
            edited = try body.withUnsafeReadableBytes { bytes throws(JSONParser.ParseError) in
                try JSONStringEditor.edit(bytes, selector: images.selector) { pattern, text in
                    let rewritten: String?
                    if pattern < images.htmlCount {
                        let html = HTMLRewriter.rewrite(text.utf8, signer: images.signer, options: images.options)
                        rewritten = String(decoding: html, as: UTF8.self)
                    } else {
                        rewritten = HTMLRewriter.rewriteURL(text, signer: images.signer, options: images.options)
                    }
                    if let rewritten, rewritten != text { count += 1 }
                    return rewritten
                }
            }
        } catch {
            outcome.skipped = "body is not JSON (\(error))"
            return outcome
        }
        if let edited {
            outcome.body = ByteBuffer(bytes: edited)
            outcome.rewrittenStrings = count
        }
        return outcome
    }

    /// Whether the fields say identity-encoded JSON (`application/json`, `…+json`).
    static func isJSON(_ fields: [(name: String, value: String)]) -> Bool {
        guard fields.first(named: "content-encoding").map({ $0.lowercased() == "identity" }) ?? true,
            let type = fields.first(named: "content-type").flatMap({ MediaType($0) })
        else { return false }
        return type.type == "application" && (type.subtype == "json" || type.subtype.hasSuffix("+json"))
    }

    /// The fields of a rewritten answer: its strong `ETag` named the upstream's bytes, so it
    /// becomes weak (as nginx's gzip does), which still revalidates upstream.
    static func weakened(_ fields: [(name: String, value: String)]) -> [(name: String, value: String)] {
        fields.map { field in
            guard field.name.lowercased() == "etag", !field.value.hasPrefix("W/") else { return field }
            return (field.name, "W/" + field.value)
        }
    }
}
