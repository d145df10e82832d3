// SPDX-License-Identifier: Apache-2.0

import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to completion with `posix_spawn` directly, its output captured in files.
///
/// Not Foundation's `Process`: on Linux with Swift 6.3.1 its `run()` crashes now and then
/// (a 256-byte over-read of `/proc/self/fd` entries in `findMaximumOpenFromProcSelfFD`,
/// swift-corelibs-foundation PR #5472), which took the whole test process down in CI.
///
/// Waiting happens on threads of a pool of its own (``waiters``), never on the Swift Concurrency
/// pool nor on `DispatchQueue.global()`: on Linux the concurrency pool is a queue on Dispatch's
/// global root queue, which keeps as many threads runnable as there are cores (two here) and adds
/// one for a blocked thread only after its monitor notices, up to a second later. Programs waited
/// on there stalled every socket test (connect and read timeouts). Nor is the wait a loop of
/// `Task.sleep`s: on a loaded pool those oversleep, and the memory samples missed whole programs.
public enum Spawn {
    static let nice = "/usr/bin/nice"

    /// Runs `path` with `arguments` and exactly `environment`; kills it after `timeout` seconds.
    /// - Returns: Its exit status (128 + signal when killed), standard output and error.
    public static func run(
        _ path: String, _ arguments: [String], environment: [String: String], timeout: Double = 120
    ) async throws -> (status: Int32, out: String, err: String) {
        let base = "/tmp/moxy-spawn-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let outPath = base + ".out", errPath = base + ".err"
        defer {
            unlink(outPath)
            unlink(errPath)
        }
        let result = try await run(path, arguments, environment: environment, input: "/dev/null", output: outPath, error: errPath, timeout: timeout)
        return (result.status, read(outPath), read(errPath))
    }

    /// Runs `path` with standard input, output and error connected to files.
    /// - Returns: Its exit status (128 + signal when killed) and its peak resident set in KiB
    ///   (sampled every 10 ms, so meaningful for programs that run a while).
    public static func run(
        _ path: String, _ arguments: [String], environment: [String: String], input: String, output: String, error: String,
        timeout: Double = 120
    ) async throws -> (status: Int32, maxRSSKiB: Int) {
        try await waiters.runIfActive {
            try runBlocking(path, arguments, environment: environment, input: input, output: output, error: error, timeout: timeout)
        }
    }

    /// Threads that only wait for children (up to 16 at once; more queue), started on first use.
    static let waiters: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 16)
        pool.start()
        return pool
    }()

    static func runBlocking(
        _ path: String, _ arguments: [String], environment: [String: String], input: String, output: String, error: String,
        timeout: Double
    ) throws -> (status: Int32, maxRSSKiB: Int) {
        let pid = try spawn(path, arguments, environment: environment, input: input, output: output, error: error)
        var status: Int32 = 0
        var waited: Double = 0
        var peak = 0
        // The peak is sampled from /proc (VmHWM, since exec) while the child runs: wait4's
        // ru_maxrss would count the test process's own memory, which a vfork-style spawn shares.
        while waitpid(pid, &status, WNOHANG) == 0 {
            peak = max(peak, highWaterMark(pid))
            if waited >= timeout {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                break
            }
            usleep(10_000)
            waited += 0.01
        }
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exit, peak)
    }

    /// Starts the program (under `nice` when there is one) and returns its pid.
    static func spawn(
        _ path: String, _ arguments: [String], environment: [String: String], input: String, output: String, error: String
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, error, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        try closeInherited(&actions, path: path)
        // Under `nice`: the servers the tests run in this process come first on a busy machine, so
        // an interpreter, a compiler or a long rewrite slows only itself (nice execs in place).
        let niced = access(nice, X_OK) == 0
        let argv = ((niced ? [nice, "-n", "10"] : []) + [path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, niced ? nice : path, &actions, nil, argv, envp)
        guard spawned == 0 else { throw SpawnError(path: path, errno: spawned) }
        return pid
    }

    /// Adds "close every descriptor from 3 up" to a spawn's actions. SwiftNIO opens its sockets
    /// without `O_CLOEXEC`, so a child would otherwise keep every socket the test process has open
    /// at that moment: a connection a test origin closes stays open in the child (the peer never
    /// sees the end and times out), and a listener keeps accepting connections nobody answers.
    /// Glibc 2.34's `posix_spawn_file_actions_addclosefrom_np`, looked up at run time: Swift's
    /// Glibc module does not declare it.
    static func closeInherited(_ actions: inout posix_spawn_file_actions_t, path: String) throws {
        guard let closeFrom = addCloseFrom else { throw SpawnError(path: path, errno: ENOSYS) }
        let failed = closeFrom(&actions, 3)
        guard failed == 0 else { throw SpawnError(path: path, errno: failed) }
    }

    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    static let addCloseFrom: AddCloseFrom? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: AddCloseFrom.self) }

    /// A running process's peak resident set in KiB (`VmHWM` of `/proc/PID/status`), or 0.
    static func highWaterMark(_ pid: pid_t) -> Int {
        let status = read("/proc/\(pid)/status")
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    static func read(_ path: String) -> String {
        guard let file = fopen(path, "r") else { return "" }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count <= 0 { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A program that could not be started.
public struct SpawnError: Error, CustomStringConvertible {
    public let path: String
    public let errno: Int32
    public var description: String { "cannot run \(path): errno \(errno)" }
}
