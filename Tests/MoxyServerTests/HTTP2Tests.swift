// SPDX-License-Identifier: Apache-2.0

import Foundation
import MoxyServer
import MoxyTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// HTTP/2 over TLS (ALPN `h2`) against curl, and its protocol edges against Python's `h2`
/// package: each stream takes the same dispatcher and writers as an HTTP/1.1 request.
@Suite struct HTTP2Tests {
    static func run(
        idle: Double = 75, memoryMaxObject: Int? = nil, _ body: @escaping (MoxyHarness, (certificate: String, key: String)) async throws -> Void
    ) async throws {
        let directory = try TLSFiles.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = try await TLSFiles.makeCertificate("h2", in: directory)
        try await MoxyHarness.run(
            configure: {
                $0.tls = TLSListenerConfiguration(host: "127.0.0.1", port: 0, certificatePath: files.certificate, keyPath: files.key)
                $0.diskCachePath = directory + "/cache"
                $0.idleTimeout = idle
                if let memoryMaxObject { $0.memoryMaxObjectSize = memoryMaxObject }
            }, realTime: true, routes: { [try originRoute($0)] }
        ) { moxy in try await body(moxy, files) }
    }

    static func curl(_ moxy: MoxyHarness, _ files: (certificate: String, key: String), _ arguments: [String], _ path: String) async throws
        -> (status: Int32, out: String, err: String)
    {
        let port = try #require(moxy.server.tlsPort)
        return try await TLSFiles.curl(
            ["--resolve", "localhost:\(port):127.0.0.1", "--cacert", files.certificate] + arguments + ["https://localhost:\(port)\(path)"])
    }

    @Test func hitsMissesConditionalsRangesAndBodiesOverHTTP2() async throws {
        try await Self.run { moxy, files in
            moxy.origin.route("/a", text("over h2", [("Cache-Control", "max-age=600"), ("ETag", "\"e1\"")]))
            for expected in ["fwd=uri-miss", "hit"] {
                let result = try await Self.curl(moxy, files, ["--http2", "-D", "-", "-w", "\n%{http_version}"], "/a")
                #expect(result.status == 0, "\(result.err)")
                #expect(result.out.hasPrefix("HTTP/2 200") && result.out.hasSuffix("over h2\n2"), "\(result.out) \(result.err)")
                #expect(result.out.contains("cache-status: moxy; \(expected)"), "\(result.out)")
                #expect(!result.out.contains("connection:") && !result.out.contains("transfer-encoding:"))
            }
            let head = try await Self.curl(moxy, files, ["--http2", "-I"], "/a")
            #expect(head.out.hasPrefix("HTTP/2 200") && head.out.contains("content-length: 7"), "\(head.out)")
            let notModified = try await Self.curl(moxy, files, ["--http2", "-D", "-", "-H", "If-None-Match: \"e1\""], "/a")
            #expect(notModified.out.hasPrefix("HTTP/2 304"), "\(notModified.out)")
            let range = try await Self.curl(moxy, files, ["--http2", "-D", "-", "-r", "1-3"], "/a")
            #expect(range.out.hasPrefix("HTTP/2 206") && range.out.hasSuffix("ver"), "\(range.out)")
            // HTTP/1.1 on the same listener still works (ALPN http/1.1).
            let old = try await Self.curl(moxy, files, ["--http1.1", "-w", "%{http_version}", "-o", "/dev/null"], "/a")
            #expect(old.out == "1.1")

            // A large body, stored and then served from memory; a body of unknown length, streamed.
            let big = (0..<(600 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 11) }
            moxy.origin.route("/big", OriginRoute(headers: [("Content-Type", "application/octet-stream"), ("Cache-Control", "max-age=600")], body: big, chunks: 8))
            let saved = NSTemporaryDirectory() + "moxy-h2-\(UInt32.random(in: 0...UInt32.max))"
            defer { try? FileManager.default.removeItem(atPath: saved) }
            for _ in 0..<2 {
                let result = try await Self.curl(moxy, files, ["--http2", "-o", saved, "-w", "%{http_version}"], "/big")
                #expect(result.status == 0 && result.out == "2", "\(result.err)")
                #expect(Array(try Data(contentsOf: URL(fileURLWithPath: saved))) == big)
            }
            #expect(moxy.origin.count("/big") == 1)
        }
    }

