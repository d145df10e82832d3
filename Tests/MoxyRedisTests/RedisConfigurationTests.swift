// SPDX-License-Identifier: Apache-2.0

import MoxyRedis
import Testing

@Suite struct RedisConfigurationTests {
    @Test func urlsAreReadAsRedisCliReadsThem() throws {
        let full = try RedisConfiguration(url: "redis://moxy:p%40ss%3Aw@cache.internal:6380/2")
        #expect(full.host == "cache.internal" && full.port == 6380 && full.database == 2)
        #expect(full.username == "moxy" && full.password == "p@ss:w")
        let plain = try RedisConfiguration(url: "redis://127.0.0.1")
        #expect(plain.port == 6379 && plain.database == 0 && plain.username == nil && plain.password == nil)
        let lone = try RedisConfiguration(url: "redis://secret@h:1/")
        #expect(lone.password == "secret" && lone.username == nil)
        let emptyUser = try RedisConfiguration(url: "redis://:pw@h")
        #expect(emptyUser.password == "pw" && emptyUser.username == nil)
        let tls = try RedisConfiguration(url: "rediss://u:pw@cache.internal:6380")
        #expect(tls.tls && tls.host == "cache.internal" && tls.port == 6380 && tls.description == "rediss://u:***@cache.internal:6380/0")
        #expect(try !RedisConfiguration(url: "redis://h").tls)
        let v6 = try RedisConfiguration(url: "redis://[::1]:7000/1")
        #expect(v6.host == "::1" && v6.port == 7000 && v6.database == 1)
    }

    @Test(arguments: [
        ("http://h", "starts with redis://"),
        ("redis://h:0", "port"),
        ("redis://h:x", "port"),
        ("redis://h/x", "database"),
        ("redis://", "no host"),
        ("redis://u:%zz@h", "%-escape"),
        ("redis://[::1", "]"),
    ])
    func badURLsSayWhat(_ url: String, _ message: String) {
        #expect {
            try RedisConfiguration(url: url)
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.code == .badConfiguration && error.message.contains(message) && !error.message.contains("zz")
        }
    }

    @Test func theDescriptionNeverShowsThePassword() throws {
        let configuration = try RedisConfiguration(url: "redis://moxy:hunter2@h:1/3")
        #expect("\(configuration)" == "redis://moxy:***@h:1/3")
        #expect(!"\(try RedisConfiguration(url: "redis://hunter2@h"))".contains("hunter2"))
    }
}
