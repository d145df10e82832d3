// SPDX-License-Identifier: Apache-2.0

import Foundation
import MoxyTestSupport
import Testing

/// The signing snippets in docs/snippets, run by their real interpreters against the documented vectors.
@Suite struct SnippetTests {
    static func interpreter(_ name: String) -> String? {
        ["/usr/bin/\(name)", "/usr/local/bin/\(name)", "/root/.pyenv/shims/\(name)"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        } ?? ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").map { "\($0)/\(name)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    func run(_ interpreter: String, _ script: String, _ vector: URLVector) throws -> String {
        var arguments = [URLVector.repositoryRoot + "/docs/snippets/" + script, vector.secret, vector.url]
        if vector.keyID != "default" { arguments += ["--key-id", vector.keyID] }
        if let expires = vector.expires { arguments += ["--expires", String(expires)] }
        if !vector.ext.isEmpty { arguments += ["--ext", vector.ext] }
        let result = try Spawn.run(interpreter, arguments, environment: ProcessInfo.processInfo.environment)
        return result.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(.enabled(if: interpreter("python3") != nil, "python3 is not installed"))
    func pythonSnippetMatchesTheVectors() throws {
        let python = try #require(Self.interpreter("python3"))
        for vector in try URLVector.load() {
            #expect(try run(python, "moxy_sign.py", vector) == vector.path, "\(vector.url)")
        }
    }

    @Test(.enabled(if: interpreter("node") != nil, "node is not installed"))
    func javaScriptSnippetMatchesTheVectors() throws {
        let node = try #require(Self.interpreter("node"))
        for vector in try URLVector.load() {
            #expect(try run(node, "moxy-sign.mjs", vector) == vector.path, "\(vector.url)")
        }
    }
}
