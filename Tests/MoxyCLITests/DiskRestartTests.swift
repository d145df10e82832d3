// SPDX-License-Identifier: Apache-2.0

import Foundation
import MoxyTestSupport
import NIOPosix
import Testing

/// The disk tier keeps the cache across restarts: a `moxy serve` is filled, stopped and started
/// again on the same directory, and answers from disk without asking the origin.
@Suite struct DiskRestartTests {
    @Test func entriesSurviveARestartAndAreServedWithoutTheOrigin() async throws {
        let directory = NSTemporaryDirectory() + "moxy-restart-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let origin = TestOrigin()
        try await origin.start(group: MultiThreadedEventLoopGroup.singleton)
        origin.route("/a.json", OriginRoute(headers: [("Content-Type", "application/json"), ("Cache-Control", "max-age=3600")], body: Array("{\"a\":1}".utf8)))
        origin.route("/v.txt", OriginRoute(
            headers: [("Content-Type", "text/plain"), ("Cache-Control", "max-age=3600"), ("Vary", "Accept-Language")], body: Array("hallo".utf8)))
        let environment = ["MOXY_CACHE_DISK_ENABLED": "true", "MOXY_CACHE_DISK_PATH": directory]
        let arguments = ["--route", "/=\(origin.url(""))"]

        let first = try await CLITests.startServer(arguments, environment: environment)
        let warm = try await RawClient.exchange(port: first.port, request: Self.get("/a.json") + Self.get("/v.txt", language: "de", closing: true))
        #expect(RawClient.statusLines(warm) == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"], "\(warm)")
        // Disk writes run in the background: wait until the three files (entry, marker, variant) exist.
        for _ in 0..<100 where Self.files(in: directory) < 3 { try await Task.sleep(for: .milliseconds(50)) }
        #expect(Self.files(in: directory) == 3)
        try await CLITests.stop(first)

        let second = try await CLITests.startServer(arguments, environment: environment)
        let again = try await RawClient.exchange(port: second.port, request: Self.get("/a.json") + Self.get("/v.txt", language: "de", closing: true))
        #expect(RawClient.statusLines(again) == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"], "\(again)")
        #expect(again.contains("{\"a\":1}") && again.contains("hallo"))
        #expect(again.components(separatedBy: "Cache-Status: moxy; hit; ttl=").count == 3, "both from disk: \(again)")
        #expect(again.contains("detail=disk"))
        #expect(origin.count("/a.json") == 1 && origin.count("/v.txt") == 1, "the origin was not asked again")
        // Another variant is a miss that goes to the origin (the marker came back from disk).
        let other = try await RawClient.exchange(port: second.port, request: Self.get("/v.txt", language: "fr", closing: true))
        #expect(other.contains("Cache-Status: moxy; fwd=vary-miss"), "\(other)")
        #expect(origin.count("/v.txt") == 2)
        try await CLITests.stop(second)
        await origin.stop()
    }

    /// One process per cache directory (issue 21: two `moxy serve` in one working directory each
    /// kept an index and a purge log of the same files): the second is refused, naming the
    /// holder's pid, and starts once the first has stopped.
    @Test func aSecondProcessOnTheSameDirectoryIsRefused() async throws {
        let directory = NSTemporaryDirectory() + "moxy-lock-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let environment = ["MOXY_KEY": "k", "MOXY_CACHE_DISK_PATH": directory]
        let first = try await CLITests.startServer([], environment: environment)
        let second = try await MoxyBinary.run(["serve", "--listen", "127.0.0.1:0"], environment: environment)
        #expect(second.status == 1)
        let line = second.err.split(separator: "\n").last.map(String.init) ?? ""
        #expect(line.contains("the cache directory \(directory) is in use by another moxy (pid \(first.process.processIdentifier))"), "\(second.err)")
        #expect(!second.err.contains("moxy listening"))
        #expect(first.process.isRunning)
        try await CLITests.stop(first)
        let third = try await CLITests.startServer([], environment: environment)
        try await CLITests.stop(third)
    }

