// SPDX-License-Identifier: Apache-2.0

import MoxyServer

extension ServerConfiguration {
    /// Reads the admin listener and the access log (`admin.*`, `access_log.*`).
    /// - Throws: ``SettingsError`` naming the key and the bad value.
    mutating func readOperations(_ settings: SettingsReader) throws {
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
