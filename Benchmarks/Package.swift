// swift-tools-version:6.1
// Timing harnesses for Moxy's pure code. Not part of the main build:
//   swift run -c release --package-path Benchmarks validation-cost
import PackageDescription

let package = Package(
    name: "MoxyBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "moxy", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "validation-cost",
            dependencies: [
                .product(name: "MoxyValidation", package: "moxy"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/ValidationCost",
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    ]
)
