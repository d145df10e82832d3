// SPDX-License-Identifier: Apache-2.0

import MoxySigning
import Testing

/// One row of the vector table in docs/url-format.md.
struct Vector: CustomStringConvertible {
    var secret: String
    var keyID: String
    var url: String
    var options: String
    var ext: String
    var path: String
    var description: String { path }

    /// Reads the table from the document, so that the docs and the tests cannot drift apart.
    static func load() throws -> [Vector] {
        let docPath = String(#filePath.split(separator: "/Tests/").first!) + "/docs/url-format.md"
        let text = try readFile(docPath)
        var vectors: [Vector] = []
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast().map {
                String($0.trimmingCharacters(" ").trimmingCharacters("`"))
            }
            guard cells.count == 6 else { continue }
            vectors.append(Vector(secret: cells[0], keyID: cells[1], url: cells[2], options: cells[3], ext: cells[4], path: cells[5]))
        }
        return vectors
    }
}

extension StringProtocol {
    func trimmingCharacters(_ char: Character) -> Substring {
        var text = Substring(self)
        while text.first == char { text.removeFirst() }
        while text.last == char { text.removeLast() }
        return text
    }
}

@Suite struct VectorTests {
    @Test func documentHasAtLeastSixVectors() throws {
        #expect(try Vector.load().count >= 6)
    }

    @Test func signingProducesTheDocumentedPaths() throws {
        for vector in try Vector.load() {
            let signer = try makeSigner(vector)
            let parsed = try SignOptions.parse(Array(vector.options.utf8).isEmpty ? Array("k\(vector.keyID)".utf8) : Array(vector.options.utf8))
            var options = SignOptions(keyID: vector.keyID == "default" ? nil : vector.keyID, expires: parsed.expires)
            options.fileExtension = vector.ext.isEmpty ? nil : vector.ext
            #expect(try signer.sign(vector.url, options: options) == vector.path, "\(vector.url)")
        }
    }

    @Test func documentedPathsVerifyBackToTheirURLs() throws {
        for vector in try Vector.load() {
            let signer = try makeSigner(vector)
            let target = try signer.verify(path: vector.path, now: 1_767_225_599)
            #expect(target.url == vector.url)
            #expect(target.keyID == vector.keyID)
        }
    }

    @Test func expiredVectorsAreRefusedFromTheExpirySecond() throws {
        for vector in try Vector.load() where vector.options.contains("e") {
            let signer = try makeSigner(vector)
            #expect(throws: SigningError(.expired, "")) { try signer.verify(path: vector.path, now: 1_767_225_600) }
        }
    }

    func makeSigner(_ vector: Vector) throws -> URLSigner {
        var keys = [try SigningKey(id: vector.keyID, secret: vector.secret)]
        if vector.keyID != "default" { keys.append(try SigningKey(id: "default", secret: "unrelated-default")) }
        return try URLSigner(keys: keys, defaultKeyID: "default")
    }
}

#if canImport(Glibc)
import Glibc
#endif

func readFile(_ path: String) throws -> String {
    guard let file = fopen(path, "r") else { throw SigningError(.malformedPath, "cannot open \(path)") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count == 0 { break }
        bytes += buffer[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}
