// SPDX-License-Identifier: Apache-2.0

/// The keys a purge by tag finds an entry under.
public enum SurrogateKeys {
    /// Reads `Surrogate-Key` (Fastly, space-separated), `xkey` (Varnish) and `Cache-Tag`
    /// (Cloudflare, comma-separated), deduplicated in order.
    /// - Parameter fields: The upstream's response fields (before any are dropped downstream).
    /// - Returns: The keys.
    public static func parse(_ fields: [(name: String, value: String)]) -> [String] {
        var keys: [String] = []
        for field in fields {
            let name = field.name.lowercased()
            guard name == "surrogate-key" || name == "xkey" || name == "cache-tag" else { continue }
            for key in field.value.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }) where !keys.contains(String(key)) {
                keys.append(String(key))
            }
        }
        return keys
    }
}