    @Test func aRequestBodyIsForwardedWhole() async throws {
        try await Self.run { moxy, files in
            moxy.origin.respond("/echo") { request in text("got \(request.body.count) bytes, \(request.method)") }
            let body = String(repeating: "x", count: 100_000)
            let upload = NSTemporaryDirectory() + "moxy-h2-up-\(UInt32.random(in: 0...UInt32.max))"
            try body.write(toFile: upload, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: upload) }
            let result = try await Self.curl(moxy, files, ["--http2", "--data-binary", "@" + upload, "-H", "Content-Type: text/plain"], "/echo")
            #expect(result.out == "got 100000 bytes, POST", "\(result.out) \(result.err)")
            // Without a content-length (a stream the client did not size), re-framed as chunks.
            let chunked = try await Self.curl(
                moxy, files, ["--http2", "-X", "PUT", "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + upload], "/echo")
            #expect(chunked.out == "got 100000 bytes, PUT", "\(chunked.out) \(chunked.err)")
        }
    }

    /// A body kept on disk only (over the memory tier's entry limit) is read block by block and
    /// sent as DATA frames as the stream's window allows: the first request streams it while it
    /// downloads, the next reads the stored file.
    @Test func aDiskBodyGoesOutAsFrames() async throws {
        try await Self.run(memoryMaxObject: 64 << 10) { moxy, files in
            let body = (0..<(2 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 10) }
            moxy.origin.route("/disk", OriginRoute(headers: [("Content-Type", "application/octet-stream"), ("Cache-Control", "max-age=600")], body: body, chunks: 16))
            let saved = NSTemporaryDirectory() + "moxy-h2-disk-\(UInt32.random(in: 0...UInt32.max))"
            defer { try? FileManager.default.removeItem(atPath: saved) }
            for expected in ["fwd=uri-miss", "hit"] {
                let result = try await Self.curl(moxy, files, ["--http2", "-o", saved, "-D", "-"], "/disk")
                #expect(result.status == 0 && result.out.contains("cache-status: moxy; \(expected)"), "\(result.out) \(result.err)")
                #expect(Array(try Data(contentsOf: URL(fileURLWithPath: saved))) == body)
                try await moxy.waitForUpstreamWork()
            }
            #expect(moxy.origin.count("/disk") == 1)
        }
    }

    /// `http2.cleartext`: the plain listener takes HTTP/2 with prior knowledge beside HTTP/1.1,
    /// whatever pieces the preface arrives in; without the setting it is refused.
    @Test func priorKnowledgeOnThePlainListener() async throws {
        try await MoxyHarness.run(configure: { $0.cleartextHTTP2 = true }, routes: { [try originRoute($0)] }) { moxy in
            moxy.origin.route("/c", text("cleartext", [("Cache-Control", "max-age=600")]))
            let url = "http://127.0.0.1:\(moxy.port)/c"
            let h2 = try await TLSFiles.curl(["--http2-prior-knowledge", "-w", "%{http_version}", url])
            #expect(h2.out == "cleartext2", "\(h2.out) \(h2.err)")
            let h1 = try await TLSFiles.curl(["--http1.1", "-w", "%{http_version}", url])
            #expect(h1.out == "cleartext1.1", "\(h1.out) \(h1.err)")
            // The preface in pieces (1 byte, then the rest after a pause) is still told apart.
            let script = NSTemporaryDirectory() + "moxy-h2c-\(UInt32.random(in: 0...UInt32.max)).py"
            try Self.piecesScript.write(toFile: script, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: script) }
            let pieces = try await Spawn.run("/usr/bin/python3", [script, String(moxy.port)], environment: ["PATH": "/usr/bin:/bin"], timeout: 30)
            #expect(pieces.out == "200 cleartext\n", "\(pieces.out) \(pieces.err)")
            #expect(try await moxy.request("/c").text == "cleartext")
        }
        try await MoxyHarness.run(routes: { [try originRoute($0)] }) { moxy in
            let refused = try await TLSFiles.curl(["--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(moxy.port)/c"])
            #expect(refused.out != "200", "no h2c without the setting: \(refused.out)")
        }
    }

