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

/// Runs the real `moxy` binary built next to the test bundle.
struct MoxyBinary {
    static var path: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("moxy").path
    }

    /// Runs to completion, returning exit status, stdout and stderr.
    /// (`posix_spawn` through ``Spawn``, not Foundation's `Process`, whose `run()` crashes now and
    /// then on Linux.)
    static func run(_ arguments: [String], environment: [String: String]) async throws -> (status: Int32, out: String, err: String) {
        try await Spawn.run(path, arguments, environment: environment)
    }
}

@Suite(.serialized) struct CLITests {
    @Test func signThenVerify() async throws {
        let env = ["MOXY_KEY": "cli-secret"]
        let signed = try await MoxyBinary.run(["sign", "https://example.com/a.png", "--expires", "1h"], environment: env)
        #expect(signed.status == 0)
        let path = signed.out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(path.hasPrefix("/") && path.split(separator: "/").count == 3)
        let verified = try await MoxyBinary.run(["verify", "http://cdn.example/\(path.dropFirst())?x=1"], environment: env)
        #expect(verified.status == 0)
        #expect(verified.out == "https://example.com/a.png\n")
        let wrongKey = try await MoxyBinary.run(["verify", path], environment: ["MOXY_KEY": "other"])
        #expect(wrongKey.status != 0)
        #expect(wrongKey.err.contains("bad-signature"))
    }

    @Test func signRefusesBadInputWithOneLine() async throws {
        let noKey = try await MoxyBinary.run(["sign", "https://example.com/a.png"], environment: [:])
        #expect(noKey.status != 0 && noKey.err.contains("MOXY_KEY"))
        let ftp = try await MoxyBinary.run(["sign", "ftp://example.com/a"], environment: ["MOXY_KEY": "k"])
        #expect(ftp.status != 0 && ftp.err.contains("http"))
        let badExpiry = try await MoxyBinary.run(["sign", "https://example.com/a", "--expires", "soon"], environment: ["MOXY_KEY": "k"])
        #expect(badExpiry.status != 0 && badExpiry.err.contains("--expires"))
    }

    @Test func serveWithoutAKeyRefusesToStart() async throws {
        let result = try await MoxyBinary.run(["serve", "--listen", "127.0.0.1:0"], environment: [:])
        #expect(result.status != 0)
        #expect(result.err.contains("no signing key"))
        #expect(result.err.split(separator: "\n").count == 1)
    }

    /// A started `moxy serve`: the process, the port it bound (it binds port 0 itself, so no other
    /// test can take the port in between) and its log.
    struct Server {
        let process: SpawnedProcess
        let port: Int
        let log: String

        /// The log so far.
        var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
    }