    /// The disk tier is the embedded default: with no setting, entries go to `./moxy-cache` in
    /// the working directory; `cache.disk.enabled=false` keeps them in memory only.
    @Test func theDiskTierIsOnByDefault() async throws {
        let origin = TestOrigin()
        try await origin.start(group: MultiThreadedEventLoopGroup.singleton)
        origin.route("/a.json", OriginRoute(headers: [("Content-Type", "application/json"), ("Cache-Control", "max-age=3600")], body: Array("{\"a\":1}".utf8)))
        let arguments = ["--route", "/=\(origin.url(""))"]
        for enabled in [nil, "false"] {
            let server = try await CLITests.startServer(arguments, environment: enabled.map { ["MOXY_CACHE_DISK_ENABLED": $0] } ?? [:])
            let directory = server.process.currentDirectory + "/moxy-cache"
            let answer = try await RawClient.exchange(port: server.port, request: Self.get("/a.json", closing: true))
            #expect(answer.contains("{\"a\":1}"))
            // A graceful stop waits for the background work, disk writes included.
            try await CLITests.stop(server, removingDirectory: false)
            if enabled == nil {
                #expect(Self.files(in: directory) == 1, "the entry is in ./moxy-cache")
            } else {
                #expect(!FileManager.default.fileExists(atPath: directory), "nothing is written with the disk tier off")
            }
            CLITests.removeWorkingDirectory(server.process)
        }
        await origin.stop()
    }

    /// Last known good survives a restart: the good answer stored before, now stale, is still what
    /// clients get while the upstream sends an error as `200 OK`.
    @Test func theLastGoodAnswerSurvivesARestart() async throws {
        let directory = NSTemporaryDirectory() + "moxy-lastgood-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let origin = TestOrigin()
        try await origin.start(group: MultiThreadedEventLoopGroup.singleton)
        let json = [("Content-Type", "application/json"), ("Cache-Control", "max-age=1")]
        origin.route("/posts", OriginRoute(headers: json, body: Array("{\"posts\":[1]}".utf8)))
        let config = directory + ".yaml"
        try """
            routes:
              api:
                upstream: \(origin.url(""))
                validate:
                  json: true
                  rules:
                    - {name: no-wp-error, pointer: /code, absent: true}
            cache:
              disk:
                enabled: true
                path: \(directory)
            """.write(toFile: config, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: config) }

        let first = try await CLITests.startServer(["--config", config], environment: [:])
        let good = try await RawClient.exchange(port: first.port, request: Self.get("/posts", closing: true))
        #expect(good.hasSuffix("{\"posts\":[1]}"), "\(good)")
        for _ in 0..<100 where Self.files(in: directory) < 1 { try await Task.sleep(for: .milliseconds(50)) }
        try await CLITests.stop(first)

        origin.route("/posts", OriginRoute(headers: json, body: Array("{\"code\":\"internal_server_error\"}".utf8)))
        let second = try await CLITests.startServer(["--config", config], environment: [:])
        try await Task.sleep(for: .milliseconds(1_100))  // the stored answer is stale now (max-age=1)
        let protected = try await RawClient.exchange(port: second.port, request: Self.get("/posts", closing: true))
        #expect(protected.hasSuffix("{\"posts\":[1]}"), "the last good answer, not the error: \(protected)")
        #expect(protected.contains("fwd=stale; fwd-status=200") && protected.contains("detail=INVALID-BODY:no-wp-error"), "\(protected)")
        #expect(origin.count("/posts") == 2, "the upstream was asked, and its error refused")
        try await CLITests.stop(second)
        await origin.stop()
    }

    static func get(_ path: String, language: String? = nil, closing: Bool = false) -> String {
        "GET \(path) HTTP/1.1\r\nHost: x\r\n" + (language.map { "Accept-Language: \($0)\r\n" } ?? "")
            + (closing ? "Connection: close\r\n" : "") + "\r\n"
    }

    /// Entry files under the directory (not the temporary ones).
    static func files(in directory: String) -> Int {
        let all = FileManager.default.enumerator(atPath: directory)?.compactMap { $0 as? String } ?? []
        return all.filter { !$0.hasPrefix("tmp") && $0.split(separator: "/").count == 3 }.count
    }
}
