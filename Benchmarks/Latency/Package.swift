// swift-tools-version:6.1
// Open-loop latency of Solvent's hot paths (HDR percentiles against offered rate). A package of
// its own so that neither `swift test` nor `swift package benchmark` runs it.
// Run: cd Benchmarks/Latency && swift run -c release SolventLatency [accounts]
import PackageDescription

let package = Package(
    name: "SolventLatency",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        .executableTarget(
            name: "SolventLatency",
            dependencies: [
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "SolventCore", package: "main"),
                .product(name: "SolventRisk", package: "main"),
                .product(name: "SolventEngine", package: "main"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
