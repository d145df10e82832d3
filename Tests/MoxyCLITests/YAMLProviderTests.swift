// SPDX-License-Identifier: Apache-2.0

import Configuration
import MoxyCache
import MoxyCLI
import MoxyServer
import MoxyValidation
import MoxyYAML
import Testing

/// The config file as a swift-configuration provider: one tree, read through the same reader as
/// flags and environment variables.
@Suite struct YAMLProviderTests {
    @Test func nodesHaveKeysAndShapesInDocumentOrder() throws {
        let provider = try YAMLProvider(
            text: """
                b: 1
                cache:
                  memory_size: 1MiB
                  default_ttl: 5m
                rules:
                  - {pointer: /code, absent: true}
                  - status: [200]
                a: x
                """,
            root: ["moxy"]
        )
        #expect(provider.shape(at: ["moxy"]) == .map(["b", "cache", "rules", "a"]))
        #expect(provider.shape(at: ["moxy", "cache"]) == .map(["memory_size", "default_ttl"]))
        #expect(provider.shape(at: ["moxy", "rules"]) == .list(count: 2))
        #expect(provider.shape(at: ["moxy", "rules", "0"]) == .map(["pointer", "absent"]))
        #expect(provider.shape(at: ["moxy", "rules", "1", "status", "0"]) == .scalar("200", quoted: false))
        #expect(provider.shape(at: ["moxy", "nothing"]) == nil)
        #expect(provider.leaves.map { $0.key.joined(separator: ".") } == ["moxy.b", "moxy.cache.memory_size", "moxy.cache.default_ttl", "moxy.rules", "moxy.a"])
        let reader = ConfigReader(provider: provider).scoped(to: "moxy")
        #expect(reader.string(forKey: "cache.default_ttl") == "5m")
        #expect(reader.string(forKey: "rules.0.pointer") == "/code")
        #expect(reader.int(forKey: "b") == 1)
    }

    @Test func lookupsConvertAsTheSubsetReads() throws {
        let provider = try YAMLProvider(text: "plain: 500\nquoted: \"500\"\nflag: true\nlist: [a, 'b']\nmixed: [a, {k: v}]\nmap: {k: v}\n")
        func value(_ key: String, _ type: ConfigType) throws -> ConfigContent? {
            try provider.value(forKey: AbsoluteConfigKey([key]), type: type).value?.content
        }
        #expect(try value("plain", .int) == .int(500))
        #expect(try value("plain", .double) == .double(500))
        #expect(try value("plain", .string) == .string("500"))
        #expect(try value("plain", .stringArray) == .stringArray(["500"]))
        #expect(try value("quoted", .string) == .string("500"))
        #expect(throws: YAMLProvider.TypeMismatch.self) { try value("quoted", .int) }
        #expect(try value("flag", .bool) == .bool(true))
        #expect(try value("list", .stringArray) == .stringArray(["a", "b"]))
        #expect(throws: YAMLProvider.TypeMismatch.self) { try value("list", .string) }
        #expect(throws: YAMLProvider.TypeMismatch.self) { try value("mixed", .stringArray) }
        #expect(throws: YAMLProvider.TypeMismatch.self) { try value("map", .string) }
        #expect(throws: YAMLProvider.TypeMismatch.self) { try value("plain", .bytes) }
        #expect(try value("absent", .string) == nil)
    }

    @Test func namedRoutesAndValidationAreReadThroughTheSameReader() throws {
        let file = temporaryFile("""
            routes:
              api:
                upstream: http://127.0.0.1:8000
                cache:
                  default_ttl: 5m
                validate:
                  json: true
                  on_invalid: pass
            signed:
              validate:
                statuses: [200]
            """)
        let environment = [
            "MOXY_ROUTES_API_UPSTREAM": "http://127.0.0.1:9000",
            "MOXY_ROUTES_API_CACHE_DEFAULT_TTL": "1m",
            "MOXY_ROUTES_API_VALIDATE_ON_INVALID": "error",
            "MOXY_SIGNED_VALIDATE_BACKOFF": "9s",
            "MOXY_ROUTES_OTHER_UPSTREAM": "http://127.0.0.1:1",  // no such route in the file: ignored
        ]
        let settings = try MoxySettings.load(environment: environment, configFile: file)
        let api = try #require(settings.server.routes.first)
        #expect(settings.server.routes.map(\.name) == ["api"])
        #expect(api.upstream.text == "http://127.0.0.1:9000")
        #expect(api.cache.defaultTTL == 60)
        #expect(api.validation?.onInvalid == .error)
        #expect(api.validation?.rules.map(\.name) == ["json"])
        #expect(settings.server.signedValidation?.backoff == 9)
        #expect(settings.server.signedValidation?.rules.map(\.name) == ["status"])
    }

    @Test(arguments: [
        ("routes:\n  a:\n    upstream: http://x\n    cache: 5\n", "invalid routes.a.cache: a mapping is expected"),
        ("routes:\n  a:\n    upstream: http://x\n    validate: [json]\n", "invalid routes.a.validate: a mapping is expected"),
        ("routes:\n  a:\n    upstream: http://x\n    validate:\n      rules: json\n", "routes.a.validate.rules: a list of rules"),
        ("routes:\n  a:\n    upstream: http://x\n    validate:\n      min_bytes: [1, 2]\n", "routes.a.validate.min_bytes: a single value"),
        ("routes:\n  a:\n    upstream: [http://x]\n", "routes.a.upstream: a list is not allowed"),
        ("routes:\n  a: http://x\n", "invalid routes.a: a mapping is expected"),
        ("listen: [a, b]\n", "'listen' is not a list"),
        ("filter:\n  allow: [{a: b}]\n", "'filter.allow' must be a list of plain values"),
        ("- listen\n", "the file must be a mapping"),
    ])
    func badShapesAreOneLineErrorsNamingTheKey(yaml: String, message: String) {
        #expect {
            _ = try MoxySettings.load(environment: [:], configFile: temporaryFile(yaml))
        } throws: { error in
            guard let error = error as? SettingsError else { return false }
            return error.message.contains(message) && !error.message.contains("\n")
        }
    }
}
