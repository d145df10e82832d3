// SPDX-License-Identifier: Apache-2.0

import MoxyCache
import MoxyHTTP
import NIOHTTP1

/// Which request fields that change how a cached response is served are present, found in one
/// pass so that a plain request takes the hit fast path.
struct RequestFlags: OptionSet {
    let rawValue: UInt8

    /// `Cache-Control` or `Pragma`.
    static let directives = RequestFlags(rawValue: 1)
    /// `If-None-Match` or `If-Modified-Since`.
    static let conditional = RequestFlags(rawValue: 2)
    /// `Range`.
    static let range = RequestFlags(rawValue: 4)
    /// `Via`.
    static let via = RequestFlags(rawValue: 8)
    /// `Accept-Encoding` that accepts gzip.
    static let gzip = RequestFlags(rawValue: 16)
    /// `Accept-Encoding` that accepts brotli (`br`).
    static let brotli = RequestFlags(rawValue: 64)
    /// `Accept-Encoding` that accepts zstd.
    static let zstd = RequestFlags(rawValue: 128)
    /// Every coding a stored response may have a form in.
    static let codings: RequestFlags = [.gzip, .brotli, .zstd]
    /// `X-HTTP-Method-Override`, `X-HTTP-Method` or `X-Method-Override`: frameworks (WordPress
    /// before 6.3.2, Rails, Laravel, Express's method-override) may answer the request as the
    /// method named there, so the answer to this GET is not the GET's.
    static let methodOverride = RequestFlags(rawValue: 32)

    /// The request fields that name another method (lowercase).
    static let methodOverrideFields = ["x-http-method-override", "x-http-method", "x-method-override"]

    init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Scans the fields once, also adding up their size (for the client limits).
    /// - Parameters:
    ///   - headers: The request fields.
    ///   - bytes: Set to the bytes of all field lines.
    init(_ headers: HTTPHeaders, bytes: inout Int) {
        var flags: RequestFlags = []
        bytes = 0
        for (name, value) in headers {
            bytes += name.utf8.count + value.utf8.count + 4
            switch name.utf8.count {
            case 3 where name.lowercased() == "via": flags.insert(.via)
            case 5 where name.lowercased() == "range": flags.insert(.range)
            case 6 where name.lowercased() == "pragma": flags.insert(.directives)
            case 13 where name.lowercased() == "cache-control": flags.insert(.directives)
            case 13 where name.lowercased() == "if-none-match": flags.insert(.conditional)
            case 13 where name.lowercased() == "x-http-method": flags.insert(.methodOverride)
            case 22 where name.lowercased() == "x-http-method-override": flags.insert(.methodOverride)
            case 17 where name.lowercased() == "x-method-override": flags.insert(.methodOverride)
            case 17 where name.lowercased() == "if-modified-since": flags.insert(.conditional)
            case 15 where name.lowercased() == "accept-encoding": flags.formUnion(Self.accepted(value))
            default: break
            }
        }
        self = flags
    }

    /// Whether the client accepts a form's coding.
    @inline(__always)
    func accepts(_ coding: ContentCoding?) -> Bool {
        switch coding {
        case .gzip?: contains(.gzip)
        case .brotli?: contains(.brotli)
        case .zstd?: contains(.zstd)
        case nil: true
        }
    }

    /// The codings an `Accept-Encoding` value accepts: named with a weight above 0, or covered
    /// by `*` with a weight above 0 and not named with `q=0` (RFC 9110 §12.5.3). Among those the
    /// writer picks the smallest form, whatever the weights above 0 say.
    static func accepted(_ value: some StringProtocol) -> RequestFlags {
        var accepted: RequestFlags = []
        var refused: RequestFlags = []
        var star = false
        for part in value.split(separator: ",") {
            let pieces = part.split(separator: ";")
            guard let coding = pieces.first?.trimmingSpaces.lowercased() else { continue }
            var weight = 1.0
            for parameter in pieces.dropFirst() {
                let pair = parameter.trimmingSpaces.lowercased()
                if pair.hasPrefix("q=") { weight = Double(pair.dropFirst(2)) ?? 0 }
            }
            let flag: RequestFlags
            switch coding {
            case "gzip", "x-gzip": flag = .gzip
            case "br": flag = .brotli
            case "zstd": flag = .zstd
            case "*":
                star = weight > 0
                continue
            default: continue
            }
            if weight > 0 { accepted.insert(flag) } else { refused.insert(flag) }
        }
        if star { accepted.formUnion(RequestFlags.codings.subtracting(refused)) }
        return accepted.subtracting(refused)
    }
}
