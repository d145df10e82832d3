// SPDX-License-Identifier: Apache-2.0

import MoxyServer

/// One row of the test-vector table in `docs/url-format.md`.
public struct URLVector: Sendable, CustomStringConvertible {
    /// The secret (UTF-8).
    public var secret: String
    /// The id the key is configured under (`default` is the default key).
    public var keyID: String
    /// The target URL.
    public var url: String
    /// The options segment as written (may be empty).
    public var options: String
    /// The extension (may be empty).
    public var ext: String
    /// The expected Moxy path.
    public var path: String

    /// The path.
    public var description: String { path }

    /// Creates a vector (tests make their own for live targets).
    public init(secret: String, keyID: String, url: String, options: String, ext: String, path: String) {
        self.secret = secret
        self.keyID = keyID
        self.url = url
        self.options = options
        self.ext = ext
        self.path = path
    }

    /// The expiry option, if any.
    public var expires: Int64? {
        options.split(separator: ",").first(where: { $0.hasPrefix("e") }).flatMap { Int64($0.dropFirst()) }
    }

    /// The repository's root folder.
    public static var repositoryRoot: String { String(#filePath.split(separator: "/Tests/").first!) }

    /// Reads the table from the document, so that the docs and the tests cannot drift apart.
    public static func load() throws -> [URLVector] {
        try rows(columns: 6).map {
            URLVector(secret: $0[0], keyID: $0[1], url: $0[2], options: $0[3], ext: $0[4], path: $0[5])
        }
    }

    /// The cells of the document's table rows with `columns` cells whose first cell is code.
    static func rows(columns: Int) throws -> [[String]] {
        let bytes = try SmallFile.read(repositoryRoot + "/docs/url-format.md", limit: 1 << 20)
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("| `") }.map {
            $0.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast().map {
                String($0.trimmed(" ").trimmed("`"))
            }
        }.filter { $0.count == columns }
    }
}

/// One row of the camo hex table in `docs/url-format.md`.
public struct CamoHexVector: Sendable, CustomStringConvertible {
    /// The camo key (its raw bytes are the HMAC-SHA1 key).
    public var key: String
    /// The target URL.
    public var url: String
    /// The expected camo path.
    public var path: String

    /// The path.
    public var description: String { path }

    /// Reads the table from the document.
    public static func load() throws -> [CamoHexVector] {
        try URLVector.rows(columns: 3).map { CamoHexVector(key: $0[0], url: $0[1], path: $0[2]) }
    }
}

extension StringProtocol {
    fileprivate func trimmed(_ char: Character) -> Substring {
        var text = Substring(self)
        while text.first == char { text.removeFirst() }
        while text.last == char { text.removeLast() }
        return text
    }
}
