// SPDX-License-Identifier: Apache-2.0

import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// A long-running program started with `posix_spawn` (a `moxy serve` under test): its pid, its
/// working directory, whether it still runs, how it ended. The handle reaps the child itself
/// (`waitpid` with `WNOHANG`, never blocking a thread of the Swift Concurrency pool).
///
/// It replaces Foundation's `Process` (see ``Spawn``: its `run()` crashed the test process in
/// CI), with the few members the tests used under the same names.
public final class SpawnedProcess: Sendable {
    /// How a process ended.
    public enum TerminationReason: Sendable { case exit, uncaughtSignal }

    /// The child's pid.
    public let processIdentifier: pid_t
    /// The directory it runs in.
    public let currentDirectory: String
    static let env = "/usr/bin/env"
    /// The raw `waitpid` status once reaped.
    private let reaped = NIOLockedValueBox<Int32?>(nil)

    /// Starts `path` with `arguments` and exactly `environment` in `directory`, standard input
    /// from `/dev/null`, output to `output` and error to `error` (files; `/dev/null` allowed).
    public init(
        _ path: String, _ arguments: [String], environment: [String: String], directory: String, output: String = "/dev/null",
        error: String
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, error, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        try Spawn.closeInherited(&actions, path: path)
        // `env -C` changes directory and execs in place (same pid): Glibc's
        // posix_spawn_file_actions_addchdir_np is not visible to Swift.
        let argv = ([Self.env, "-C", directory, path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, Self.env, &actions, nil, argv, envp)
        guard spawned == 0 else { throw SpawnError(path: path, errno: spawned) }
        self.processIdentifier = pid
        self.currentDirectory = directory
    }

    /// Reaps the child if it has ended; the status once it has.
    private func poll() -> Int32? {
        reaped.withLockedValue { reaped in
            if let reaped { return reaped }
            var status: Int32 = 0
            if waitpid(processIdentifier, &status, WNOHANG) == processIdentifier { reaped = status }
            return reaped
        }
    }

    /// Whether it still runs.
    public var isRunning: Bool { poll() == nil }

    /// Sends a signal (while it runs).
    public func signal(_ signal: Int32) {
        guard isRunning else { return }
        kill(processIdentifier, signal)
    }

    /// Sends SIGTERM.
    public func terminate() { signal(SIGTERM) }

    /// Waits (polling every 10 ms) until it ends or `seconds` pass.
    /// - Returns: Whether it ended.
    @discardableResult
    public func waitForExit(seconds: Double = 10) async -> Bool {
        for _ in 0..<Int(seconds * 100) where isRunning { try? await Task.sleep(for: .milliseconds(10)) }
        return !isRunning
    }

    /// Why it ended (`.exit` while it runs).
    public var terminationReason: TerminationReason {
        guard let status = poll() else { return .exit }
        return (status & 0x7f) == 0 ? .exit : .uncaughtSignal
    }

    /// Its exit status, or the signal that ended it (0 while it runs).
    public var terminationStatus: Int32 {
        guard let status = poll() else { return 0 }
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : status & 0x7f
    }
}
