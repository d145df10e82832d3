// SPDX-License-Identifier: Apache-2.0

import Foundation
import MoxyTestSupport
import NIOHTTP1
import Testing

/// The status page in a real headless Chromium (Debian package `chromium`, installed by
/// `.ci/run`): loaded from a live `moxy serve` after scripted traffic, its numbers match `/stats`,
/// and a screenshot is kept as an artefact.
@Suite(.serialized) struct StatusPageTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Where test artefacts go: `$MOXY_TEST_ARTIFACTS`, else `/tmp/moxy-test-artifacts`.
    static var artifacts: String {
        ProcessInfo.processInfo.environment["MOXY_TEST_ARTIFACTS"] ?? "/tmp/moxy-test-artifacts"
    }

    /// Runs headless Chromium on a URL: its DOM after the page's script ran, and a screenshot.
    static func chromium(_ url: String, screenshot: String) async throws -> String {
        let browser = try #require(chromium, "Chromium is needed: apt-get install chromium (.ci/run installs it)")
        let profile = NSTemporaryDirectory() + "moxy-chromium-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let common = [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)",
            "--virtual-time-budget=5000", "--window-size=1100,1500",
        ]
        let dom = try await MoxyBinary.runTool(browser, common + ["--dump-dom", url])
        _ = try await MoxyBinary.runTool(browser, common + ["--screenshot=\(screenshot)", url])
        return dom
    }

    /// The text of the element with this id.
    static func element(_ id: String, in dom: String) -> String? {
        guard let start = dom.firstRange(of: "id=\"\(id)\">") else { return nil }
        return String(dom[start.upperBound...].prefix { $0 != "<" })
    }

    @Test func theStatusPageShowsWhatStatsSays() async throws {
        let origin = try await CLITests.pixelOrigin()
        defer { Task { await origin.stop() } }
        origin.route("/ok.json", OriginRoute(headers: [("Content-Type", "application/json"), ("Cache-Control", "max-age=600")], body: Array("{\"items\":[1]}".utf8)))
        origin.route("/img", OriginRoute(headers: [("Content-Type", "image/png"), ("Cache-Control", "max-age=600")], body: [1, 2, 3]))
        let directory = try OperationsCLITests.configDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/moxy.yaml"
        try """
            routes:
              api:
                path_prefix: /api
                strip_prefix: true
                upstream: \(origin.url(""))
                validate:
                  keep_last_good: 1h
                  rules:
                    - {name: has-items, pointer: /items, exists: true}
              images:
                path_prefix: /
                upstream: \(origin.url(""))
              idle:
                path_prefix: /idle
                upstream: \(origin.url(""))
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let server = try await CLITests.startServer(
            ["--config", file, "--admin-listen", "127.0.0.1:0"], environment: ["MOXY_ADMIN_TOKEN": adminToken])
        defer { Task { await CLITests.kill(server.process) } }
        let base = "http://127.0.0.1:\(server.port)"
        for _ in 0..<6 { _ = try await OperationsCLITests.get(base + "/img") }
        _ = try await OperationsCLITests.get(base + "/api/ok.json")
        let adminPort = try await OperationsCLITests.adminPort(server)
        // A soft purge makes the entry stale (no sleeping past a max-age); the upstream now
        // answers an error as 200: the last good entry answers and the failure is listed.
        #expect(try await adminCall(port: adminPort, .POST, "/purge", body: "url=/api/ok.json&soft=1").status == 200)
        origin.route("/ok.json", OriginRoute(headers: [("Content-Type", "application/json")], body: Array("{\"code\":\"db_down\"}".utf8)))
        let stoodIn = try await OperationsCLITests.get(base + "/api/ok.json")
        #expect(stoodIn.body == "{\"items\":[1]}", "\(stoodIn)")
        let stats = try await adminCall(port: adminPort, .GET, "/stats").text
        try FileManager.default.createDirectory(atPath: Self.artifacts, withIntermediateDirectories: true)
        let screenshot = Self.artifacts + "/status-page.png"
        try? FileManager.default.removeItem(atPath: screenshot)
        let dom = try await Self.chromium("http://moxy:\(adminToken)@127.0.0.1:\(adminPort)/", screenshot: screenshot)
        #expect(dom.contains("data-loaded=\"true\""), "the page's script loaded /stats: \(Self.element("error", in: dom) ?? dom.prefix(300).description)")
        #expect(Self.element("total-requests", in: dom) == String(MoxyHarness.number("total", in: stats) ?? -1))
        #expect(Self.element("total-requests", in: dom) == "8")
        #expect(Self.element("hits", in: dom) == String(MoxyHarness.number("hit", in: stats) ?? -1))
        #expect(Self.element("hits", in: dom) == "5")
        #expect(Self.element("misses", in: dom) == "2")
        #expect(Self.element("stale", in: dom) == "1", "the last good answer")
        #expect(Self.element("hit-ratio", in: dom) == "75.0 %")
        #expect(Self.element("upstream-requests", in: dom) == "3")
        #expect(dom.contains("<td>has-items</td>"), "the recent validation failure is listed")
        #expect(dom.contains("<td>api</td>"))
        #expect(!dom.contains("<td>idle</td>"), "a route without traffic is left out")
        // The server keeps samples (one at start, then one a minute): the chart starts from them.
        #expect(stats.contains("\"history\":[{\"time\":"), "\(stats)")
        let points = dom.firstRange(of: "id=\"rate-line\"").map { dom[$0.upperBound...].prefix { $0 != ">" } } ?? ""
        #expect(points.split(separator: " ").count >= 2, "the chart has the server's sample and the page's: \(points)")
        #expect(dom.contains("<td>memory</td>") && dom.contains("<td>disk</td>"), "per-tier usage")
        let image = try #require(FileManager.default.contents(atPath: screenshot), "Chromium wrote the screenshot")
        #expect(image.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG")
        // Without the token the page is refused.
        #expect(try await adminCall(port: adminPort, .GET, "/", token: nil).status == 401)
        try await CLITests.stop(server)
    }
}

extension MoxyBinary {
    /// Runs another program to completion (stdout returned, stderr dropped), at most 60 s.
    static func runTool(_ path: String, _ arguments: [String]) async throws -> String {
        try await Spawn.run(path, arguments, environment: ProcessInfo.processInfo.environment, timeout: 60).out
    }
}
