// SPDX-License-Identifier: Apache-2.0

import MoxyRedis
import MoxyTestSupport
import NIOPosix
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `rediss://` against a real `redis-server` with TLS on: the server's certificate is verified
/// against the configured authority, and refused without it.
@Suite struct RedisTLSTests {
    /// A throw-away authority and a server certificate for 127.0.0.1 and localhost, made by `openssl`.
    static func certificates() async throws -> String {
        var template = Array("/tmp/moxy-redis-tls-XXXXXX".utf8CString)
        let directory = String(cString: try #require(mkdtemp(&template)))
        let d = directory + "/"
        let steps: [[String]] = [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "ca.key", "-out", d + "ca.crt", "-days", "1", "-subj", "/CN=moxy-test-ca"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "server.key", "-out", d + "server.csr", "-subj", "/CN=localhost"],
            ["x509", "-req", "-in", d + "server.csr", "-CA", d + "ca.crt", "-CAkey", d + "ca.key", "-CAcreateserial", "-CAserial", d + "ca.srl",
             "-out", d + "server.crt", "-days", "1", "-extfile", d + "ext"],
        ]
        let ext = fopen(directory + "/ext", "w")
        fputs("subjectAltName=DNS:localhost,IP:127.0.0.1\n", ext)
        fclose(ext)
        for step in steps {
            let result = try await Spawn.run("/usr/bin/openssl", step, environment: [:])
            #expect(result.status == 0, "\(result.err)")
        }
        return directory
    }

    @Test func aTLSConnectionVerifiesTheServersCertificate() async throws {
        let directory = try await Self.certificates()
        defer {
            for file in ["ca.key", "ca.crt", "ca.srl", "server.key", "server.csr", "server.crt", "ext"] { unlink(directory + "/" + file) }
            rmdir(directory)
        }
        let tlsPort = try RedisServer.freePort()
        try await RedisServer.with([
            "--tls-port", "\(tlsPort)", "--tls-cert-file", directory + "/server.crt", "--tls-key-file", directory + "/server.key",
            "--tls-ca-cert-file", directory + "/ca.crt", "--tls-auth-clients", "no",
        ]) { _ in
            var configuration = try RedisConfiguration(url: "rediss://127.0.0.1:\(tlsPort)")
            configuration.tlsCAFile = directory + "/ca.crt"
            let connection = try await RedisConnection.connect(configuration, on: MultiThreadedEventLoopGroup.singleton)
            #expect(try await connection.send(RedisCommand("PING")).string == "PONG")
            await connection.close()
            // By name: the name is sent and checked.
            configuration.host = "localhost"
            let byName = try await RedisConnection.connect(configuration, on: MultiThreadedEventLoopGroup.singleton)
            #expect(try await byName.send(RedisCommand("PING")).string == "PONG")
            await byName.close()
            // Without the authority (the system's roots): refused.
            configuration.tlsCAFile = nil
            await #expect(throws: RedisError.self) {
                try await RedisConnection.connect(configuration, on: MultiThreadedEventLoopGroup.singleton)
            }
        }
    }
}
