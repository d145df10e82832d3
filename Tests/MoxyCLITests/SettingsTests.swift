// SPDX-License-Identifier: Apache-2.0

import MoxyYAML
import Configuration
import MoxyCache
import MoxyCLI
import MoxyServer
import MoxySigning
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Writes `text` to a fresh file under /tmp and returns its path.
func temporaryFile(_ text: String, suffix: String = ".yaml") -> String {
    var template = Array("/tmp/moxy-test-XXXXXX\(suffix)".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, Int32(suffix.utf8.count)) }
    precondition(fd >= 0)
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    return String(cString: template)
}

@Suite struct SettingsTests {
    @Test func defaultsMatchTheDocumentation() throws {
        let settings = try MoxySettings.load(environment: [:], configFile: nil)
        #expect(settings.server.host == "127.0.0.1" && settings.server.port == 8080)
        #expect(settings.server.memoryCacheSize == 64 << 20)
        #expect(settings.server.memoryCachePolicy == .s3fifo && settings.server.memoryMaxObjectSize == nil)
        #expect(settings.server.defaultTTL == 3600)
        #expect(settings.server.upstream.maxObjectSize == 10 << 20)
        #expect(settings.server.upstream.maxRedirects == 4)
        #expect(settings.server.upstream.contentTypes == ["image/*"])
        #expect(settings.server.upstream.addressPolicy.allowed.isEmpty)
        #expect(settings.signer == nil)
    }

    @Test func theMemoryTierPolicyAndObjectLimitAreSettings() throws {
        let file = temporaryFile("cache:\n  memory_policy: lru\n  memory_max_object: 256KiB\n")
        let fromFile = try MoxySettings.load(environment: [:], configFile: file)
        #expect(fromFile.server.memoryCachePolicy == .lru && fromFile.server.memoryMaxObjectSize == 256 << 10)
        let fromFlag = try MoxySettings.load(flags: ["cache.memory_policy": .string("s3fifo")], environment: [:], configFile: file)
        #expect(fromFlag.server.memoryCachePolicy == .s3fifo)
        #expect(throws: SettingsError.self) { try MoxySettings.load(environment: ["MOXY_CACHE_MEMORY_POLICY": "arc"], configFile: nil) }
    }

    @Test func flagsOverrideEnvironmentWhichOverridesTheFile() throws {
        let file = temporaryFile("""
            # a comment
            listen: 127.0.0.1:7001
            cache:
              memory_size: 8MiB   # inline comment
              default_ttl: 10m
            upstream:
              max_redirects: 2
              content_types:
                - image/*
                - "video/mp4"
            key: "file-secret"
            """)
        let fileOnly = try MoxySettings.load(environment: [:], configFile: file)
        #expect(fileOnly.server.port == 7001)
        #expect(fileOnly.server.memoryCacheSize == 8 << 20)
        #expect(fileOnly.server.defaultTTL == 600)
        #expect(fileOnly.server.upstream.maxRedirects == 2)
        #expect(fileOnly.server.upstream.contentTypes == ["image/*", "video/mp4"])
        #expect(fileOnly.signer?.keyIDs == ["default"])

        let env = ["MOXY_LISTEN": "127.0.0.1:7002", "MOXY_UPSTREAM_MAX_REDIRECTS": "3", "MOXY_UPSTREAM_CONTENT_TYPES": "image/png,image/gif"]
        let withEnv = try MoxySettings.load(environment: env, configFile: file)
        #expect(withEnv.server.port == 7002)
        #expect(withEnv.server.upstream.maxRedirects == 3)
        #expect(withEnv.server.upstream.contentTypes == ["image/png", "image/gif"])
        #expect(withEnv.server.memoryCacheSize == 8 << 20)

        let withFlags = try MoxySettings.load(
            flags: ["listen": .string("127.0.0.1:7003"), "upstream.content_types": .stringArray(["image/webp"])],
            environment: env,
            configFile: file
        )
        #expect(withFlags.server.port == 7003)
        #expect(withFlags.server.upstream.contentTypes == ["image/webp"])
        #expect(withFlags.server.upstream.maxRedirects == 3)
    }

