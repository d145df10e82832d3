// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP
import ArgumentParser
import AsyncHTTPClient
import MoxyCache
import MoxyServer
import MoxyValidation
import NIOCore
import NIOHTTP1

/// `moxy validate --config moxy.yaml --route R FILE_OR_URL`: checks a saved (or fetched) response
/// against a route's rules and prints each rule's result, for operators writing rules.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a response against a route's validation rules.",
        discussion: """
            FILE is a saved response: what `curl -i URL` prints (status line, fields, body) or a bare body \
            (status 200; give fields with --header). A URL (http or https) is fetched with GET. \
            Exits 1 when a rule fails.
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "The route whose rules apply (`signed` for the signed-URL rules).")
    var route: String

    @Option(name: .long, help: "A response field for a bare body, e.g. \"Content-Type: application/json\" (repeatable).")
    var header: [String] = []

    @Option(name: .long, help: "The status for a bare body.")
    var status: Int = 200

    @Argument(help: "A saved response file, or an http(s) URL to fetch.")
    var source: String

    func run() async throws {
        let settings: MoxySettings
        do {
            settings = try MoxySettings.load(environment: ProcessEnvironment.current, configFile: common.config)
        } catch let error as SettingsError {
            throw CLIFailure(error.message)
        }
        let validation: ValidationConfiguration?
        if let route = settings.server.routes.first(where: { $0.name == route }) {
            validation = route.validation
        } else if route == "signed" {
            validation = settings.server.signedValidation
        } else {
            let names = settings.server.routes.map(\.name)
            throw CLIFailure("no route '\(route)' (routes: \(names.isEmpty ? "none" : names.joined(separator: ", ")))")
        }
        guard let validation, !validation.rules.isEmpty else { throw CLIFailure("route '\(route)' has no validation rules") }
        var response = try await load(limit: validation.validateMaxBytes)
        for field in header {
            guard let colon = field.firstIndex(of: ":") else { throw CLIFailure("invalid --header '\(field)' (use \"Name: value\")") }
            response.headers.append((String(field[..<colon]), String(field[field.index(after: colon)...].trimmingSpaces)))
        }
        let body = response.body.count <= validation.validateMaxBytes ? ByteBuffer(bytes: response.body) : nil
        print("route \(route): \(validation.rules.count) rules; response \(response.status), \(response.body.count) bytes")
        let results = validation.report(status: response.status, headers: response.headers, body: body)
        for result in results {
            if let failure = result.failure {
                print("  FAIL \(result.rule): \(failure)")
            } else {
                print("  ok   \(result.rule)")
            }
        }
        let failed = results.filter { $0.failure != nil }.map(\.rule)
        guard failed.isEmpty else {
            if response.headers.isEmpty, !source.hasPrefix("http") {
                print("note: the file has no head; save it with `curl -i` or pass --header \"Content-Type: …\"")
            }
            throw CLIFailure("invalid (\(failed.joined(separator: ", "))): Moxy would not store this response")
        }
        print("valid: Moxy would store this response")
    }

    /// Reads the file or fetches the URL.
    func load(limit: Int) async throws -> SavedResponse {
        guard source.hasPrefix("http://") || source.hasPrefix("https://") else {
            let bytes: [UInt8]
            do {
                bytes = try SmallFile.read(source, limit: max(limit, 1 << 20) + (64 << 10))
            } catch {
                throw CLIFailure("cannot read \(source): \(error)")
            }
            var saved = try SavedResponse.parse(bytes)
            if saved.headers.isEmpty { saved.status = status }
            return saved
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let result: Result<SavedResponse, any Error>
        do {
            let response = try await client.execute(HTTPClientRequest(url: source), timeout: .seconds(30))
            var body: [UInt8] = []
            for try await chunk in response.body {
                body += chunk.readableBytesView
                // One byte past the limit is enough to know it is too large.
                if body.count > limit { break }
            }
            result = .success(SavedResponse(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: body))
        } catch {
            result = .failure(CLIFailure("cannot fetch \(source): \(error)"))
        }
        try? await client.shutdown()
        return try result.get()
    }
}
