// swift-tools-version: 6.2
// SPDX-License-Identifier: Apache-2.0

import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// The NIO products the server and the test support both use.
let nioServer: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
    .product(name: "NIOHTTP1", package: "swift-nio"),
    .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
]

let package = Package(
    name: "moxy",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "MoxyHTTP", targets: ["MoxyHTTP"]),
        .library(name: "MoxySigning", targets: ["MoxySigning"]),
        .library(name: "MoxyRewrite", targets: ["MoxyRewrite"]),
        .library(name: "MoxyYAML", targets: ["MoxyYAML"]),
        .library(name: "MoxyCache", targets: ["MoxyCache"]),
        .library(name: "MoxySimulation", targets: ["MoxySimulation"]),
        .library(name: "MoxyStorage", targets: ["MoxyStorage"]),
        .library(name: "MoxyValidation", targets: ["MoxyValidation"]),
        .library(name: "MoxyServer", targets: ["MoxyServer"]),
        .library(name: "MoxyRedis", targets: ["MoxyRedis"]),
        .library(name: "MoxySharedTier", targets: ["MoxySharedTier"]),
        .library(name: "MoxyCompression", targets: ["MoxyCompression"]),
        .executable(name: "moxy", targets: ["moxy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: []),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
    ],
    targets: [
        .target(
            name: "MoxySigning",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MoxyRewrite",
            dependencies: ["MoxySigning"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MoxyHTTP",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MoxyYAML",
            dependencies: ["MoxyHTTP", .product(name: "Configuration", package: "swift-configuration")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MoxyCache",
            dependencies: [
                "MoxyHTTP",
                "CMoxyCRC32C",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "CMoxyCRC32C"),
        // Debian's C libraries (apt-get install libbrotli-dev libzstd-dev): the brotli and zstd
        // forms of stored text.
        .systemLibrary(name: "CBrotliEncoder", pkgConfig: "libbrotlienc", providers: [.apt(["libbrotli-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .target(
            name: "MoxyCompression",
            dependencies: ["CBrotliEncoder", "CZstd", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MoxyStorage",
            dependencies: [
                "MoxyHTTP",
                "MoxyCache",
                "CMoxyCRC32C",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "_NIOFileSystem", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MoxyRedis",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MoxySharedTier",
            dependencies: [
                "MoxyCache",
                "MoxyRedis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MoxySimulation",
            dependencies: ["MoxyCache", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MoxyValidation",
            dependencies: ["MoxyHTTP", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MoxyServer",
            dependencies: [
                "MoxyStorage",
                "MoxySharedTier",
                "MoxyRedis",
                "MoxyHTTP",
                "MoxySigning",
                "MoxyCache",
                "MoxyValidation",
                "MoxyRewrite",
                "MoxyCompression",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            ] + nioServer,
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MoxyCLI",
            dependencies: [
                "MoxyHTTP",
                "MoxyStorage",
                "MoxyYAML",
                "MoxySigning",
                "MoxyRewrite",
                "MoxyCache",
                "MoxyValidation",
                "MoxyServer",
                "MoxySharedTier",
                "MoxyRedis",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "moxy",
            dependencies: ["MoxyCLI"],
            swiftSettings: swiftSettings,
            // SwiftPM exports every symbol of an executable (for dlsym and backtraces): 3.4 MB of
            // dynamic symbols the loader maps and reads at start, 1.3-1.5 MiB of idle RSS
            // (docs/performance.md, Footprint). Nothing here looks a symbol up by name, and crash
            // backtraces read the symbol table, which stays.
            linkerSettings: [.unsafeFlags(["-Xlinker", "--no-export-dynamic"], .when(platforms: [.linux]))]
        ),
        .target(
            name: "MoxyTestSupport",
            dependencies: [
                "MoxyServer",
                "MoxyRedis",
                "MoxySigning",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ] + nioServer,
            path: "Tests/MoxyTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MoxyStorageTests",
            dependencies: [
                "MoxyStorage", "MoxyCache", "MoxySimulation", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MoxyRedisTests",
            dependencies: ["MoxyRedis", "MoxySharedTier", "MoxyCache", "MoxySimulation", "MoxyTestSupport", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MoxyRewriteTests",
            dependencies: ["MoxyRewrite", "MoxySigning"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MoxySigningTests",
            dependencies: ["MoxySigning", "MoxyTestSupport", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MoxyCacheTests",
            dependencies: ["MoxyHTTP", "MoxyCache", "MoxySimulation", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MoxyValidationTests",
            dependencies: ["MoxyValidation", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MoxyServerTests",
            dependencies: [
                "MoxySimulation",
                "MoxyHTTP",
                .product(name: "CompressNIO", package: "compress-nio"),
                "MoxyServer",
                .product(name: "NIOEmbedded", package: "swift-nio"),
                "MoxyTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                "MoxySigning",
                "MoxyCache",
                "MoxyValidation",
            ] + nioServer,
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MoxyCLITests",
            dependencies: [
                "MoxyCLI",
                "MoxyYAML",
                "MoxyTestSupport",
                "MoxyRedis",
                "MoxySharedTier",
                "MoxyServer",
                "MoxyCache",
                "MoxySigning",
                "MoxyValidation",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ] + nioServer,
            swiftSettings: swiftSettings
        ),
    ]
)