    @Test func keysComeFromKeyAndKeys() throws {
        let settings = try MoxySettings.load(
            environment: ["MOXY_KEY": "one", "MOXY_KEYS": "2=two,old=three=with-equals"],
            configFile: nil
        )
        #expect(settings.signer?.keyIDs == ["2", "default", "old"])
        #expect(settings.signer?.defaultKeyID == "default")
        let onlyList = try MoxySettings.load(environment: ["MOXY_KEYS": "a=1,b=2", "MOXY_DEFAULT_KEY_ID": "b"], configFile: nil)
        #expect(onlyList.signer?.defaultKeyID == "b")
    }

    @Test func allowFlagsBuildTheAddressPolicy() throws {
        let settings = try MoxySettings.load(
            environment: ["MOXY_ALLOW_LOOPBACK": "true", "MOXY_ALLOW_NETWORKS": "10.1.2.0/24,fd00::/8"],
            configFile: nil
        )
        #expect(settings.server.upstream.addressPolicy.allowed == [.loopback])
        #expect(settings.server.upstream.addressPolicy.allowedNetworks.map(\.description) == ["10.1.2.0/24", "fd00:0:0:0:0:0:0:0/8"])
    }

    @Test(arguments: [
        ("MOXY_LISTEN", "nowhere"), ("MOXY_CACHE_MEMORY_SIZE", "lots"), ("MOXY_CACHE_DEFAULT_TTL", "-5s"),
        ("MOXY_UPSTREAM_MAX_REDIRECTS", "99"), ("MOXY_ALLOW_LOOPBACK", "maybe"), ("MOXY_UPSTREAM_CONTENT_TYPES", "imagery"),
        ("MOXY_UPSTREAM_CONNECT_TIMEOUT", "0"), ("MOXY_KEYS", "no-equals-sign"), ("MOXY_ALLOW_NETWORKS", "10.0.0.0/33"),
        ("MOXY_THREADS", "0"), ("MOXY_LOG_LEVEL", "loud"),
    ])
    func badValuesAreOneLineErrorsNamingTheKey(_ variable: String, _ value: String) {
        do {
            _ = try MoxySettings.load(environment: [variable: value], configFile: nil)
            Issue.record("accepted \(variable)=\(value)")
        } catch let error as SettingsError {
            #expect(!error.message.contains("\n"))
            #expect(error.message.contains(value) || error.message.contains("keys") || error.message.contains("ID=SECRET"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func unknownFileKeysAndBadYAMLAreRefused() {
        #expect(throws: SettingsError.self) { try MoxySettings.load(environment: [:], configFile: temporaryFile("lisen: 1.2.3.4:5\n")) }
        #expect(throws: SettingsError.self) { try MoxySettings.load(environment: [:], configFile: temporaryFile("cache: {a: 1}\n")) }
        #expect(throws: SettingsError.self) { try MoxySettings.load(environment: [:], configFile: "/nonexistent/moxy.yaml") }
    }

    @Test func yamlSubset() throws {
        let parsed = try YAMLProvider(text: """
            a: 1
            b:
              c: 'it''s'
              d: "x # not a comment"
              e: [one, "two", 'three']
            f:
            - x
            - y
            g: plain text value
            """)
        let reader = ConfigReader(provider: parsed)
        #expect(reader.string(forKey: "a") == "1")
        #expect(reader.string(forKey: "b.c") == "it's")
        #expect(reader.string(forKey: "b.d") == "x # not a comment")
        #expect(reader.stringArray(forKey: "b.e") == ["one", "two", "three"])
        #expect(reader.stringArray(forKey: "f") == ["x", "y"])
        #expect(reader.string(forKey: "g") == "plain text value")
        #expect(throws: YAMLSubset.ParseError.self) { try YAMLProvider(text: "a: 1\na: 2\n") }
        #expect(throws: YAMLSubset.ParseError.self) { try YAMLProvider(text: "a: &anchor 1\n") }
        #expect(throws: YAMLSubset.ParseError.self) { try YAMLProvider(text: "just text\n") }
    }

    @Test func valueParsers() {
        #expect(ValueParsers.duration("500ms") == 0.5)
        #expect(ValueParsers.duration("2h") == 7200)
        #expect(ValueParsers.duration("7d") == 604_800)
        #expect(ValueParsers.duration("30") == 30)
        #expect(ValueParsers.duration("soon") == nil)
        #expect(ValueParsers.size("64MiB") == 64 << 20)
        #expect(ValueParsers.size("512k") == 512 << 10)
        #expect(ValueParsers.size("1G") == 1 << 30)
        #expect(ValueParsers.size("12 MB") == nil)
        #expect(ValueParsers.listenAddress(":9000")! == ("0.0.0.0", 9000))
        #expect(ValueParsers.listenAddress("[::1]:80")! == ("::1", 80))
    }
}

@Suite struct RouteSettingsTests {
    @Test func namedRoutesFromTheFileShorthandsFromFlagsAndEnvironment() throws {
        let file = temporaryFile("""
            routes:
              api:
                host: api.example.com
                path_prefix: /wp-json
                upstream: http://127.0.0.1:8000/backend
                strip_prefix: true
                preserve_host: yes
                max_request_body: 1MiB
                request_headers: ["X-Env: prod", "Cookie:"]
                response_headers: ["X-Powered-By:"]
                cache:
                  default_ttl: 5m
                  status_ttl: ["404=30s", "410=1h"]
                  stale_if_error: 1d
                  ignore_set_cookie: true
                  honor_request_cache_control: false
                  hit_for_miss: 0
            signed:
              cache:
                stale_while_revalidate: 30s
            signed_prefix: /_s
            """)
        let settings = try MoxySettings.load(environment: ["MOXY_ROUTES": "/=http://127.0.0.1:9000"], configFile: file)
        let routes = settings.server.routes
        #expect(routes.map(\.name) == ["api", "route1"])
        let api = try #require(routes.first)
        #expect(api.host == "api.example.com" && api.pathPrefix == "/wp-json" && api.stripPrefix && api.preserveHost)
        #expect(api.upstream.text == "http://127.0.0.1:8000/backend" && api.maxRequestBody == 1 << 20)
        #expect(api.setRequestHeaders.map { "\($0.name)=\($0.value)" } == ["X-Env=prod", "Cookie="])
        #expect(api.setResponseHeaders.map(\.name) == ["X-Powered-By"])
        #expect(api.cache.defaultTTL == 300 && api.cache.statusTTL == [404: 30, 410: 3600] && api.cache.staleIfError == 86_400)
        #expect(api.cache.ignoreSetCookie && !api.cache.honorRequestDirectives && api.cache.hitForMiss == 0)
        #expect(routes[1].pathPrefix == "/" && routes[1].cache == CacheOverrides())
        #expect(settings.server.signedCache.staleWhileRevalidate == 30)
        #expect(settings.server.signedCache.defaultTTL == 3600)
        #expect(settings.server.signedPrefix == "/_s")

        let flags = try MoxySettings.load(
            flags: ["routes": .stringArray(["img.example/=http://127.0.0.1:1", "/static=https://cdn.example"])],
            environment: ["MOXY_ROUTES": "/=http://127.0.0.1:9000", "MOXY_SIGNED_CACHE_STALE_IF_ERROR": "10m"],
            configFile: nil
        )
        #expect(flags.server.routes.map { "\($0.host ?? "*")\($0.pathPrefix)" } == ["img.example/", "*/static"])
        #expect(flags.server.signedCache.staleIfError == 600)
    }

