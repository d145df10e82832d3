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

    /// The expiry option, if any.
    public var expires: Int64? {
        options.split(separator: ",").first(where: { $0.hasPrefix("e") }).flatMap { Int64($0.dropFirst()) }
    }

    /// The repository's root folder.
    public static var repositoryRoot: String { String(#filePath.split(separator: "/Tests/").first!) }

    /// Reads the table from the document, so that the docs and the tests cannot drift apart.
    public static func load() throws -> [URLVector] {
        let bytes = try SmallFile.read(repositoryRoot + "/docs/url-format.md", limit: 1 << 20)
        var vectors: [URLVector] = []
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast().map {
                String($0.trimmed(" ").trimmed("`"))
            }
            guard cells.count == 6 else { continue }
            vectors.append(URLVector(secret: cells[0], keyID: cells[1], url: cells[2], options: cells[3], ext: cells[4], path: cells[5]))
        }
        return vectors
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
