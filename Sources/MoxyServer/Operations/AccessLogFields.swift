// SPDX-License-Identifier: Apache-2.0

import NIOHTTP1

/// The fields of an access log line that are the same for every request of one source (its mode,
/// route and upstream host), encoded once in both formats: a line copies them instead of escaping
/// three values (about 1,000 instructions a line, by callgrind).
final class AccessLogFields: Sendable {
    /// ` mode=route route=assets host=origin.example`.
    let logfmt: [UInt8]
    /// `,"mode":"route","route":"assets","host":"origin.example"`.
    let json: [UInt8]
    /// Whether the host is among them (else a signed request's is read from its target).
    let hasHost: Bool

    init(mode: RequestMode, route: String, host: String?) {
        var logfmt: [UInt8] = []
        var json: [UInt8] = []
        for (name, value) in [("mode", mode.rawValue), ("route", route)] + (host.map { [("host", $0)] } ?? []) {
            logfmt += Array(" \(name)=".utf8)
            AccessLogFormatter.appendText(value, json: false, to: &logfmt)
            json += Array(",\"\(name)\":".utf8)
            AccessLogFormatter.appendText(value, json: true, to: &json)
        }
        self.logfmt = logfmt
        self.json = json
        self.hasHost = host != nil
    }

    /// Requests answered before routing.
    static let unrouted = AccessLogFields(mode: .none, route: "none", host: nil)
}

/// A connection's client address as an access log field (` client=…` and `,"client":…`), encoded
/// once per connection instead of checked and escaped on every line.
struct AccessLogClient: Sendable {
    let logfmt: [UInt8]
    let json: [UInt8]

    init(_ address: String) {
        var logfmt = Array(" client=".utf8)
        AccessLogFormatter.appendText(address, json: false, to: &logfmt)
        var json = Array(",\"client\":".utf8)
        AccessLogFormatter.appendText(address, json: true, to: &json)
        self.logfmt = logfmt
        self.json = json
    }
}