    /// The global `cache.default_ttl` is every route's default (issue 21: it was silently
    /// ignored by routes), in the file and as a flag; a route's own knob wins.
    @Test func theGlobalDefaultTTLIsEveryRoutesDefault() throws {
        let file = temporaryFile("""
            cache: {default_ttl: 5m}
            routes:
              plain:
                upstream: http://127.0.0.1:8000
              own:
                path_prefix: /own
                upstream: http://127.0.0.1:8000
                method_override: strip
                cache:
                  default_ttl: 1m
            """)
        let settings = try MoxySettings.load(environment: ["MOXY_ROUTES": "/x=http://127.0.0.1:9000"], configFile: file)
        #expect(settings.server.routes.map(\.name) == ["own", "plain", "route1"])
        #expect(settings.server.routes.map(\.cache.defaultTTL) == [60, 300, 300])
        #expect(settings.server.routes.map(\.methodOverride) == [.strip, .bypass, .bypass])
        #expect(settings.server.signedCache.defaultTTL == 300)
        let flags = try MoxySettings.load(
            flags: ["routes": .stringArray(["/=http://127.0.0.1:1"]), "cache.default_ttl": .string("5m")], environment: [:], configFile: nil)
        #expect(flags.server.routes.first?.cache.defaultTTL == 300)
        // Unset, routes stay plain RFC 9111 while signed URLs keep their hour.
        let unset = try MoxySettings.load(flags: ["routes": .stringArray(["/=http://127.0.0.1:1"])], environment: [:], configFile: nil)
        #expect(unset.server.routes.first?.cache.defaultTTL == nil && unset.server.signedCache.defaultTTL == 3600)
        #expect(throws: SettingsError.self) {
            _ = try MoxySettings.load(environment: [:], configFile: temporaryFile("routes:\n  a:\n    upstream: http://x\n    method_override: sometimes\n"))
        }
    }

