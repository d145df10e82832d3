// SPDX-License-Identifier: Apache-2.0

import MoxyCLI
import MoxyRedis
import MoxyServer
import MoxySharedTier
import Testing

/// `shared.*` and `cache.tiers`: the shared tier from a file or the environment, and bad values
/// refused with the key and the reason (never the password).
@Suite struct SharedTierSettingsTests {
    @Test func aSharedTierFromTheFileWithItsLimits() throws {
        let file = temporaryFile("""
            cache:
              tiers: [memory, disk, shared]
            shared:
              url: redis://moxy:s3cret@10.0.0.5:6380/2
              timeout: 15ms
              write_timeout: 2s
              max_object_size: 4MiB
              coalesce: false
              key_prefix: "cache1:"
            """)
        let settings = try MoxySettings.load(environment: [:], configFile: file)
        let shared = try #require(settings.server.shared)
        #expect(shared.redis.host == "10.0.0.5" && shared.redis.port == 6380 && shared.redis.database == 2)
        #expect(shared.redis.username == "moxy" && shared.redis.password == "s3cret")
        #expect(shared.budget == 0.015 && shared.writeTimeout == 2 && shared.maxObjectSize == 4 << 20)
        #expect(!shared.coalesce && shared.keyPrefix == "cache1:")
        #expect(settings.server.diskCachePath != nil)
    }

    @Test func theTiersListTurnsTheDiskOffAndTheSharedTierIsOffByDefault() throws {
        #expect(try MoxySettings.load(environment: [:], configFile: nil).server.shared == nil)
        let noDisk = try MoxySettings.load(
            environment: ["MOXY_SHARED_URL": "redis://127.0.0.1:6379", "MOXY_CACHE_TIERS": "memory,shared"], configFile: nil)
        #expect(noDisk.server.diskCachePath == nil && noDisk.server.shared != nil)
        let cluster = try MoxySettings.load(environment: ["MOXY_SHARED_CLUSTER": "10.0.0.1:7000,10.0.0.2:7000"], configFile: nil)
        #expect(cluster.server.shared?.cluster == ["10.0.0.1:7000", "10.0.0.2:7000"])
        #expect(cluster.server.shared?.redis.host == "10.0.0.1" && cluster.server.shared?.redis.port == 7000)
    }

    @Test(arguments: [
        (["MOXY_CACHE_TIERS": "disk,memory"], "memory first"),
        (["MOXY_CACHE_TIERS": "memory,shared"], "shared.url"),
        (["MOXY_CACHE_TIERS": "memory,disk", "MOXY_SHARED_URL": "redis://h"], "does not list shared"),
        (["MOXY_SHARED_URL": "http://h"], "redis://"),
        (["MOXY_SHARED_URL": "redis://u:pw@h:0"], "port"),
        (["MOXY_SHARED_CLUSTER": "h"], "host:port"),
        (["MOXY_SHARED_URL": "redis://h", "MOXY_SHARED_TIMEOUT": "0"], "shared.timeout"),
        (["MOXY_SHARED_URL": "redis://h", "MOXY_SHARED_TLS_CA_FILE": "/ca.pem"], "rediss://"),
    ])
    func badValuesAreRefusedWithTheirKey(_ environment: [String: String], _ message: String) {
        #expect {
            try MoxySettings.load(environment: environment, configFile: nil)
        } throws: { error in
            let text = "\(error)"
            return text.contains(message) && !text.contains("pw")
        }
    }
}
