// SPDX-License-Identifier: Apache-2.0

import MoxyServer

extension ServerConfiguration {
    /// Reads the admin listener, the TLS listener and the access log (`admin.*`, `tls.*`, `access_log.*`).
    /// - Throws: ``SettingsError`` naming the key and the bad value.
    mutating func readOperations(_ settings: SettingsReader) throws {
        let certificate = settings.text(.tlsCert).flatMap { $0.isEmpty ? nil : $0 }
        let key = settings.text(.tlsKey).flatMap { $0.isEmpty ? nil : $0 }
        if let (host, port) = try settings.parsed(.tlsListen, ValueParsers.listenAddress) {
            guard let certificate, let key else {
                throw SettingsError(.invalidValue, "tls.listen needs tls.cert and tls.key (PEM files)")
            }
            tls = TLSListenerConfiguration(host: host, port: port, certificatePath: certificate, keyPath: key)
        } else if certificate != nil || key != nil {
            throw SettingsError(.invalidValue, "tls.cert and tls.key serve only with tls.listen (HOST:PORT)")
        }
        if let cleartext = try settings.parsed(.http2Cleartext, ValueParsers.bool) { cleartextHTTP2 = cleartext }
        if let (host, port) = try settings.parsed(.adminListen, ValueParsers.listenAddress) {
            let token = settings.text(.adminToken).flatMap { $0.isEmpty ? nil : $0 }
            if let token, token.utf8.count < 16 {
                throw SettingsError(.invalidValue, "admin.token is too short: use at least 16 characters (e.g. openssl rand -hex 24)")
            }
            admin = AdminConfiguration(host: host, port: port, token: token)
        }
        guard try settings.parsed(.accessLogEnabled, ValueParsers.bool) ?? true else {
            accessLog = nil
            return
        }
        var log = AccessLogConfiguration()
        if let path = settings.text(.accessLogPath), path != "-", !path.isEmpty { log.path = path }
        if let format = try settings.parsed(.accessLogFormat, { AccessLogConfiguration.Format(rawValue: $0.lowercased()) }) {
            log.format = format
        }
        if let full = try settings.parsed(.accessLogFullURLs, ValueParsers.bool) { log.fullURLs = full }
        accessLog = log
    }
}
