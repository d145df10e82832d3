// SPDX-License-Identifier: Apache-2.0

import Foundation
import MoxySigning
import MoxyTestSupport
import Testing

/// Every snippet's and template filter's URLs, fetched through a live `moxy serve`.
@Suite struct SnippetRoundTripTests {
    @Test func everySnippetsURLsFetchThroughMoxyServe() async throws {
        let origin = try await CLITests.pixelOrigin()
        defer { Task { await origin.stop() } }
        let environment = [
            "MOXY_KEY": "live-default-secret", "MOXY_KEYS": "2=live-second-secret", "MOXY_ALLOW_LOOPBACK": "true",
            "MOXY_COMPAT_KEYS": "live-camo-secret", "MOXY_COMPAT_FORMATS": "camo-hex",
        ]
        let server = try await CLITests.startServer([], environment: environment)
        defer {
            if server.process.isRunning { server.process.terminate() }
            CLITests.removeWorkingDirectory(server.process)
        }
        let base = "http://127.0.0.1:\(server.port)/"
        let target = origin.url("/pixel.png")
        let inAnHour = Int64(Date().timeIntervalSince1970) + 3600
        let plain = URLVector(secret: "live-default-secret", keyID: "default", url: target, options: "", ext: "", path: "")
        let second = URLVector(
            secret: "live-second-secret", keyID: "2", url: target, options: "k2,e\(inAnHour)", ext: "png", path: "")
        var urls: [(String, String)] = []
        for snippet in SnippetTests.Snippet.all {
            urls.append(("\(snippet)", try await SnippetTests.sign(snippet, plain, base: base)))
            urls.append(("\(snippet) k2 expiring", try await SnippetTests.sign(snippet, second, base: base)))
            if snippet.signsCamo {
                let camo = try await SnippetTests.run(snippet, ["--base", base, "--camo", "live-camo-secret", target])
                urls.append(("\(snippet) camo", camo.out.trimmingCharacters(in: .whitespacesAndNewlines)))
            }
        }
        for (name, vector) in [("jinja2", plain), ("jinja2 k2", second)] {
            let html = try await SnippetTests.jinja(vector, base: base)
            urls.append((name, String(html.dropFirst("<img src=\"".count).dropLast("\">".count))))
        }
        let liquid = try await SnippetTests.liquid(URLVector(
            secret: "live-second-secret", keyID: "2", url: target, options: "", ext: "png", path: ""), base: base)
        urls.append(("liquid k2", String(liquid.dropFirst("<img src=\"".count).dropLast("\">".count))))

        #expect(urls.count == 17)  // six snippets twice, two camo, two Jinja2, one Liquid
        for (name, url) in urls {
            #expect(url.hasPrefix("http://127.0.0.1:\(server.port)/"), "\(name): \(url)")
            let response = try await OperationsCLITests.get(url)
            #expect(response.status == 200 && response.body == "pixel", "\(name): \(url) -> \(response.status) \(response.body)")
        }
        // One fetch from the origin: every URL names the same target, so the rest were hits.
        #expect(origin.count("/pixel.png") == 1)
        try await CLITests.stop(server)
    }
}
