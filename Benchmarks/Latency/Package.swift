// swift-tools-version:6.1
// Open-loop latency of Solvent's hot paths (HDR percentiles against offered rate). A package of
// its own so that neither `swift test` nor `swift package benchmark` runs it.
// Run: cd Benchmarks/Latency && swift run -c release SolventLatency [accounts]
import Foundation
import PackageDescription

/// The root package's identity is its folder's name (a clone may live in any folder).
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

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
                .product(name: "SolventCore", package: root),
                .product(name: "SolventRisk", package: root),
                .product(name: "SolventEngine", package: root),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
