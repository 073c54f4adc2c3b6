// swift-tools-version:6.1
// libFuzzer harnesses, a package of their own so that only they are built with
// `-sanitize=fuzzer` (every module they use is instrumented for coverage).
// Build and run: scripts/fuzz (docs/range-contract.md).
import Foundation
import PackageDescription

/// The root package's identity is its folder's name (a clone may live in any folder).
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

let package = Package(
    name: "SolventFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "..")],
    targets: [
        .target(name: "FuzzDriver"),
        .executableTarget(name: "FuzzEngine", dependencies: ["FuzzDriver", .product(name: "SolventFuzzing", package: root)]),
        .executableTarget(name: "FuzzEvaluate", dependencies: ["FuzzDriver", .product(name: "SolventFuzzing", package: root)]),
        .executableTarget(name: "FuzzSnapshot", dependencies: ["FuzzDriver", .product(name: "SolventCore", package: root), .product(name: "SolventEngine", package: root),
                                                             .product(name: "SolventJournal", package: root)]),
    ],
    swiftLanguageModes: [.v6]
)
