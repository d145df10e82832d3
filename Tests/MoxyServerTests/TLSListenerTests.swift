// SPDX-License-Identifier: Apache-2.0

import Foundation
import MoxyServer
import MoxyTestSupport
import NIOHTTP1
import Testing

/// Moxy's own TLS listener against curl and openssl: TLS 1.2 and 1.3 only, HTTP/1.1 by ALPN (HTTP/2: HTTP2Tests),
/// stored and disk bodies over TLS, and certificates reloaded without dropping a download.
@Suite struct TLSListenerTests {
    static func configure(_ files: (certificate: String, key: String), disk: String? = nil) -> (inout ServerConfiguration) -> Void {
        {
            $0.tls = TLSListenerConfiguration(host: "127.0.0.1", port: 0, certificatePath: files.certificate, keyPath: files.key)
            $0.diskCachePath = disk
        }
    }

    static func url(_ moxy: MoxyHarness, _ path: String) throws -> String {
        "https://localhost:\(try #require(moxy.server.tlsPort))\(path)"
    }

    static func resolve(_ moxy: MoxyHarness) throws -> [String] {
        ["--resolve", "localhost:\(try #require(moxy.server.tlsPort)):127.0.0.1"]
    }

    @Test func hitsAndMissesOverTLSWithHTTP1() async throws {
        let directory = try TLSFiles.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = try await TLSFiles.makeCertificate("first", in: directory)
        try await MoxyHarness.run(configure: Self.configure(files), routes: { [try originRoute($0)] }) { moxy in
            moxy.origin.route("/a", text("over tls", [("Cache-Control", "max-age=600")]))
            for expected in ["fwd=uri-miss", "moxy; hit"] {
                let result = try await TLSFiles.curl(
                    try Self.resolve(moxy) + ["--cacert", files.certificate, "--http1.1", "-D", "-", "-w", "\n%{http_version}", try Self.url(moxy, "/a")])
                #expect(result.status == 0, "\(result.err)")
                #expect(result.out.contains("over tls\n1.1"), "\(result.out)")
                #expect(result.out.lowercased().contains("cache-status: moxy; " + expected.replacingOccurrences(of: "moxy; ", with: "")), "\(result.out)")
            }
            // The route's upstream hears that the client came over TLS.
            #expect(moxy.origin.headers("/a")?.first(name: "x-forwarded-proto") == "https")
            // The plain listener still answers, and its requests say http.
            moxy.origin.route("/b", text("plain", [("Cache-Control", "no-store")]))
            #expect(try await moxy.request("/b").text == "plain")
            #expect(moxy.origin.headers("/b")?.first(name: "x-forwarded-proto") == "http")
        }
    }

    @Test func onlyTLS12And13AreSpoken() async throws {
        let directory = try TLSFiles.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = try await TLSFiles.makeCertificate("versions", in: directory)
        try await MoxyHarness.run(configure: Self.configure(files), routes: { [try originRoute($0)] }) { moxy in
            moxy.origin.route("/v", text("v", [("Cache-Control", "max-age=600")]))
            let base = try Self.resolve(moxy) + ["--cacert", files.certificate, "-o", "/dev/null", "-w", "%{http_code}"]
            for version in [["--tlsv1.2", "--tls-max", "1.2"], ["--tlsv1.3"]] {
                let result = try await TLSFiles.curl(base + version + [try Self.url(moxy, "/v")])
                #expect(result.status == 0 && result.out == "200", "\(version): \(result.err)")
            }
            // TLS 1.1, with the client's own floor lowered so that the refusal is the server's.
            let old = try await TLSFiles.curl(base + ["--tlsv1.1", "--tls-max", "1.1", "--ciphers", "DEFAULT@SECLEVEL=0", try Self.url(moxy, "/v")])
            #expect(old.status == 35, "a handshake failure: \(old.status) \(old.err)")
        }
    }

