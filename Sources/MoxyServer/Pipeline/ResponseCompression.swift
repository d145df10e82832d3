// SPDX-License-Identifier: Apache-2.0

import CompressNIO
import MoxyCache
import MoxyHTTP
import NIOCore

/// gzip for stored responses: which ones are worth it, the encoded form computed once when a
/// response is stored (never per request), and which requests get it.
///
/// The cache asks the upstream for the identity form (so validation rules read the real body and
/// one entry serves every client); the encoded form shares the entry's freshness and carries its
/// own `ETag` (`"tag-gzip"`), `Content-Encoding` and `Content-Length`. Ranges are served from the
/// identity form only. (No brotli: the package mirror has no brotli library.)
enum ResponseCompression {
    /// Smaller bodies are sent as they are: gzip's header and trailer (18 bytes) and the client's
    /// inflate cost more than they save.
    static let minimumBytes = 256

    /// Types whose bodies compress: text, JSON, XML, JavaScript, SVG, uncompressed fonts. Images,
    /// video, audio, archives and WOFF fonts are compressed already.
    static func isCompressible(_ type: MediaType) -> Bool {
        switch (type.type, type.subtype) {
        case ("text", _): return true
        case ("application", let subtype):
            return ["json", "javascript", "ecmascript", "x-javascript", "xml", "xhtml+xml", "rss+xml", "atom+xml", "wasm",
                    "manifest+json", "ld+json", "vnd.ms-fontobject", "x-font-ttf", "graphql-response+json"].contains(subtype)
                || subtype.hasSuffix("+json") || subtype.hasSuffix("+xml")
        case ("image", "svg+xml"), ("image", "x-icon"), ("image", "vnd.microsoft.icon"), ("image", "bmp"): return true
        case ("font", "ttf"), ("font", "otf"): return true
        default: return false
        }
    }

    /// Whether a response that is being stored gets a gzip form: a `200` of a compressible type,
    /// not encoded already, not `no-transform` (RFC 9110 §7.7), large enough.
    static func isWorthIt(status: Int, fields: [(name: String, value: String)], bodyLength: Int) -> Bool {
        guard status == 200, bodyLength >= minimumBytes, fields.first(named: "content-encoding") == nil,
            let type = fields.first(named: "content-type").flatMap({ MediaType($0) }), isCompressible(type)
        else { return false }
        return !CacheControl(fields.values(named: "cache-control")).has("no-transform")
    }

    /// The body gzip-encoded (zlib's default level), or `nil` when that is not smaller.
    static func gzip(_ body: ByteBuffer) -> ByteBuffer? {
        var input = body
        guard let encoded = try? input.compress(with: .gzip()), encoded.readableBytes < body.readableBytes else { return nil }
        return encoded
    }

    /// The fields of the encoded form: `Content-Encoding: gzip`, a suffixed `ETag` (a different
    /// representation needs a different validator, RFC 9110 §8.8.3), `Vary: Accept-Encoding`.
    static func encodedFields(_ identity: [(name: String, value: String)]) -> [(name: String, value: String)] {
        var fields = identity.map { field -> (name: String, value: String) in
            guard field.name.lowercased() == "etag" else { return field }
            return (field.name, suffixed(field.value))
        }
        fields.append(("Content-Encoding", "gzip"))
        return fields
    }

    /// `"abc"` → `"abc-gzip"`, `W/"abc"` → `W/"abc-gzip"` (a malformed tag is left as it is).
    static func suffixed(_ etag: String) -> String {
        guard etag.hasSuffix("\""), etag.utf8.count >= 2 else { return etag }
        return String(etag.dropLast()) + "-gzip\""
    }

    /// The fields with `Accept-Encoding` in `Vary` (added to the field the upstream sent, or a new one).
    static func varyingOnEncoding(_ fields: [(name: String, value: String)]) -> [(name: String, value: String)] {
        let names = VaryKey.names(fields.values(named: "vary")) ?? ["*"]
        guard !names.contains("accept-encoding"), !names.contains("*") else { return fields }
        var fields = fields
        if let index = fields.firstIndex(where: { $0.name.lowercased() == "vary" }) {
            fields[index].value += ", Accept-Encoding"
        } else {
            fields.append(("Vary", "Accept-Encoding"))
        }
        return fields
    }

    /// Whether an `Accept-Encoding` value accepts gzip (`gzip` or `x-gzip` or `*` with a weight
    /// above 0, RFC 9110 §12.5.3).
    static func acceptsGzip(_ value: some StringProtocol) -> Bool {
        var star = false
        for part in value.split(separator: ",") {
            let pieces = part.split(separator: ";")
            guard let coding = pieces.first?.trimmingSpaces.lowercased() else { continue }
            var weight = 1.0
            for parameter in pieces.dropFirst() {
                let pair = parameter.trimmingSpaces.lowercased()
                if pair.hasPrefix("q=") { weight = Double(pair.dropFirst(2)) ?? 0 }
            }
            if coding == "gzip" || coding == "x-gzip" { return weight > 0 }
            if coding == "*" { star = weight > 0 }
        }
        return star
    }
}
