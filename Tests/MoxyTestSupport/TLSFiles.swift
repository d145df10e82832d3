// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif

/// Certificates for TLS tests, made by `openssl req` (Debian's `openssl`), and `curl` as the
/// client: real files, a real TLS stack on each side.
public enum TLSFiles {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// A fresh directory for a test's files.
    public static func directory() throws -> String {
        var template = Array("/tmp/moxy-tls-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure(description: "mkdtemp failed") }
        return String(cString: made)
    }

    /// Writes a self-signed P-256 certificate for `localhost` and 127.0.0.1, named by `name`
    /// (its subject's CN), as `name.pem` and `name.key` in `directory`.
    /// - Returns: The certificate and key paths.
    @discardableResult
    public static func makeCertificate(_ name: String, in directory: String) async throws -> (certificate: String, key: String) {
        let certificate = "\(directory)/\(name).pem", key = "\(directory)/\(name).key"
        let result = try await Spawn.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", certificate,
                "-days", "2", "-subj", "/CN=\(name)", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ],
            environment: ["PATH": "/usr/bin:/bin"], timeout: 30)
        guard result.status == 0 else { throw Failure(description: "openssl req failed: \(result.err)") }
        return (certificate, key)
    }

    /// Runs curl (no configuration file, 20 s at most).
    /// - Returns: Its exit status, standard output and error.
    public static func curl(_ arguments: [String]) async throws -> (status: Int32, out: String, err: String) {
        try await Spawn.run("/usr/bin/curl", ["-q", "--silent", "--show-error", "--max-time", "20"] + arguments, environment: ["PATH": "/usr/bin:/bin"], timeout: 30)
    }

    /// The subject CN of the certificate a TLS server on `port` presents.
    public static func presentedName(port: Int) async throws -> String {
        let result = try await Spawn.run(
            "/bin/sh", ["-c", "openssl s_client -connect 127.0.0.1:\(port) -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -subject"],
            environment: ["PATH": "/usr/bin:/bin"], timeout: 30)
        guard let range = result.out.firstRange(of: "CN = ") ?? result.out.firstRange(of: "CN=") else {
            throw Failure(description: "no certificate from port \(port): \(result.out) \(result.err)")
        }
        return String(result.out[range.upperBound...].prefix { !$0.isNewline && $0 != "," })
    }
}
