// SPDX-License-Identifier: Apache-2.0

public import Configuration
import MoxyRedis
public import MoxySharedTier

extension SharedTierConfiguration {
    /// Reads `shared.*`; nil when neither `shared.url` nor `shared.cluster` is set.
    /// - Throws: ``SettingsError`` naming the key and what is wrong (never the password).
    public init?(reader: ConfigReader) throws {
        let settings = SettingsReader(reader)
        let cluster = reader.stringArray(forKey: ConfigKey(SettingsKey.sharedCluster.path)) ?? []
        let url = settings.text(.sharedURL)
        guard url != nil || !cluster.isEmpty else { return nil }
        var redis: RedisConfiguration
        do throws(RedisError) {
            redis = try RedisConfiguration(url: url ?? "redis://" + cluster[0])
        } catch {
            throw SettingsError(.invalidValue, "invalid \(url != nil ? "shared.url" : "shared.cluster"): \(error.message)")
        }
        for node in cluster where !Self.isEndpoint(node) {
            throw SettingsError(.invalidValue, "invalid shared.cluster: '\(node)' (use host:port)")
        }
        if let file = settings.text(.sharedTLSCAFile) {
            guard redis.tls else { throw SettingsError(.invalidValue, "shared.tls_ca_file is set, but the Redis URL is not rediss://") }
            redis.tlsCAFile = file
        }
        self.init(redis: redis)
        self.cluster = cluster
        if let budget = try settings.parsed(.sharedTimeout, { ValueParsers.duration($0).flatMap { $0 > 0 && $0 <= 10 ? $0 : nil } }) {
            self.budget = budget
        }
        if let seconds = try settings.parsed(.sharedWriteTimeout, { ValueParsers.duration($0).flatMap { $0 > 0 && $0 <= 60 ? $0 : nil } }) {
            writeTimeout = seconds
        }
        if let size = try settings.parsed(.sharedMaxObject, { ValueParsers.size($0).flatMap { $0 >= 1024 && $0 <= 512 << 20 ? $0 : nil } }) {
            maxObjectSize = size
        }
        if let coalesce = try settings.parsed(.sharedCoalesce, ValueParsers.bool) { self.coalesce = coalesce }
        if let prefix = try settings.parsed(.sharedKeyPrefix, { $0.isEmpty || $0.contains(where: { $0 == "{" || $0 == "}" || $0 == " " }) ? nil : $0 }) {
            keyPrefix = prefix
        }
    }

    private static func isEndpoint(_ text: String) -> Bool {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else { return false }
        return colon != text.startIndex && (1...65_535).contains(port)
    }
}
