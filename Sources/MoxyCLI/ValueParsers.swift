// SPDX-License-Identifier: Apache-2.0

/// Parsers for the value formats of configuration: durations, sizes, booleans, listen addresses.
public enum ValueParsers {
    /// Parses a duration: a number with an optional unit `ms`, `s`, `m`, `h`, `d` (default seconds).
    /// - Parameter text: E.g. `500ms`, `10s`, `1.5m`, `1h`, `30`.
    /// - Returns: Seconds, or `nil` when malformed or negative.
    public static func duration(_ text: String) -> Double? {
        let text = text.lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let value = Double(text.dropLast(suffix.count)), value >= 0, value.isFinite else { return nil }
            return value * factor
        }
        guard let value = Double(text), value >= 0, value.isFinite else { return nil }
        return value
    }

    /// Parses a size: a whole number with an optional unit `B`, `K`/`KB`/`KiB`, `M`/`MB`/`MiB`, `G`/`GB`/`GiB`
    /// (all binary multiples, as in nginx).
    /// - Parameter text: E.g. `64MiB`, `512k`, `1048576`.
    /// - Returns: Bytes, or `nil` when malformed.
    public static func size(_ text: String) -> Int? {
        let lower = text.lowercased()
        let digits = lower.prefix(while: { $0.isNumber })
        let unit = lower.dropFirst(digits.count)
        guard let value = Int(digits), digits.count <= 12 else { return nil }
        let shift: Int
        switch unit {
        case "", "b": shift = 0
        case "k", "kb", "kib": shift = 10
        case "m", "mb", "mib": shift = 20
        case "g", "gb", "gib": shift = 30
        default: return nil
        }
        return value << shift
    }

    /// Parses a boolean: `true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0`.
    /// - Parameter text: The text.
    /// - Returns: The value, or `nil`.
    public static func bool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "yes", "on", "1": true
        case "false", "no", "off", "0": false
        default: nil
        }
    }

    /// Parses `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (all interfaces).
    /// - Parameter text: The address.
    /// - Returns: Host and port, or `nil`.
    public static func listenAddress(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "0.0.0.0" }
        return (host, port)
    }
}
