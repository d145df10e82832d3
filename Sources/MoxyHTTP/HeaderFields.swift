// SPDX-License-Identifier: Apache-2.0

/// Header-field rules a proxy applies: hop-by-hop removal (RFC 9110 §7.6.1) and the update of a
/// stored response from a `304` (RFC 9111 §3.2, §4.3.4).
public enum HeaderFields {
    /// Connection-specific fields that are never forwarded (RFC 9110 §7.6.1, plus the common
    /// non-standard `Proxy-Connection` and `Keep-Alive`).
    public static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authenticate", "proxy-authorization",
    ]

    /// The fields without hop-by-hop ones, including every field named in `Connection`.
    /// - Parameter fields: Fields as received.
    /// - Returns: The end-to-end fields, in order.
    public static func endToEnd(_ fields: [(name: String, value: String)]) -> [(name: String, value: String)] {
        var drop = hopByHop
        for value in fields.values(named: "connection") {
            for name in value.split(separator: ",") { drop.insert(name.trimmingSpaces.lowercased()) }
        }
        return fields.filter { !drop.contains($0.name.lowercased()) }
    }

    /// Fields with operator settings applied: each named field replaces all fields of that name
    /// (case-insensitive), or removes them when its value is empty.
    /// - Parameters:
    ///   - settings: Fields to set, in order.
    ///   - fields: The fields.
    /// - Returns: The fields with the settings applied (set fields at the end).
    public static func setting(
        _ settings: [(name: String, value: String)],
        in fields: [(name: String, value: String)]
    ) -> [(name: String, value: String)] {
        guard !settings.isEmpty else { return fields }
        let names = Set(settings.map { $0.name.lowercased() })
        return fields.filter { !names.contains($0.name.lowercased()) } + settings.filter { !$0.value.isEmpty }
    }

    /// Fields a cache never copies from a `304` into the stored response: the framing and
    /// representation metadata the stored body depends on (RFC 9111 §3.2).
    public static let notUpdatedBy304: Set<String> = [
        "content-length", "content-encoding", "content-range", "content-type", "transfer-encoding", "age",
    ]

    /// The stored fields updated from a `304` (or `HEAD`) response: each field the new response
    /// carries replaces all stored fields of that name, except the ones listed in ``notUpdatedBy304``.
    /// - Parameters:
    ///   - stored: The stored response's fields.
    ///   - update: The new response's end-to-end fields.
    /// - Returns: The merged fields.
    public static func merged(
        _ stored: [(name: String, value: String)],
        with update: [(name: String, value: String)]
    ) -> [(name: String, value: String)] {
        let incoming = update.filter { !notUpdatedBy304.contains($0.name.lowercased()) }
        let replaced = Set(incoming.map { $0.name.lowercased() })
        return stored.filter { !replaced.contains($0.name.lowercased()) } + incoming
    }
}
