// SPDX-License-Identifier: Apache-2.0

import Foundation
import MoxySigning
import MoxyTestSupport
import Testing

/// The signing snippets in `clients/`, run by their real interpreters against every vector of
/// `docs/url-format.md`. A missing interpreter fails (with the Debian package to install), so CI
/// cannot pass without testing every language. Serialized: one interpreter at a time, so that
/// the suite does not load the machine the socket tests run on.
@Suite(.serialized) struct SnippetTests {
    /// One snippet and the program that runs it.
    struct Snippet: Sendable, CustomStringConvertible {
        let file: String
        let program: String
        let package: String
        var description: String { file }
        var signsCamo: Bool { file == "moxy.rb" || file == "moxy.mjs" }

        static let all = [
            Snippet(file: "moxy.rb", program: "ruby", package: "ruby"),
            Snippet(file: "moxy.py", program: "python3", package: "python3"),
            Snippet(file: "moxy.mjs", program: "node", package: "nodejs"),
            Snippet(file: "moxy.go", program: "go", package: "golang-go"),
            Snippet(file: "moxy.php", program: "php", package: "php-cli"),
            Snippet(file: "moxy.sh", program: "sh", package: "dash (and openssl)"),
        ]
    }

    static let clients = URLVector.repositoryRoot + "/clients/"

