// swift-tools-version:6.1
// libFuzzer targets for Moxy's parsers. Not part of the main build: run `fuzz/run.sh TARGET SECONDS`
// (it builds with `-sanitize=fuzzer,address`).
import PackageDescription

let targets = ["FuzzURLDecoders", "FuzzCacheControl", "FuzzRange", "FuzzMediaType", "FuzzIPAddress", "FuzzJSON", "FuzzYAML", "FuzzRequestDecoder", "FuzzDiskEntry", "FuzzHTMLRewrite", "FuzzRedirect", "FuzzAdminWire", "FuzzPurgeLog", "FuzzSitemap", "FuzzRESP"]

let package = Package(
    name: "MoxyFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "moxy", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: []),
    ],
    targets: [
        .target(name: "FuzzSupport", swiftSettings: [.swiftLanguageMode(.v6)])
    ]
        + targets.map { name in
            .executableTarget(
                name: name,
                dependencies: [
                    "FuzzSupport",
                    .product(name: "MoxyHTTP", package: "moxy"),
                    .product(name: "MoxySigning", package: "moxy"),
                    .product(name: "MoxyRewrite", package: "moxy"),
                    .product(name: "MoxyCache", package: "moxy"),
                    .product(name: "MoxyServer", package: "moxy"),
                    .product(name: "MoxyValidation", package: "moxy"),
                    .product(name: "MoxyYAML", package: "moxy"),
                    .product(name: "MoxyStorage", package: "moxy"),
                    .product(name: "MoxyRedis", package: "moxy"),
                    .product(name: "Crypto", package: "swift-crypto"),
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOHTTP1", package: "swift-nio"),
                    .product(name: "NIOEmbedded", package: "swift-nio"),
                    .product(name: "Configuration", package: "swift-configuration"),
                ],
                swiftSettings: [.swiftLanguageMode(.v6), .unsafeFlags(["-parse-as-library"])]
            )
        }
)
