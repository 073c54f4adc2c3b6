// swift-tools-version:6.1
// Benchmarks are a package of their own so that `swift test` never builds them.
// Run: cd Benchmarks && swift package benchmark
import Foundation
import PackageDescription

/// The root package's identity is its folder's name (a clone may live in any folder).
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

let package = Package(
    name: "SolventBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "SolventBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SolventCore", package: root),
                .product(name: "SolventRisk", package: root),
                .product(name: "SolventEngine", package: root),
                .product(name: "SolventTestSupport", package: root),
                .product(name: "SolventJournal", package: root),
                .product(name: "SolventLab", package: root),
                .product(name: "SolventReserves", package: root),
            ],
            path: "Benchmarks/SolventBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    ],
    swiftLanguageModes: [.v6]
)
