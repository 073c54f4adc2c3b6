// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Solvent",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "solvent", targets: ["solvent"]),
        .library(name: "SolventCore", targets: ["SolventCore"]),
        .library(name: "SolventRisk", targets: ["SolventRisk"]),
        .library(name: "SolventEngine", targets: ["SolventEngine"]),
        .library(name: "SolventJournal", targets: ["SolventJournal"]),
        .library(name: "SolventServer", targets: ["SolventServer"]),
        .library(name: "SolventLab", targets: ["SolventLab"]),
        .library(name: "SolventReserves", targets: ["SolventReserves"]),
        .library(name: "SolventDemo", targets: ["SolventDemo"]),
        .library(name: "SolventTestSupport", targets: ["SolventTestSupport"]),
        .library(name: "SolventFuzzing", targets: ["SolventFuzzing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-numerics.git", from: "1.1.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
    ],
    targets: [
        .target(name: "SolventCore", swiftSettings: strict),
        .target(
            name: "SolventRisk",
            dependencies: ["SolventCore", .product(name: "RealModule", package: "swift-numerics")],
            swiftSettings: strict),
        .target(
            name: "SolventEngine",
            dependencies: [
                "SolventCore", "SolventRisk",
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        // Hardware CRC-32C (SSE 4.2, behind a runtime CPU check; CRC32C.swift falls back to the table).
        .target(name: "CSolventCRC32C"),
        .target(
            name: "SolventJournal",
            dependencies: [
                "SolventCore", "SolventEngine", "CSolventCRC32C",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .target(
            name: "SolventServer",
            dependencies: [
                "SolventCore", "SolventRisk", "SolventEngine", "SolventJournal", "SolventReserves",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Configuration", package: "swift-configuration"),
                // A cluster's webhook outbox in the group's PostgreSQL schema (Webhooks/PostgresWebhookOutbox.swift).
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            // The dashboard (HTML, CSS, JS) and the OpenAPI document as files, compiled into the binary (`solvent` stays one file).
            resources: [
                .embedInCode("Resources/dashboard.html"), .embedInCode("Resources/dashboard.css"),
                .embedInCode("Resources/dashboard-format.js"), .embedInCode("Resources/dashboard.js"),
                .embedInCode("Resources/openapi.json"),
            ],
            swiftSettings: strict),
        // Proof of reserves: the Merkle-sum tree over the engine's liabilities, proofs, collateralization.
        .target(
            name: "SolventReserves",
            dependencies: ["SolventCore", "SolventRisk", "SolventEngine", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),
        // The live demo (a real price window replayed through the service) and the bundled example book.
        .target(
            name: "SolventDemo",
            dependencies: ["SolventCore", "SolventRisk", "SolventEngine", "SolventServer", "SolventLab",
                           // `solvent demo --cluster`: the replay writes to the cluster's leader over HTTP.
                           .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio")],
            swiftSettings: strict),
        .target(
            name: "SolventLab",
            dependencies: ["SolventCore", "SolventRisk", "SolventEngine", .product(name: "RealModule", package: "swift-numerics"),
                           .product(name: "CompressNIO", package: "compress-nio"), .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict),
        // `solvent bench`: the measuring code (the command line only parses arguments).
        .target(
            name: "SolventBench",
            dependencies: ["SolventCore", "SolventRisk", "SolventEngine", "SolventJournal",
                           .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift")],
            swiftSettings: strict),
        .executableTarget(
            name: "solvent",
            dependencies: [
                "SolventCore", "SolventRisk", "SolventEngine", "SolventJournal", "SolventServer", "SolventLab",
                "SolventReserves", "SolventDemo", "SolventBench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .target(name: "SolventTestSupport", dependencies: ["SolventCore", "SolventRisk"], swiftSettings: strict),
        // The fuzzers' harnesses: run by libFuzzer from Fuzz/ and over their corpus by the tests.
        .target(name: "SolventFuzzing", dependencies: ["SolventCore", "SolventRisk", "SolventEngine"], swiftSettings: strict),
        .testTarget(name: "SolventCoreTests", dependencies: ["SolventCore", .product(name: "PropertyBased", package: "swift-property-based")], swiftSettings: strict),
        .testTarget(name: "SolventRiskTests", dependencies: ["SolventCore", "SolventRisk", "SolventTestSupport", .product(name: "PropertyBased", package: "swift-property-based"), .product(name: "RealModule", package: "swift-numerics")], swiftSettings: strict),
        .testTarget(name: "SolventEngineTests", dependencies: ["SolventCore", "SolventRisk", "SolventEngine", "SolventTestSupport", "SolventFuzzing", .product(name: "PropertyBased", package: "swift-property-based")], swiftSettings: strict),
        .testTarget(name: "SolventJournalTests", dependencies: ["SolventCore", "SolventEngine", "SolventJournal", "SolventTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
                                                     .product(name: "PostgresNIO", package: "postgres-nio")], swiftSettings: strict),
        .testTarget(
            name: "SolventServerTests",
            dependencies: [
                "SolventCore", "SolventServer", "SolventJournal", "SolventEngine", "SolventReserves",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict),
        .testTarget(name: "SolventLabTests", dependencies: ["SolventCore", "SolventLab", "SolventReserves", "SolventRisk", "SolventEngine", "SolventTestSupport", .product(name: "PropertyBased", package: "swift-property-based"),
                                                    .product(name: "CompressNIO", package: "compress-nio"), .product(name: "NIOCore", package: "swift-nio")], swiftSettings: strict),
        .testTarget(name: "SolventCLITests", dependencies: ["solvent", "SolventCore", "SolventEngine", "SolventJournal",
                                                    .product(name: "CompressNIO", package: "compress-nio"), .product(name: "NIOCore", package: "swift-nio")], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
