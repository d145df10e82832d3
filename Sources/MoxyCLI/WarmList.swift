// SPDX-License-Identifier: Apache-2.0

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

    /// The text of every element whose name is `loc` or ends in `:loc`, XML entities decoded.
    static func locations(_ xml: Substring) -> [String] {
        var found: [String] = []
        var rest = xml[...]
        while let open = rest.firstIndex(of: "<") {
            rest = rest[rest.index(after: open)...]
            guard let close = rest.firstIndex(of: ">") else { break }
            let name = rest[..<close]
            rest = rest[rest.index(after: close)...]
            guard name == "loc" || name.hasSuffix(":loc") else { continue }
            let end = rest.firstIndex(of: "<") ?? rest.endIndex
            let value = decodeEntities(rest[..<end]).trimmingWhitespace()
            if !value.isEmpty { found.append(value) }
            rest = rest[end...]
        }
        return found
    }

    static func decodeEntities(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        var out = ""
        var rest = text
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            rest = rest[amp...]
            guard let semi = rest.firstIndex(of: ";"), rest.distance(from: amp, to: semi) <= 10 else {
                out += "&"
                rest = rest.dropFirst()
                continue
            }
            let name = rest[rest.index(after: amp)..<semi]
            let named: [Substring: String] = ["amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'"]
            if let value = named[name] {
                out += value
            } else if name.hasPrefix("#x"), let code = UInt32(name.dropFirst(2), radix: 16), let scalar = Unicode.Scalar(code) {
                out.unicodeScalars.append(scalar)
            } else if name.hasPrefix("#"), let code = UInt32(name.dropFirst()), let scalar = Unicode.Scalar(code) {
                out.unicodeScalars.append(scalar)
            } else {
                out += rest[...semi]
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }

    /// Whether a path starts like a Moxy URL: `/<43 base64url characters>/`.
    static func isMoxyPath(_ path: Substring) -> Bool {
        let bytes = Array(path.utf8.prefix(45))
        guard bytes.count == 45, bytes[0] == UInt8(ascii: "/"), bytes[44] == UInt8(ascii: "/") else { return false }
        return bytes[1..<44].allSatisfy {
            $0.isASCIIAlphanumericByte || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
        }
    }

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
        if routePaths || isMoxyPath(path) { return base + (path.hasPrefix("?") ? "/" + path : path) }
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

extension UInt8 {
    var isASCIIAlphanumericByte: Bool {
        (self >= UInt8(ascii: "a") && self <= UInt8(ascii: "z")) || (self >= UInt8(ascii: "A") && self <= UInt8(ascii: "Z"))
            || (self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9"))
    }
}
