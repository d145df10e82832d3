// SPDX-License-Identifier: Apache-2.0

import AsyncHTTPClient
import Foundation
import MoxyServer
import MoxySigning
import MoxyTestSupport
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

/// Operating a real `moxy serve`: reload on SIGHUP and `POST /reload`, the access log, the admin
/// CLI commands. Signals and listeners are the binary's own.
@Suite(.serialized) struct OperationsCLITests {
    /// The port in the `moxy admin listening address=HOST:PORT` log line.
    static func adminPort(_ server: CLITests.Server) async throws -> Int {
        for _ in 0..<100 {
            if let line = server.logText.split(separator: "\n").first(where: { $0.contains("moxy admin listening") }),
                let address = line.split(separator: " ").first(where: { $0.hasPrefix("address=") }),
                let port = address.split(separator: ":").last.flatMap({ Int($0) })
            {
                return port
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw StartFailure(log: server.logText)
    }

    /// A directory for a config file (removed by the caller).
    static func configDirectory() throws -> String {
        let directory = NSTemporaryDirectory() + "moxy-ops-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    static func get(_ url: String) async throws -> (status: Int, body: String, cacheStatus: String?) {
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        defer { _ = client.shutdown() }
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: body), response.headers.first(name: "cache-status"))
    }

    /// Waits until the log has `count` lines containing `text`.
    static func waitForLog(_ server: CLITests.Server, _ text: String, count: Int = 1) async throws {
        for _ in 0..<100 where server.logText.components(separatedBy: text).count - 1 < count {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(server.logText.components(separatedBy: text).count - 1 >= count, "log: \(server.logText)")
    }

    @Test func versionNamesTheBuild() async throws {
        let result = try await MoxyBinary.run(["--version"], environment: [:])
        #expect(result.status == 0)
        #expect(result.out == "moxy \(MoxyBuild.version) (commit \(MoxyBuild.commit), \(MoxyBuild.flavour) build)\n")
    }

    /// SIGHUP with a second key: URLs of the new key are valid, the old ones still are; then
    /// `POST /reload` with only the new key: the old ones are refused. A broken file is refused
    /// with its reason and the running configuration stays.
    @Test func reloadChangesKeysAndRefusesABrokenFile() async throws {
        let origin = try await CLITests.pixelOrigin()
        defer { Task { await origin.stop() } }
        let directory = try Self.configDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/moxy.yaml"
        func write(_ keys: [String], defaultID: String = "old") throws {
            let list = keys.map { "  - \"\($0)\"" }.joined(separator: "\n")
            try "keys:\n\(list)\ndefault_key_id: \"\(defaultID)\"\nallow_loopback: true\n".write(toFile: file, atomically: true, encoding: .utf8)
        }
        try write(["old=the old secret"])
        let oldSigner = try URLSigner(keys: [SigningKey(id: "old", secret: "the old secret")], defaultKeyID: "old")
        // Signs with the new key's id in the URL (`k=new`), as an app does once it has the key.
        let newSigner = try URLSigner(
            keys: [SigningKey(id: "old", secret: "the old secret"), SigningKey(id: "new", secret: "the new secret")], defaultKeyID: "old")
        let target = origin.url("/pixel.png")
        let server = try await CLITests.startServer(
            ["--config", file, "--admin-listen", "127.0.0.1:0"], environment: ["MOXY_ADMIN_TOKEN": adminToken])
        defer { Task { await CLITests.kill(server.process) } }
        let base = "http://127.0.0.1:\(server.port)"
        let oldURL = base + (try oldSigner.sign(target))
        let newURL = base + (try newSigner.sign(target, options: SignOptions(keyID: "new")))
        #expect(try await Self.get(oldURL).status == 200)
        #expect(try await Self.get(newURL).status == 403, "the new key is not configured yet")

        try write(["old=the old secret", "new=the new secret"])
        kill(server.process.processIdentifier, SIGHUP)
        try await Self.waitForLog(server, "moxy configuration reloaded")
        #expect(try await Self.get(newURL).status == 200, "new URLs are valid after the reload")
        #expect(try await Self.get(oldURL).status == 200, "old URLs stay valid while both keys are configured")

        try "keys: [unterminated\n".write(toFile: file, atomically: true, encoding: .utf8)
        kill(server.process.processIdentifier, SIGHUP)
        try await Self.waitForLog(server, "moxy reload refused")
        #expect(try await Self.get(newURL).status == 200, "the old configuration stays")
        #expect(try await Self.get(oldURL).status == 200)
        let adminPort = try await Self.adminPort(server)
        let refused = try await adminCall(port: adminPort, .POST, "/reload")
        #expect(refused.status == 422)
        #expect(refused.text.contains("\"reloaded\":false"))
        #expect(refused.text.contains("moxy.yaml"), "the reason names the file: \(refused.text)")

        try write(["new=the new secret"], defaultID: "new")
        let reloaded = try await adminCall(port: adminPort, .POST, "/reload")
        #expect(reloaded.status == 200, "\(reloaded.text)")
        #expect(reloaded.text.contains("keys: new"), "\(reloaded.text)")
        #expect(try await Self.get(oldURL).status == 403, "the old key is gone")
        #expect(try await Self.get(newURL).status == 200)
        #expect(server.process.isRunning)
        try await CLITests.stop(server)
    }

    /// One access log line per request under concurrent load, and SIGUSR1 reopens the file after
    /// it was moved (logrotate's `create` mode).
    @Test func theAccessLogHasOneLinePerRequestAndReopens() async throws {
        let origin = try await CLITests.pixelOrigin()
        defer { Task { await origin.stop() } }
        origin.routeEverythingElse(OriginRoute(headers: [("Cache-Control", "max-age=600")], body: Array("pixel".utf8)))
        let directory = try Self.configDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let logFile = directory + "/access.log"
        let server = try await CLITests.startServer(
            ["--route", "/=\(origin.url(""))", "--access-log", logFile], environment: ["MOXY_ALLOW_LOOPBACK": "true"])
        defer { Task { await CLITests.kill(server.process) } }
        let url = "http://127.0.0.1:\(server.port)/pixel.png?secret=1"
        let requests = 400
        try await withHTTPClient { client in
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for worker in 0..<20 {
                    tasks.addTask {
                        for _ in 0..<(requests / 20) {
                            let response = try await client.execute(HTTPClientRequest(url: url + "&w=\(worker)"), timeout: .seconds(10))
                            _ = try await response.body.collect(upTo: 1 << 20)
                        }
                    }
                }
                try await tasks.waitForAll()
            }
        }
        func lines(_ path: String) -> [Substring] {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
        }
        for _ in 0..<100 where lines(logFile).count < requests { try await Task.sleep(for: .milliseconds(50)) }
        let written = lines(logFile)
        #expect(written.count == requests)
        #expect(written.allSatisfy { $0.hasPrefix("time=") && $0.contains(" method=GET mode=route route=route1 ") && $0.contains(" status=200 ") })
        #expect(!written.contains { $0.contains("secret") }, "query strings are not logged")
        #expect(written.filter { $0.contains(" cache=miss ") }.count == 20, "one miss per distinct URL")
        #expect(written.filter { $0.contains(" cache=hit ") }.count == requests - 20)

        try FileManager.default.moveItem(atPath: logFile, toPath: logFile + ".1")
        kill(server.process.processIdentifier, SIGUSR1)
        try await Self.waitForLog(server, "reopening the access log")
        _ = try await Self.get(url)
        for _ in 0..<100 where lines(logFile).isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        #expect(lines(logFile).count == 1, "the new file gets the next line")
        #expect(lines(logFile + ".1").count == requests, "the moved file keeps the old ones")
        try await CLITests.stop(server)
    }

