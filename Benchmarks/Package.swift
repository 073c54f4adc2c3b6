// swift-tools-version:6.1
// Benchmarks are a package of their own so that `swift test` never builds them.
// Run: cd Benchmarks && swift package benchmark
import PackageDescription

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
                .product(name: "SolventCore", package: "main"),
                .product(name: "SolventRisk", package: "main"),
                .product(name: "SolventEngine", package: "main"),
                .product(name: "SolventTestSupport", package: "main"),
                .product(name: "SolventJournal", package: "main"),
                .product(name: "SolventLab", package: "main"),
            ],
            path: "Benchmarks/SolventBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    ],
    swiftLanguageModes: [.v6]
)