    static let piecesScript = #"""
        import socket, sys, time
        import h2.config, h2.connection, h2.events
        sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
        conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        conn.initiate_connection()
        conn.send_headers(1, [(":method", "GET"), (":path", "/c"), (":scheme", "http"), (":authority", "localhost")], end_stream=True)
        data = conn.data_to_send()
        sock.sendall(data[:1])
        time.sleep(0.2)
        sock.sendall(data[1:])
        status, body = None, b""
        sock.settimeout(10)
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            for event in conn.receive_data(chunk):
                if isinstance(event, h2.events.ResponseReceived):
                    status = dict(event.headers)[":status"]
                elif isinstance(event, h2.events.DataReceived):
                    body += event.data
                    conn.acknowledge_received_data(len(event.data), event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    print(status, body.decode())
                    sys.exit(0)
            sock.sendall(conn.data_to_send())
        print("closed", status, body)
        """#

    /// A download that outlasts the idle timeout keeps its connection while its frames go out
    /// (the client, whose window is open, sends nothing meanwhile).
    @Test func aSlowDownloadOutlastsTheIdleTimeout() async throws {
        // 40 pieces 250 ms apart: 10 s in all against an idle timeout of 8 s, so that only a gap of
        // 32 pieces' time without a frame closes it (16 x 250 ms against 3 s, and 24 x 250 ms
        // against 4 s, each failed once while the whole suite ran beside it).
        try await Self.run(idle: 8) { moxy, files in
            let body = [UInt8](repeating: 9, count: 160 << 10)
            moxy.origin.route(
                "/slow", OriginRoute(headers: [("Content-Type", "application/octet-stream"), ("Cache-Control", "no-store")], body: body, chunks: 40, chunkDelay: .milliseconds(250)))
            let result = try await Self.curl(moxy, files, ["--http2", "-o", "/dev/null", "-w", "%{http_code} %{size_download}"], "/slow")
            #expect(result.out == "200 163840", "\(result.out) \(result.err)")
        }
    }

    /// The attacks a server must withstand (python3 h2, raw frames where the library will not send them).
    @Test(arguments: ["rapid-reset", "continuation-flood", "hpack-bomb", "window-never-opens"])
    func protocolAttacksEndTheConnection(_ attack: String) async throws {
        // A short idle timeout only where the attack is to hold the connection without a frame.
        try await Self.run(idle: attack == "window-never-opens" ? 3 : 75) { moxy, files in
            moxy.origin.route("/x", OriginRoute(headers: [("Content-Type", "application/octet-stream"), ("Cache-Control", "max-age=600")], body: Array(repeating: 1, count: 1 << 20)))
            // Stored before the attack, so that the check after it is a hit.
            moxy.origin.route("/small", text("ok", [("Cache-Control", "max-age=600")]))
            #expect(try await moxy.request("/small").text == "ok")
            let script = NSTemporaryDirectory() + "moxy-h2-attack-\(UInt32.random(in: 0...UInt32.max)).py"
            try Self.attackScript.write(toFile: script, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: script) }
            let result = try await Spawn.run(
                "/usr/bin/python3", [script, attack, String(try #require(moxy.server.tlsPort)), files.certificate], environment: ["PATH": "/usr/bin:/bin"],
                timeout: 60)
            #expect(result.status == 0, "\(result.out) \(result.err)")
            #expect(result.out.hasPrefix("ended"), "\(attack): \(result.out) \(result.err)")
            // The server is unharmed: a fresh connection is answered.
            let after = try await Self.curl(moxy, files, ["--http2", "-o", "/dev/null", "-w", "%{http_code}"], "/small")
            #expect(after.out == "200", "\(after.err)")
        }
    }

    static let attackScript = #"""
        import socket, ssl, struct, sys, time
        import h2.config, h2.connection, h2.events, h2.exceptions, h2.settings, hpack

        attack, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
        context = ssl.create_default_context(cafile=ca)
        context.set_alpn_protocols(["h2"])
        sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
        assert sock.selected_alpn_protocol() == "h2", sock.selected_alpn_protocol()
        conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        if attack == "window-never-opens":
            conn.local_settings = h2.settings.Settings(client=True, initial_values={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        request = [(":method", "GET"), (":path", "/x"), (":scheme", "https"), (":authority", "localhost")]

        def frame(kind, flags, stream, payload):
            return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload

        def ended(within):
            # Reads until the server ends the connection (GOAWAY or close); never sends WINDOW_UPDATE itself.
            sock.settimeout(within)
            deadline = time.time() + within
            try:
                while time.time() < deadline:
                    data = sock.recv(65536)
                    if not data:
                        return "ended: closed"
                    for event in conn.receive_data(data):
                        if isinstance(event, h2.events.ConnectionTerminated):
                            return "ended: goaway %s" % event.error_code
                    if attack != "window-never-opens":
                        out = conn.data_to_send()
                        if out:
                            sock.sendall(out)
            except socket.timeout:
                return "open"
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError, h2.exceptions.ProtocolError) as error:
                return "ended: %s" % type(error).__name__
            return "open"

        try:
            if attack == "rapid-reset":
                for _ in range(5000):
                    stream = conn.get_next_available_stream_id()
                    conn.send_headers(stream, request, end_stream=True)
                    conn.reset_stream(stream)
                    sock.sendall(conn.data_to_send())
            elif attack == "continuation-flood":
                block = hpack.Encoder().encode(request)
                sock.sendall(frame(0x1, 0x1, 1, block))  # HEADERS, END_STREAM, no END_HEADERS
                for _ in range(10000):
                    sock.sendall(frame(0x9, 0x0, 1, b"\x00"))  # CONTINUATION, never the last
            elif attack == "hpack-bomb":
                conn.send_headers(1, request + [("x-bomb", "a" * 4000)] * 100, end_stream=True)
                sock.sendall(conn.data_to_send())
            elif attack == "window-never-opens":
                conn.send_headers(1, request, end_stream=True)
                sock.sendall(conn.data_to_send())
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError) as error:
            print("ended: while sending (%s)" % type(error).__name__)
            sys.exit(0)
        print(ended(20))
        """#
}
