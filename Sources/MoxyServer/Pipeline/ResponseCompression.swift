// SPDX-License-Identifier: Apache-2.0

import CompressNIO
import MoxyCache
import MoxyCompression
import MoxyHTTP
import NIOCore

/// gzip, brotli and zstd for stored responses: which ones are worth it, the encoded forms
/// computed once when a response is stored (never per request), and which requests get them.
///
/// The cache asks the upstream for the identity form (so validation rules read the real body and
/// one entry serves every client); each encoded form shares the entry's freshness and carries its
/// own `ETag` (`"tag-gzip"`, `"tag-br"`, `"tag-zstd"`), `Content-Encoding` and `Content-Length`.
/// A client gets the smallest form it accepts (``RequestFlags/accepted(_:)``). Ranges are served
/// from the identity form only.
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

    /// Whether a response that is being stored gets encoded forms: a `200` of a compressible type,
    /// not encoded already, not `no-transform` (RFC 9110 §7.7), large enough.
    static func isWorthIt(status: Int, fields: [(name: String, value: String)], bodyLength: Int) -> Bool {
        guard status == 200, bodyLength >= minimumBytes, fields.first(named: "content-encoding") == nil,
            let type = fields.first(named: "content-type").flatMap({ MediaType($0) }), isCompressible(type)
        else { return false }
        return !CacheControl(fields.values(named: "cache-control")).has("no-transform")
    }

    /// The encoded forms worth keeping, smallest first: each coding whose output is smaller than
    /// the identity body. A coding that fails is left out, never stored broken.
    static func forms(_ body: ByteBuffer) -> [(ContentCoding, ByteBuffer)] {
        var forms: [(ContentCoding, ByteBuffer)] = []
        for coding in ContentCoding.allCases {
            let encoded: ByteBuffer? =
                switch coding {
                case .gzip: gzip(body)
                case .brotli: Compressors.brotli(body)
                case .zstd: Compressors.zstd(body)
                }
            if let encoded, encoded.readableBytes < body.readableBytes { forms.append((coding, encoded)) }
        }
        return forms.sorted { $0.1.readableBytes < $1.1.readableBytes }
    }

    /// The body gzip-encoded (zlib's default level), or `nil` when that fails.
    static func gzip(_ body: ByteBuffer) -> ByteBuffer? {
        var input = body
        return try? input.compress(with: .gzip())
    }

    /// The fields of an encoded form: its `Content-Encoding`, a suffixed `ETag` (a different
    /// representation needs a different validator, RFC 9110 §8.8.3), `Vary: Accept-Encoding`.
    static func encodedFields(_ identity: [(name: String, value: String)], _ coding: ContentCoding) -> [(name: String, value: String)] {
        var fields = identity.map { field -> (name: String, value: String) in
            guard field.name.lowercased() == "etag" else { return field }
            return (field.name, suffixed(field.value, coding))
        }
        fields.append(("Content-Encoding", coding.token))
        return fields
    }

    /// `"abc"` → `"abc-gzip"` (`-br`, `-zstd`), `W/"abc"` → `W/"abc-gzip"` (a malformed tag is left as it is).
    static func suffixed(_ etag: String, _ coding: ContentCoding) -> String {
        guard etag.hasSuffix("\""), etag.utf8.count >= 2 else { return etag }
        return String(etag.dropLast()) + "-" + coding.token + "\""
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
}
