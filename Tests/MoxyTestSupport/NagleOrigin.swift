// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif

/// A real Python `http.server` on a loopback port that answers every `GET` and `POST` (kept alive)
/// with a 1 KiB `no-store` body: it sends the head and the body in two `send` calls with Nagle's
/// algorithm on (no `TCP_NODELAY`), as Python's server and many small app servers do. The body
/// leaves only once the head is acknowledged, so a client whose kernel delays acknowledgements
/// waits 40 ms per response on a reused connection.
///
/// A NIO origin with `TCP_NODELAY` off did not reproduce the stall (its responses went out at
/// once), so the test runs the program users run.
public final class NagleOrigin: Sendable {
    /// The bound port.
    public let port: Int
    private let process: SpawnedProcess
    private let directory: String

    static let script = """
        import http.server, sys
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.do_GET()
            def do_GET(self):
                body = b"x" * 1024
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args):
                pass
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        with open(sys.argv[1] + ".tmp", "w") as out:
            out.write(str(server.server_address[1]))
        import os
        os.rename(sys.argv[1] + ".tmp", sys.argv[1])
        server.serve_forever()
        """

    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    private init(port: Int, process: SpawnedProcess, directory: String) {
        self.port = port
        self.process = process
        self.directory = directory
    }

    /// Starts `python3` (from `PATH`) on a free loopback port and waits (10 s at most) until it
    /// has bound.
    public static func start() async throws -> NagleOrigin {
        var template = Array("/tmp/moxy-nagle-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw StartError(description: "mkdtemp failed") }
        let directory = String(cString: made)
        let scriptPath = directory + "/origin.py"
        let portPath = directory + "/port"
        guard let file = fopen(scriptPath, "w") else { throw StartError(description: "cannot write \(scriptPath)") }
        fputs(script, file)
        fclose(file)
        let environment = ["PATH": getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"]
        let process = try SpawnedProcess("python3", [scriptPath, portPath], environment: environment, directory: directory, error: directory + "/log")
        for _ in 0..<1000 where process.isRunning {
            if let text = read(portPath), let port = Int(text) {
                return NagleOrigin(port: port, process: process, directory: directory)
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        process.signal(SIGKILL)
        _ = await process.waitForExit(seconds: 5)
        throw StartError(description: "python3 http.server did not start (log in \(directory)/log)")
    }

    private static func read(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 32)
        guard fgets(&buffer, 32, file) != nil else { return nil }
        return String(cString: buffer)
    }

    /// Ends the program and waits for it.
    public func stop() async {
        process.signal(SIGKILL)
        _ = await process.waitForExit(seconds: 5)
    }

    /// `http://127.0.0.1:PORT`.
    public var url: String { "http://127.0.0.1:\(port)" }
}