    /// Starts `moxy serve` on port 0 and waits until it says where it listens; the caller stops it.
    static func startServer(_ arguments: [String], environment: [String: String]) async throws -> Server {
        let server = try launch(arguments, environment: environment)
        for _ in 0..<300 {
            if let port = listeningPort(server.logText) { return Server(process: server.process, port: port, log: server.log) }
            guard server.process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        await kill(server.process)
        throw StartFailure(log: server.logText)
    }

    /// Starts `moxy serve --listen 127.0.0.1:0` without waiting; the log goes to a file (never the
    /// test runner's own output: a server that outlived its test would hold the pipe open and keep
    /// `swift test` waiting).
    static func launch(_ arguments: [String], environment: [String: String]) throws -> Server {
        // A working directory of its own: the disk tier's default `./moxy-cache` lands there.
        let directory = "/tmp/moxy-cli-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let log = directory + "/moxy.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let server = try SpawnedProcess(
            MoxyBinary.path, ["serve", "--listen", "127.0.0.1:0", "--threads", "1"] + arguments, environment: environment,
            directory: directory, error: log)
        return Server(process: server, port: 0, log: log)
    }

    /// The port in the `moxy listening address=HOST:PORT` log line.
    static func listeningPort(_ log: String) -> Int? {
        guard let line = log.split(separator: "\n").first(where: { $0.contains("moxy listening") }),
            let address = line.split(separator: " ").first(where: { $0.hasPrefix("address=") }),
            let port = address.split(separator: ":").last
        else { return nil }
        return Int(port)
    }

    /// GETs a URL twice (retrying while the server starts) and returns the two `Cache-Status` values.
    static func getTwice(_ url: String, expecting body: String) async throws -> [String] {
        try await withHTTPClient { client in try await getTwice(url, expecting: body, client: client) }
    }

    private static func getTwice(_ url: String, expecting body: String, client: HTTPClient) async throws -> [String] {
        var statuses: [String] = []
        for attempt in 0..<100 {
            do {
                let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(5))
                let received = try await response.body.collect(upTo: 1 << 20)
                #expect(String(buffer: received) == body)
                statuses.append(response.headers.first(name: "cache-status") ?? "")
                if statuses.count == 2 { break }
            } catch {
                // The server may still be starting.
                if attempt == 99 { throw error }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        return statuses
    }

    /// A started origin serving `/pixel.png` ("pixel").
    static func pixelOrigin() async throws -> TestOrigin {
        let origin = TestOrigin()
        try await origin.start(group: MultiThreadedEventLoopGroup.singleton)
        origin.route("/pixel.png", OriginRoute(body: Array("pixel".utf8)))
        return origin
    }

    /// Sends one SIGTERM and expects a clean exit within 5 s.
    static func stop(_ server: Server, removingDirectory: Bool = true) async throws {
        server.process.terminate()  // SIGTERM: graceful shutdown
        for _ in 0..<50 where server.process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!server.process.isRunning, "one SIGTERM must stop moxy")
        guard !server.process.isRunning else { return await kill(server.process) }
        #expect(server.process.terminationStatus == 0)
        if removingDirectory { removeWorkingDirectory(server.process) }
    }

    /// Removes the working directory ``launch(_:environment:)`` made (log and disk cache).
    static func removeWorkingDirectory(_ server: SpawnedProcess) {
        let directory = server.currentDirectory
        guard directory.hasPrefix("/tmp/moxy-cli-test-") else { return }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Stops a server whatever its state: one SIGTERM, SIGKILL after 5 s (for cleanup only).
    static func kill(_ server: SpawnedProcess) async {
        server.terminate()
        if await !server.waitForExit(seconds: 5) {
            server.signal(SIGKILL)
            await server.waitForExit(seconds: 60)
        }
        removeWorkingDirectory(server)
    }

    @Test func signServeRoundTripThroughTheRealBinary() async throws {
        let origin = try await Self.pixelOrigin()
        defer { Task { await origin.stop() } }
        let env = ["MOXY_KEY": "round-trip-secret", "MOXY_ALLOW_LOOPBACK": "true"]
        let server = try await Self.startServer([], environment: env)
        let port = server.port
        defer {
            if server.process.isRunning { server.process.terminate() }
            Self.removeWorkingDirectory(server.process)
        }

        let signed = try await MoxyBinary.run(["sign", origin.url("/pixel.png"), "--base", "http://127.0.0.1:\(port)"], environment: env)
        #expect(signed.status == 0)
        let url = signed.out.trimmingCharacters(in: .whitespacesAndNewlines)
        let statuses = try await Self.getTwice(url, expecting: "pixel")
        #expect(statuses.first == "moxy; fwd=uri-miss; fwd-status=200; stored")
        #expect(statuses.last?.hasPrefix("moxy; hit; ttl=") == true)
        #expect(origin.count("/pixel.png") == 1)
        try await Self.stop(server)
    }

    @Test func aCamoUnitSwitchesByChangingOnlyTheBinary() async throws {
        let origin = try await Self.pixelOrigin()
        defer { Task { await origin.stop() } }
        // camo's environment (plus loopback, which camo reaches and Moxy refuses by default).
        let env = ["CAMO_KEY": "0x24FEEDFACEDEADBEEFCAFE", "MOXY_ALLOW_LOOPBACK": "true"]
        let server = try await Self.startServer([], environment: env)
        let port = server.port
        defer {
            if server.process.isRunning { server.process.terminate() }
            Self.removeWorkingDirectory(server.process)
        }
        let camo = try CamoSigner(keys: ["0x24FEEDFACEDEADBEEFCAFE"], formats: .camo)
        let statuses = try await Self.getTwice("http://127.0.0.1:\(port)" + camo.sign(origin.url("/pixel.png"), format: .hex), expecting: "pixel")
        #expect(statuses.first == "moxy; fwd=uri-miss; fwd-status=200; stored")
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        let bad = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/0000000000000000000000000000000000000000/00"), timeout: .seconds(5))
        #expect(bad.status.code == 404)
        let query = try await client.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(port)" + camo.sign(origin.url("/pixel.png"), format: .query)), timeout: .seconds(5))
        #expect(query.status.code == 200)
        try await client.shutdown()
        #expect(origin.count("/pixel.png") == 1)
        try await Self.stop(server)
    }

    @Test func aRouteFlagAloneFrontsAnUpstreamWithRFC9111Caching() async throws {
        let origin = TestOrigin()
        try await origin.start(group: MultiThreadedEventLoopGroup.singleton)
        defer { Task { await origin.stop() } }
        origin.route("/api/posts?page=2", OriginRoute(headers: [("Content-Type", "application/json"), ("Cache-Control", "max-age=60")], body: Array("[]".utf8)))
        // No key, no config file: `--route` is enough.
        let server = try await Self.startServer(["--route", "/=\(origin.url(""))"], environment: [:])
        let port = server.port
        defer {
            if server.process.isRunning { server.process.terminate() }
            Self.removeWorkingDirectory(server.process)
        }
        let statuses = try await Self.getTwice("http://127.0.0.1:\(port)/api/posts?page=2", expecting: "[]")
        #expect(statuses.first == "moxy; fwd=uri-miss; fwd-status=200; stored")
        #expect(statuses.last == "moxy; hit; ttl=60" || statuses.last == "moxy; hit; ttl=59")
        #expect(origin.count("/api/posts?page=2") == 1)
        try await Self.stop(server)
    }
}

@Suite struct ThreadCountTests {
    @Test func cpuListsAreCounted() {
        #expect(ProcessCPUs.count(list: "0-1") == 2)
        #expect(ProcessCPUs.count(list: "0,2-3,7") == 4)
        #expect(ProcessCPUs.count(list: " 5 ") == 1)
        #expect(ProcessCPUs.count(list: "3-1") == nil)
        #expect(ProcessCPUs.count(list: "x") == nil)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/taskset"), "taskset is not installed"))
    func serveUsesOneEventLoopPerAllowedCPU() async throws {
        let log = "/tmp/moxy-threads-\(getpid()).log"
        FileManager.default.createFile(atPath: log, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: log) }
        let directory = "/tmp/moxy-cli-test-threads-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let server = try SpawnedProcess(
            "/usr/bin/taskset", ["-c", "0", MoxyBinary.path, "serve", "--listen", "127.0.0.1:0"], environment: ["MOXY_KEY": "threads"],
            directory: directory, error: log)
        var text = ""
        for _ in 0..<100 where !text.contains("moxy listening") {
            try await Task.sleep(for: .milliseconds(50))
            text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        }
        await CLITests.kill(server)
        #expect(text.contains("threads=1"), "\(text)")
    }
}

/// `moxy serve` exited before saying where it listens.
struct StartFailure: Error, CustomStringConvertible {
    let log: String
    var description: String { "moxy did not start: \(log)" }
}
