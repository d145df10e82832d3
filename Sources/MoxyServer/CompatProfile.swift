// SPDX-License-Identifier: Apache-2.0

import MoxyHTTP

/// Which proxy's outward behaviour Moxy imitates for signed URLs: its own, camo's, or go-camo's
/// (status codes, error texts, security headers and service paths, as observed in CAMO-COMPAT §3).
public enum CompatProfile: String, Sendable, Hashable, CaseIterable {
    /// Moxy's own behaviour (precise status codes, `no-store` errors).
    case moxy
    /// camo 2.3.0: every failure is `404 Not Found`, errors carry camo's no-cache fields, HSTS and
    /// X-Frame-Options on every response; `/`, `/status` and `/favicon.ico` are answered.
    case camo
    /// go-camo: `403 Bad Signature`, `400` for content types, `502` for upstream 5xx, `404` for the
    /// rest; `X-XSS-Protection`; `/healthcheck` is answered.
    case goCamo = "go-camo"

    /// Security fields added to every response, errors included.
    var securityFields: [(name: String, value: String)] {
        let csp = ("Content-Security-Policy", "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox")
        switch self {
        case .moxy:
            return [("X-Content-Type-Options", "nosniff"), csp, ("X-Frame-Options", "deny")]
        case .camo:
            return [
                ("X-Frame-Options", "deny"), ("X-XSS-Protection", "1; mode=block"), ("X-Content-Type-Options", "nosniff"), csp,
                ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
            ]
        case .goCamo:
            return [("X-Content-Type-Options", "nosniff"), ("X-XSS-Protection", "1; mode=block"), csp]
        }
    }

    /// Fields added to error responses so that no cache (a CDN included) keeps them.
    var errorCacheFields: [(name: String, value: String)] {
        switch self {
        case .camo: [("Expires", "0"), ("Cache-Control", "no-cache, no-store, private, must-revalidate")]
        case .moxy, .goCamo: [("Cache-Control", "no-store")]
        }
    }

    /// The error as this profile answers it: the same code, the profile's status and text.
    func adapt(_ error: ProxyError) -> ProxyError {
        switch self {
        case .moxy:
            return error
        case .camo:
            // camo answers every failure with a bare 404 (CAMO-COMPAT §3), method checks aside.
            if [.methodNotAllowed, .requestTooLarge, .busy, .headersTooLarge, .uriTooLong].contains(error.code) { return error }
            return ProxyError(error.code, status: 404, "Not Found")
        case .goCamo:
            switch error.code {
            case .badSignature, .expired: return ProxyError(error.code, status: 403, "Bad Signature")
            case .contentType:
                let empty = error.message.contains("no content type")
                return ProxyError(error.code, status: 400, empty ? "Empty content-type returned" : "Unsupported content-type returned")
            case .tooLarge: return ProxyError(error.code, status: 404, "Content length exceeded")
            case .upstreamStatus where (error.upstreamStatus ?? 500) >= 500:
                return ProxyError(error.code, status: 502, "Error Fetching Resource")
            case .timeout: return ProxyError(error.code, status: 504, "Error Fetching Resource")
            case .loopDetected: return ProxyError(error.code, status: 404, "Request loop failure")
            case .filtered: return ProxyError(error.code, status: 404, "Rejected due to filter-ruleset")
            case .methodNotAllowed, .notCached, .requestTooLarge, .badRequest, .busy, .headersTooLarge, .uriTooLong: return error
            default: return ProxyError(error.code, status: 404, "Not Found")
            }
        }
    }

    /// The answer to a service path (`/status`, `/healthcheck`, …), if this profile has one.
    /// - Parameters:
    ///   - path: The request path without query.
    ///   - inFlight: Fetches in flight, for camo's `/status` (evaluated only for that path: it takes a lock).
    ///   - served: Objects stored, for camo's `/status` (likewise).
    ///   - since: The start time, for camo's `/status`.
    /// - Returns: The body of a `200 text/plain` answer, or `nil`.
    func serviceAnswer(_ path: Substring, inFlight: @autoclosure () -> Int, served: @autoclosure () -> Int, since: String) -> String? {
        switch (self, path) {
        case (.camo, "/"): "hwhat"
        case (.camo, "/favicon.ico"): "ok"
        case (.camo, "/status"): "ok \(inFlight())/\(served()) since \(since)"
        case (.goCamo, "/healthcheck"): "ok"
        default: nil
        }
    }

    /// The `Server` value and `Via` token the original uses when none is configured.
    public var defaultServerName: String {
        switch self {
        case .moxy: "moxy"
        case .camo: "Camo Asset Proxy 2.3.0"
        case .goCamo: "go-camo"
        }
    }

    /// The upstream `User-Agent` the original sends when none is configured.
    public var defaultUserAgent: String {
        switch self {
        case .moxy: "Moxy/0.1"
        case .camo: "Camo Asset Proxy 2.3.0"
        case .goCamo: "go-camo"
        }
    }

    /// Whether responses carry `Server` (camo sends none).
    var sendsServerField: Bool { self != .camo }

    /// The `Via` value sent upstream for signed URLs: RFC 9110's `1.1 token` for Moxy, the bare
    /// token for camo and go-camo, as they send it.
    public func viaValue(_ token: String) -> String {
        self == .moxy ? "1.1 \(token)" : token
    }

    /// Whether a request's `Via` values show it already passed through this server: a substring
    /// match for Moxy and camo, one element equal to the token (or to `PROTOCOL token`) for go-camo.
    func isLoop(_ via: [String], token: String) -> Bool {
        switch self {
        case .moxy, .camo:
            return via.contains { $0.contains(token) }
        case .goCamo:
            return via.contains { value in
                value.split(separator: ",").contains { element in
                    let element = element.trimmingSpaces
                    return element == token || element.hasSuffix(" " + token)
                }
            }
        }
    }

    /// The `Cache-Control` a successful signed response gets when the upstream sent none: camo's
    /// year-long one (CDNs in front rely on it), none for go-camo (it passes only the upstream's),
    /// Moxy's stored lifetime.
    func defaultCacheControl(lifetime: Int64) -> String? {
        switch self {
        case .moxy: lifetime > 0 ? "public, max-age=\(lifetime)" : nil
        case .camo: "public, max-age=31536000"
        case .goCamo: nil
        }
    }
}
