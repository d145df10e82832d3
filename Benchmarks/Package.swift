// swift-tools-version:6.1
// Timing harnesses for Moxy's pure code. Not part of the main build:
//   swift run -c release --package-path Benchmarks validation-cost
//   swift run -c release --package-path Benchmarks compression-cost
//   swift run -c release --package-path Benchmarks hit-ratio
//   swift run -c release --package-path Benchmarks disk-index-cost
//   swift run -c release --package-path Benchmarks disk-fill DIR N ORIGIN_PORT   (bench/startup.sh)
//   swift run -c release --package-path Benchmarks shared-tier-cost PORT [GETS]   (bench/shared-tier.sh)
import PackageDescription

let package = Package(
    name: "MoxyBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "moxy", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "validation-cost",
            dependencies: [
                .product(name: "MoxyValidation", package: "moxy"),
                .product(name: "MoxyRewrite", package: "moxy"),
                .product(name: "MoxySigning", package: "moxy"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/ValidationCost",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "compression-cost",
            dependencies: [
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "MoxyCompression", package: "moxy"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/CompressionCost",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "disk-fill",
            dependencies: [
                .product(name: "MoxyStorage", package: "moxy"),
                .product(name: "MoxyCache", package: "moxy"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/DiskFill",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "purge-sweep",
            dependencies: [
                .product(name: "MoxyStorage", package: "moxy"),
                .product(name: "MoxyCache", package: "moxy"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/PurgeSweep",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "disk-index-cost",
            dependencies: [.product(name: "MoxyStorage", package: "moxy")],
            path: "Sources/DiskIndexCost",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "shared-tier-cost",
            dependencies: [
                .product(name: "MoxySharedTier", package: "moxy"),
                .product(name: "MoxyRedis", package: "moxy"),
                .product(name: "MoxyStorage", package: "moxy"),
                .product(name: "MoxyCache", package: "moxy"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/SharedTierCost",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "hit-ratio",
            dependencies: [.product(name: "MoxySimulation", package: "moxy")],
            path: "Sources/HitRatio",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