    /// `moxy stats`, `moxy entries` and `moxy purge` against a running server, `/metrics` counts
    /// what was sent; without the token the CLI fails with the API's reason. A purge persists:
    /// after a restart on the same disk tier the purged entry is a miss, the other a disk hit.
    @Test func theAdminCommandsTalkToARunningServer() async throws {
        let origin = try await CLITests.pixelOrigin()
        defer { Task { await origin.stop() } }
        let fields = [("Content-Type", "text/plain"), ("Cache-Control", "max-age=600")]
        origin.route("/doc", OriginRoute(headers: fields + [("Surrogate-Key", "docs")], body: Array("doc".utf8)))
        origin.route("/keep", OriginRoute(headers: fields, body: Array("keep".utf8)))
        let directory = try Self.configDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let environment = ["MOXY_ALLOW_LOOPBACK": "true", "MOXY_ADMIN_TOKEN": adminToken, "MOXY_CACHE_DISK_PATH": directory + "/cache"]
        let arguments = ["--route", "/=\(origin.url(""))", "--admin-listen", "127.0.0.1:0"]
        let server = try await CLITests.startServer(arguments, environment: environment)
        defer { Task { await CLITests.kill(server.process) } }
        let adminPort = try await Self.adminPort(server)
        let env = ["MOXY_ADMIN_TOKEN": adminToken, "MOXY_ADMIN_URL": "http://127.0.0.1:\(adminPort)"]
        let base = "http://127.0.0.1:\(server.port)"
        for path in ["/doc", "/doc", "/keep", "/keep", "/keep"] { _ = try await Self.get(base + path) }
        let metrics = try await adminCall(port: adminPort, .GET, "/metrics", token: nil).text
        let series = "moxy_requests_total{mode=\"route\",route=\"route1\",method=\"GET\",status_class=\"2xx\",cache="
        #expect(sample(metrics, series + "\"miss\"}") == 2, "\(metrics)")
        #expect(sample(metrics, series + "\"hit\"}") == 3)
        #expect(sample(metrics, "moxy_upstream_requests_total{mode=\"route\"}") == 2)
        let stats = try await MoxyBinary.run(["stats"], environment: env)
        #expect(stats.status == 0, "\(stats.err)")
        #expect(stats.out.contains("requests 5, hit ratio 60.0 %"), "\(stats.out)")
        #expect(stats.out.contains("route1"))
        let entries = try await MoxyBinary.run(["entries", "--prefix", "/doc"], environment: env)
        #expect(entries.out.contains("route:route1  /doc"), "\(entries.out)")
        #expect(entries.out.contains("docs"))
        let json = try await MoxyBinary.run(["entries", "--json"], environment: env)
        #expect(json.out.hasPrefix("{\"entries\":["), "\(json.out)")
        let unauthorized = try await MoxyBinary.run(["purge", "--tag", "docs"], environment: ["MOXY_ADMIN_URL": env["MOXY_ADMIN_URL"]!])
        #expect(unauthorized.status != 0)
        #expect(unauthorized.err.contains("401"), "\(unauthorized.err)")
        #expect(try await Self.get(base + "/doc").cacheStatus?.hasPrefix("moxy; hit") == true, "nothing purged")
        // Both entries are on disk before the purge (written in the background).
        for _ in 0..<100 where !(try await adminCall(port: adminPort, .GET, "/stats").text.contains("\"disk\":{\"entries\":2")) {
            try await Task.sleep(for: .milliseconds(50))
        }
        let purge = try await MoxyBinary.run(["purge", "--tag", "docs"], environment: env)
        #expect(purge.status == 0, "\(purge.err)")
        #expect(purge.out.hasPrefix("purged 1 entries"), "\(purge.out)")
        _ = try await Self.get(base + "/doc")
        #expect(origin.count("/doc") == 2, "the purged entry was fetched again")
        #expect(try await MoxyBinary.run(["purge", "http://127.0.0.1:\(server.port)/doc"], environment: env).status == 0)
        let bad = try await MoxyBinary.run(["purge"], environment: env)
        #expect(bad.status != 0)
        try await CLITests.stop(server)

        let restarted = try await CLITests.startServer(arguments, environment: environment)
        defer { Task { await CLITests.kill(restarted.process) } }
        let again = "http://127.0.0.1:\(restarted.port)"
        #expect(try await Self.get(again + "/doc").cacheStatus?.contains("fwd=uri-miss") == true, "purged before the restart")
        #expect(try await Self.get(again + "/keep").cacheStatus?.hasPrefix("moxy; hit") == true, "kept on disk")
        #expect(origin.count("/doc") == 3)
        #expect(origin.count("/keep") == 1)
        try await CLITests.stop(restarted)
    }
}