    @Test(arguments: [
        ("routes:\n  a:\n    path_prefix: /x\n", "routes.a has no upstream"),
        ("routes:\n  a:\n    upstream: ftp://x\n", "upstream must be an http(s) URL"),
        ("routes:\n  a:\n    upstream: http://x\n    colour: red\n", "unknown key 'routes.a.colour'"),
        ("routes:\n  a:\n    upstream: http://x\n    cache:\n      default_ttl: soon\n", "invalid routes.a.cache.default_ttl"),
        ("routes:\n  a:\n    upstream: http://x\n    cache:\n      status_ttl: [\"200\"]\n", "status_ttl entry '200'"),
        ("routes:\n  a:\n    upstream: http://x\n    path_prefix: api\n", "must start with /"),
        ("routes:\n  a:\n    upstream: http://x\n    request_headers: [\"Host: evil\"]\n", "not a field Moxy lets you set"),
        ("routes:\n  a:\n    upstream: http://x\n    response_headers: [\"no-colon\"]\n", "response_headers entry 'no-colon'"),
        ("routes:\n  a:\n    upstream: http://x\n    cache:\n      min_ttl: 1h\n      max_ttl: 1m\n", "min_ttl is larger than max_ttl"),
    ])
    func badRoutesAreOneLineErrorsNamingTheRoute(yaml: String, message: String) {
        let file = temporaryFile(yaml)
        #expect {
            _ = try MoxySettings.load(environment: [:], configFile: file)
        } throws: { error in
            guard let error = error as? SettingsError else { return false }
            return error.message.contains(message) && !error.message.contains("\n")
        }
        #expect(throws: SettingsError.self) {
            _ = try MoxySettings.load(environment: ["MOXY_ROUTES": "no-equals-sign"], configFile: nil)
        }
    }
}

@Suite struct CompatSettingsTests {
    @Test func camoKeyAloneMeansTheCamoFormatsAndProfileOnCamosPort() throws {
        let settings = try MoxySettings.load(
            environment: ["CAMO_KEY": "0x24FEEDFACEDEADBEEFCAFE", "PORT": "9191", "CAMO_LENGTH_LIMIT": "1048576", "CAMO_MAX_REDIRECTS": "2"],
            configFile: nil
        )
        #expect(settings.server.camoSigner?.formats == .camo)
        #expect(settings.server.compatProfile == .camo)
        #expect(settings.server.host == "0.0.0.0" && settings.server.port == 9191)
        #expect(settings.server.upstream.maxObjectSize == 1 << 20 && settings.server.upstream.maxRedirects == 2)
        #expect(settings.signer == nil)
        let path = "/1c7445993b08e79325bfa7c08ab11a5e87052be1/687474703a2f2f6578616d706c652e636f6d2f6361742e706e67"
        #expect(try settings.server.camoSigner?.verify(path: Substring(path), query: nil) == "http://example.com/cat.png")
    }

    @Test func goCamoKeyAloneMeansTheGoCamoFormatsAndProfile() throws {
        let settings = try MoxySettings.load(environment: ["GOCAMO_HMAC": "test"], configFile: nil)
        #expect(settings.server.camoSigner?.formats == .goCamo)
        #expect(settings.server.compatProfile == .goCamo)
        #expect(settings.server.port == 8080 && settings.server.host == "0.0.0.0")
    }

