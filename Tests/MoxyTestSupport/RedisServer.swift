// SPDX-License-Identifier: Apache-2.0

import MoxyRedis
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A real `redis-server` (Debian's `redis-server` package) on a loopback port, in its own
/// directory, persistence off; stopped by ``stop()``.
public final class RedisServer: Sendable {
    public static let path = "/usr/bin/redis-server"
    public let port: Int
    public let directory: String
    public let process: SpawnedProcess

    private init(port: Int, directory: String, process: SpawnedProcess) {
        self.port = port
        self.directory = directory
        self.process = process
    }

    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts a server (on `port`, or a free one) with extra `redis.conf` directives as arguments
    /// (`["--requirepass", "pw"]`), and waits until it answers.
    public static func start(_ extra: [String] = [], port fixedPort: Int? = nil) async throws -> RedisServer {
        guard access(path, X_OK) == 0 else { throw StartError(description: "redis-server is missing: apt-get install redis-server") }
        var template = Array("/tmp/moxy-redis-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw StartError(description: "mkdtemp failed") }
        let directory = String(cString: made)
        // A port found free can be taken before redis binds it: try another a few times.
        for _ in 0..<5 {
            let port = try fixedPort ?? freePort()
            let arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory, "--daemonize", "no"] + extra
            let process = try SpawnedProcess(path, arguments, environment: [:], directory: directory, output: directory + "/log", error: directory + "/log")
            let server = RedisServer(port: port, directory: directory, process: process)
            if await server.waitUntilAnswering(password: extra.firstIndex(of: "--requirepass").map { extra[$0 + 1] }) { return server }
            process.signal(SIGKILL)
            _ = await process.waitForExit(seconds: 5)
            if fixedPort != nil { break }
        }
        throw StartError(description: "redis-server did not start (log in \(directory)/log)")
    }

    /// Polls until this server answers (10 s at most) or its process ends. The server on the
    /// port must be this one (its `dir` is this directory): when another test's server took the
    /// port first, this one exits for want of it, and a plain PING would have been answered by
    /// the other, so two tests would have shared one Redis.
    private func waitUntilAnswering(password: String?) async -> Bool {
        for _ in 0..<200 {
            guard process.isRunning else { return false }
            do throws(RedisError) {
                let connection = try await RedisConnection.connect(
                    RedisConfiguration(port: port, password: password, connectTimeout: 10, commandTimeout: 10), on: MultiThreadedEventLoopGroup.singleton)
                let dir = try await connection.send(RedisCommand("CONFIG", "GET", "dir")).elements?.last?.string
                await connection.close()
                return dir == directory
            } catch {
                // Not listening yet.
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// Stops it at once (SIGKILL) and waits for the exit.
    public func kill() async {
        process.signal(SIGKILL)
        _ = await process.waitForExit(seconds: 10)
    }

    /// Stops it and removes its directory.
    public func stop() async {
        await kill()
        _ = unlink(directory + "/log")
        _ = rmdir(directory)
    }

    /// A loopback TCP port nothing listens on right now.
    public static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw StartError(description: "socket failed") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) } }
        guard bound == 0 else { throw StartError(description: "bind failed") }
        let named = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) } }
        guard named == 0 else { throw StartError(description: "getsockname failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Runs `body` with a fresh server, stopped on every path.
    public static func with<T>(_ extra: [String] = [], _ body: (RedisServer) async throws -> T) async throws -> T {
        let server = try await start(extra)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }
}