    static func interpreter(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        // /usr/bin first: .ci/run installs Debian's interpreters and modules (ruby-liquid,
        // python3-jinja2), which a pyenv or rbenv earlier on PATH would not see.
        return (["/usr/bin/\(name)"] + path.split(separator: ":").map { "\($0)/\(name)" })
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The interpreter, or a test failure naming the package to install.
    static func require(_ program: String, package: String) throws -> String {
        try #require(interpreter(program), "\(program) is not installed: apt-get install \(package) (.ci/run installs it)")
    }

    /// The Go snippet compiled once (`go run` would compile it for every call).
    static let goBinary = Task<String, any Error> {
        let go = try require("go", package: "golang-go")
        let scratch = "/tmp/moxy-snippet-go-\(getuid())"
        var environment = ProcessInfo.processInfo.environment
        environment["GOCACHE"] = scratch + "/cache"
        environment["GOPATH"] = scratch + "/path"
        environment["HOME"] = environment["HOME"] ?? scratch
        environment["GOFLAGS"] = "-mod=mod"
        let binary = scratch + "/moxy-\(getpid())"
        // One compile job at a time: the rest of the suite runs beside it on two cores.
        let result = try await Spawn.run(go, ["build", "-p", "1", "-o", binary, clients + "moxy.go"], environment: environment)
        guard result.status == 0 else { throw SpawnFailure(description: "go build: \(result.err)") }
        return binary
    }

    struct SpawnFailure: Error, CustomStringConvertible { let description: String }

    /// Runs a snippet as a program: `[--base B] [--key-id ID] [--expires E] [--ext X] [--camo] KEY URL`.
    static func run(_ snippet: Snippet, _ arguments: [String]) async throws -> (status: Int32, out: String, err: String) {
        let environment = ProcessInfo.processInfo.environment
        if snippet.program == "go" {
            return try await Spawn.run(try await goBinary.value, arguments, environment: environment)
        }
        let program = try require(snippet.program, package: snippet.package)
        return try await Spawn.run(program, [clients + snippet.file] + arguments, environment: environment)
    }

    /// The snippet's output for a vector (with an optional base), trimmed.
    static func sign(_ snippet: Snippet, _ vector: URLVector, base: String? = nil) async throws -> String {
        let result = try await run(snippet, arguments(vector, base: base))
        #expect(result.status == 0, "\(snippet): \(result.err)")
        return result.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func arguments(_ vector: URLVector, base: String?) -> [String] {
        var arguments: [String] = []
        if let base { arguments += ["--base", base] }
        if vector.keyID != "default" { arguments += ["--key-id", vector.keyID] }
        if let expires = vector.expires { arguments += ["--expires", String(expires)] }
        if !vector.ext.isEmpty { arguments += ["--ext", vector.ext] }
        return arguments + [vector.secret, vector.url]
    }

    @Test(arguments: Snippet.all)
    func signsEveryDocumentedVector(_ snippet: Snippet) async throws {
        let vectors = try URLVector.load()
        #expect(vectors.count >= 8)
        for vector in vectors {
            #expect(try await Self.sign(snippet, vector) == vector.path, "\(snippet) \(vector.url)")
        }
        // A base goes in front, without doubling its trailing slash.
        let last = try #require(vectors.last)
        #expect(try await Self.sign(snippet, last, base: "https://img.example.com/") == "https://img.example.com" + last.path)
    }

    /// Whatever the server would refuse (a 400 or 403 much later) is an error at once, and prints no URL.
    @Test(arguments: Snippet.all)
    func refusesWhatTheServerWouldRefuse(_ snippet: Snippet) async throws {
        let cases: [[String]] = [
            ["k", "ftp://example.com/a.png"],
            ["k", "javascript:alert(1)"],
            ["k", "/relative/a.png"],
            ["k", "http://example.com/a b.png"],
            ["k", "http://example.com/a\n.png"],
            ["--key-id", "bad id", "k", "http://example.com/a.png"],
            ["--key-id", String(repeating: "k", count: 33), "k", "http://example.com/a.png"],
            ["--ext", "p.ng", "k", "http://example.com/a.png"],
            ["--ext", "waytoolong", "k", "http://example.com/a.png"],
        ]
        for arguments in cases {
            let result = try await Self.run(snippet, arguments)
            #expect(result.status != 0 && result.out.isEmpty, "\(snippet) \(arguments): \(result.out)")
            #expect(result.err.contains("error:") || result.err.contains("usage:"), "\(snippet) \(arguments): \(result.err)")
        }
    }

    @Test func rubyAndJavaScriptSignCamosHexForm() async throws {
        let vectors = try CamoHexVector.load()
        #expect(vectors.count == 3)
        for vector in vectors {
            // The documented table agrees with Moxy's own camo verifier.
            let camo = try CamoSigner(keys: [vector.key], formats: .hex)
            #expect(camo.sign(vector.url, format: .hex) == vector.path)
            for snippet in Snippet.all where snippet.signsCamo {
                let result = try await Self.run(snippet, ["--camo", vector.key, vector.url])
                #expect(result.out.trimmingCharacters(in: .newlines) == vector.path, "\(snippet): \(result.err)")
            }
        }
    }

    /// The Liquid filter in plain Liquid (Debian `ruby-liquid`), as Jekyll runs it.
    static func liquid(_ vector: URLVector, base: String = "") async throws -> String {
        let ruby = try require("ruby", package: "ruby")
        let script = """
            require "liquid"
            require_relative "\(clients)moxy_liquid"
            key, key_id, url, ext, base = ARGV
            template = Liquid::Template.parse(ext.empty? ? "<img src=\\"{{ u | moxy }}\\">" : "<img src=\\"{{ u | moxy: x }}\\">")
            settings = { "base" => base, "key" => key, "key_id" => (key_id == "default" ? nil : key_id) }
            print template.render!({ "u" => url, "x" => ext }, registers: { moxy: settings })
            """
        let result = try await Spawn.run(ruby, ["-e", script, vector.secret, vector.keyID, vector.url, vector.ext, base], environment: [:])
        #expect(result.status == 0, "liquid (apt-get install ruby-liquid): \(result.err)")
        return result.out
    }

    /// The Jinja2 filter (Debian `python3-jinja2`) in an autoescaping environment, as Flask runs it.
    static func jinja(_ vector: URLVector, base: String = "") async throws -> String {
        let python = try require("python3", package: "python3")
        let script = """
            import sys
            sys.path.insert(0, "\(clients)")
            from jinja2 import Environment
            from moxy_jinja import install_moxy_filter
            key, key_id, url, ext, expires, base = sys.argv[1:]
            env = install_moxy_filter(Environment(autoescape=True), base, key, key_id=None if key_id == "default" else key_id)
            template = env.from_string('<img src="{{ u | moxy(ext=x or None, expires=e or None) }}">')
            sys.stdout.write(template.render(u=url, x=ext, e=int(expires) if expires else None))
            """
        let expires = vector.expires.map(String.init) ?? ""
        let arguments = ["-c", script, vector.secret, vector.keyID, vector.url, vector.ext, expires, base]
        let result = try await Spawn.run(python, arguments, environment: ProcessInfo.processInfo.environment)
        #expect(result.status == 0, "jinja2 (apt-get install python3-jinja2): \(result.err)")
        return result.out
    }

    @Test func templateFiltersRenderTheVectors() async throws {
        for vector in try URLVector.load() {
            #expect(try await Self.jinja(vector) == "<img src=\"\(vector.path)\">", "\(vector.url)")
            // The Liquid filter takes the extension as its argument and has no expiry.
            guard vector.expires == nil else { continue }
            #expect(try await Self.liquid(vector) == "<img src=\"\(vector.path)\">", "\(vector.url)")
        }
        // A site's own relative images pass through both filters untouched.
        let relative = URLVector(secret: "k", keyID: "default", url: "/images/cat.png", options: "", ext: "", path: "")
        #expect(try await Self.jinja(relative) == "<img src=\"/images/cat.png\">")
        #expect(try await Self.liquid(relative) == "<img src=\"/images/cat.png\">")
    }
}