    @Test func withAMoxyKeyTheFormatsAreAddedButTheProfileStaysMoxys() throws {
        let settings = try MoxySettings.load(environment: ["GOCAMO_HMAC": "test", "MOXY_KEY": "k"], configFile: nil)
        #expect(settings.server.camoSigner?.formats == .goCamo)
        #expect(settings.server.compatProfile == .moxy)
        #expect(settings.server.host == "127.0.0.1")
        let file = temporaryFile("compat:\n  keys: [\"a\"]\n  formats: [camo-hex, go-camo-base64]\n  profile: go-camo\n")
        let configured = try MoxySettings.load(environment: [:], configFile: file)
        #expect(configured.server.camoSigner?.formats == [.hex, .base64])
        #expect(configured.server.compatProfile == .goCamo)
        #expect(throws: SettingsError.self) {
            _ = try MoxySettings.load(environment: [:], configFile: temporaryFile("compat:\n  keys: [\"a\"]\n"))
        }
        #expect(throws: SettingsError.self) {
            _ = try MoxySettings.load(environment: ["MOXY_COMPAT_PROFILE": "nginx"], configFile: nil)
        }
    }
}

/// The profile chooses the original's defaults, read from its own environment names, below every
/// Moxy setting (CAMO-COMPAT §2–§4).
@Suite struct ProfileDefaultsTests {
    @Test func camoProfileDefaultsAndEnvironment() throws {
        let plain = try MoxySettings.load(environment: ["CAMO_KEY": "k"], configFile: nil).server
        #expect(plain.upstream.readTimeout == 10 && plain.upstream.maxRedirects == 4 && plain.upstream.maxObjectSize == 5 << 20)
        #expect(plain.serverName == "Camo Asset Proxy 2.3.0" && plain.upstream.userAgent == "Camo Asset Proxy 2.3.0")
        #expect(plain.camoHost == "unknown")
        let configured = try MoxySettings.load(
            environment: ["CAMO_KEY": "k", "CAMO_HEADER_VIA": "Camo Asset Proxy 9", "CAMO_SOCKET_TIMEOUT": "3", "CAMO_HOSTNAME": "img-1"],
            configFile: nil
        ).server
        #expect(configured.serverName == "Camo Asset Proxy 9" && configured.upstream.userAgent == "Camo Asset Proxy 9")
        #expect(configured.upstream.readTimeout == 3 && configured.camoHost == "img-1")
        // Chosen by compat.profile next to a Moxy key, and below Moxy's own settings.
        let file = temporaryFile("compat:\n  keys: [\"a\"]\n  formats: [camo]\n  profile: camo\nupstream:\n  max_redirects: 1\n")
        let mixed = try MoxySettings.load(environment: ["MOXY_KEY": "k", "MOXY_SERVER_NAME": "edge-1"], configFile: file).server
        #expect(mixed.upstream.maxRedirects == 1 && mixed.upstream.readTimeout == 10 && mixed.serverName == "edge-1")
    }

    @Test func goCamoProfileDefaultsAndEnvironment() throws {
        let plain = try MoxySettings.load(environment: ["GOCAMO_HMAC": "k"], configFile: nil).server
        #expect(plain.upstream.totalTimeout == 4 && plain.upstream.maxRedirects == 2, "--max-redirects 3 follows 2 hops")
        #expect(plain.serverName == "go-camo" && plain.upstream.userAgent == "go-camo")
        #expect(plain.upstream.maxObjectSize == 10 << 20, "go-camo's unlimited default keeps Moxy's bound")
        let configured = try MoxySettings.load(
            environment: [
                "GOCAMO_HMAC": "k", "GOCAMO_TIMEOUT": "9s", "GOCAMO_MAX_REDIRECTS": "5", "GOCAMO_MAX_SIZE": "2048",
                "GOCAMO_SERVER_NAME": "pics", "GOCAMO_USER_AGENT": "pics-fetcher",
            ],
            configFile: nil
        ).server
        #expect(configured.upstream.totalTimeout == 9 && configured.upstream.maxRedirects == 4 && configured.upstream.maxObjectSize == 2 << 20)
        #expect(configured.serverName == "pics" && configured.upstream.userAgent == "pics-fetcher")
        let moxy = try MoxySettings.load(environment: ["MOXY_KEY": "k", "GOCAMO_TIMEOUT": "9s"], configFile: nil).server
        #expect(moxy.upstream.totalTimeout == 30 && moxy.serverName == "moxy" && moxy.upstream.userAgent == "Moxy/0.1")
        #expect(throws: SettingsError.self) { try MoxySettings.load(environment: ["MOXY_SERVER_NAME": "a\u{1}b"], configFile: nil) }
    }
}