    @Test func aLargeEntryOnDiskIsReadAndEncryptedInsteadOfSentWithSendfile() async throws {
        let directory = try TLSFiles.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = try await TLSFiles.makeCertificate("disk", in: directory)
        let body = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        try await MoxyHarness.run(
            configure: { configuration in
                Self.configure(files, disk: directory + "/cache")(&configuration)
                configuration.memoryMaxObjectSize = 64 << 10
            }, realTime: true, routes: { [try originRoute($0)] }
        ) { moxy in
            moxy.origin.route("/big", OriginRoute(headers: [("Content-Type", "application/octet-stream"), ("Cache-Control", "max-age=600")], body: body))
            _ = try await moxy.request("/big")
            try await moxy.waitForUpstreamWork()
            let saved = directory + "/big.out"
            for _ in 0..<2 {
                let result = try await TLSFiles.curl(
                    try Self.resolve(moxy) + ["--cacert", files.certificate, "-o", saved, "-D", "-", try Self.url(moxy, "/big")])
                #expect(result.status == 0, "\(result.err)")
                #expect(Array(try Data(contentsOf: URL(fileURLWithPath: saved))) == body)
                #expect(result.out.lowercased().contains("cache-status: moxy; hit"), "\(result.out)")
            }
            #expect(moxy.origin.count("/big") == 1)
        }
    }

    @Test func aReloadedCertificateServesNewConnectionsWhileADownloadCompletes() async throws {
        let directory = try TLSFiles.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try await TLSFiles.makeCertificate("first", in: directory)
        let second = try await TLSFiles.makeCertificate("second", in: directory)
        let live = (certificate: directory + "/live.pem", key: directory + "/live.key")
        func install(_ files: (certificate: String, key: String)) throws {
            for (from, to) in [(files.certificate, live.certificate), (files.key, live.key)] {
                try? FileManager.default.removeItem(atPath: to)
                try FileManager.default.copyItem(atPath: from, toPath: to)
            }
        }
        try install(first)
        var configuration: ServerConfiguration? = nil
        try await MoxyHarness.run(
            configure: { Self.configure(live)(&$0); configuration = $0 }, realTime: true, routes: { [try originRoute($0)] }
        ) { moxy in
            #expect(try await TLSFiles.presentedName(port: try #require(moxy.server.tlsPort)) == "first")
            let body = [UInt8](repeating: 42, count: 1 << 20)
            var slow = OriginRoute(headers: [("Content-Type", "application/octet-stream"), ("Cache-Control", "no-store")], body: body, chunks: 16)
            slow.pauseAfterPieces = 4
            moxy.origin.route("/stream", slow)
            let saved = directory + "/stream.out"
            async let download = TLSFiles.curl(try Self.resolve(moxy) + ["--cacert", first.certificate, "-o", saved, try Self.url(moxy, "/stream")])
            try await waitUntil { moxy.origin.pausedBodyCount == 1 }
            // An ACME client renews: new files in place, then a reload.
            try install(second)
            let reloaded = moxy.server.reload(configuration: try #require(configuration), signer: moxy.signer)
            #expect(reloaded.error == nil && reloaded.notes.contains { $0.hasPrefix("tls: certificate reloaded") }, "\(reloaded)")
            #expect(try await TLSFiles.presentedName(port: try #require(moxy.server.tlsPort)) == "second")
            moxy.origin.resumeBodies()
            let result = try await download
            #expect(result.status == 0, "the download on the old certificate completed: \(result.err)")
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: saved))) == body)

            // A bad renewal (a key that does not match) is refused with its reason; the old certificate stays.
            try FileManager.default.removeItem(atPath: live.key)
            try FileManager.default.copyItem(atPath: first.key, toPath: live.key)
            let refused = moxy.server.reload(configuration: try #require(configuration), signer: moxy.signer)
            #expect(refused.error?.contains("tls.cert and tls.key do not make a TLS context") == true, "\(refused)")
            try "not a certificate".write(toFile: live.certificate, atomically: true, encoding: .utf8)
            let garbage = moxy.server.reload(configuration: try #require(configuration), signer: moxy.signer)
            #expect(garbage.error?.contains("not a PEM certificate file") == true, "\(garbage)")
            #expect(try await TLSFiles.presentedName(port: try #require(moxy.server.tlsPort)) == "second")
        }
    }
}
