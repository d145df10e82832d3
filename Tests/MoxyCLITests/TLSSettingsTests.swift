// SPDX-License-Identifier: Apache-2.0

import Configuration
import Foundation
import MoxyCLI
import MoxyServer
import MoxyTestSupport
import Testing

/// `tls.*` from flags, the environment and a go-camo unit's variables; `moxy serve` refusing
/// files that cannot serve.
@Suite struct TLSSettingsTests {
    static let route: [String: ConfigContent] = ["routes": .stringArray(["/=http://127.0.0.1:1"])]

    @Test func listenCertAndKeyTogether() throws {
        let settings = try MoxySettings.load(
            flags: Self.route.merging(["tls.listen": .string(":8443"), "tls.cert": .string("/c.pem"), "tls.key": .string("/k.pem")]) { $1 },
            environment: [:], configFile: nil)
        #expect(settings.server.tls == TLSListenerConfiguration(host: "0.0.0.0", port: 8443, certificatePath: "/c.pem", keyPath: "/k.pem"))
        let fromEnvironment = try MoxySettings.load(
            flags: Self.route, environment: ["MOXY_TLS_LISTEN": "127.0.0.1:9443", "MOXY_TLS_CERT": "/e.pem", "MOXY_TLS_KEY": "/e.key"], configFile: nil)
        #expect(fromEnvironment.server.tls?.port == 9443 && fromEnvironment.server.tls?.keyPath == "/e.key")
        #expect(try MoxySettings.load(flags: Self.route, environment: [:], configFile: nil).server.tls == nil)
    }

    @Test(arguments: [
        (["tls.listen": ConfigContent.string(":8443")], "tls.listen needs tls.cert and tls.key"),
        (["tls.cert": ConfigContent.string("/c.pem"), "tls.key": .string("/k.pem")], "serve only with tls.listen"),
        (["tls.listen": ConfigContent.string("nowhere"), "tls.cert": .string("/c.pem"), "tls.key": .string("/k.pem")], "invalid tls.listen"),
    ])
    func incompleteSettingsAreRefused(_ flags: [String: ConfigContent], _ reason: String) {
        #expect(throws: SettingsError.self) { try MoxySettings.load(flags: Self.route.merging(flags) { $1 }, environment: [:], configFile: nil) }
        do {
            _ = try MoxySettings.load(flags: Self.route.merging(flags) { $1 }, environment: [:], configFile: nil)
        } catch {
            #expect("\(error)".contains(reason), "\(error)")
        }
    }

    @Test func aGoCamoUnitsTLSVariables() throws {
        let settings = try MoxySettings.load(
            environment: ["GOCAMO_HMAC": "secret", "GOCAMO_SSL_LISTEN": ":8443", "GOCAMO_SSL_CERT": "/etc/camo/cert.pem", "GOCAMO_SSL_KEY": "/etc/camo/key.pem"],
            configFile: nil)
        #expect(settings.server.tls == TLSListenerConfiguration(host: "0.0.0.0", port: 8443, certificatePath: "/etc/camo/cert.pem", keyPath: "/etc/camo/key.pem"))
    }

    @Test func serveSaysWhyACertificateCannotServe() async throws {
        let directory = try TLSFiles.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = try await TLSFiles.makeCertificate("cli", in: directory)
        try "garbage".write(toFile: directory + "/bad.pem", atomically: true, encoding: .utf8)
        // go-camo's flag names work too.
        let result = try await MoxyBinary.run(
            ["serve", "--listen", "127.0.0.1:0", "--route", "/=http://127.0.0.1:1", "--ssl-listen", "127.0.0.1:0", "--ssl-cert", directory + "/bad.pem",
                "--ssl-key", files.key], environment: ["MOXY_CACHE_DISK_ENABLED": "false"])
        #expect(result.status != 0)
        #expect(result.err.contains("tls.cert \(directory)/bad.pem: not a PEM certificate file"), "\(result.err)")
    }
}
