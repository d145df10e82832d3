// swift-tools-version:6.1
// libFuzzer targets for Moxy's parsers. Not part of the main build: run `fuzz/run.sh TARGET SECONDS`
// (it builds with `-sanitize=fuzzer,address`).
import PackageDescription

let targets = ["FuzzURLDecoders", "FuzzCacheControl", "FuzzRange", "FuzzMediaType", "FuzzIPAddress"]

let package = Package(
    name: "MoxyFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "moxy", path: "..")],
    targets: [
        .target(name: "FuzzSupport", swiftSettings: [.swiftLanguageMode(.v6)])
    ]
        + targets.map { name in
            .executableTarget(
                name: name,
                dependencies: [
                    "FuzzSupport",
                    .product(name: "MoxySigning", package: "moxy"),
                    .product(name: "MoxyCache", package: "moxy"),
                    .product(name: "MoxyServer", package: "moxy"),
                ],
                swiftSettings: [.swiftLanguageMode(.v6), .unsafeFlags(["-parse-as-library"])]
            )
        }
)
