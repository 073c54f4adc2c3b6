import Foundation
import Testing

/// `solvent bench` on tiny sizes: each subcommand prints one JSON object with exactly the
/// issue's keys, every number positive. Timing is never checked here (BENCHMARKS.md).
@Suite struct BenchCLITests {
    static func run(_ arguments: [String], keys: [String]) throws -> [String: Any] {
        let result = try runSolvent(["bench"] + arguments + ["--json"])
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        #expect(Set(object.keys) == Set(keys), "\(arguments)")
        for key in keys {
            let value = try #require(object[key] as? NSNumber, "\(arguments): \(key)")
            #expect(value.doubleValue > 0, "\(arguments): \(key) = \(value)")
        }
        return object
    }

    @Test func rescan() throws {
        let book = packageRoot.appendingPathComponent("Examples/evaluate/portfolio.json").path
        for extra in [[], ["--prices"], ["--path", "legacy"], ["--path", "legacy", "--prices"]] {
            // The columnar path also reports its rate per process CPU second (comparable on a
            // loaded machine, as the numpy peer's cpu_positions_per_s); the legacy path does not.
            let keys = extra.contains("legacy") ? ["positions", "positions_per_second"] : ["positions", "positions_per_second", "cpu_positions_per_second"]
            let object = try Self.run(["rescan", "--book", book, "--repeat", "2"] + extra, keys: keys)
            #expect((object["positions"] as? Int ?? 0) > 0)
        }
    }

    @Test func tick() throws {
        let object = try Self.run(["tick", "--accounts", "400", "--cross-fraction", "0.05", "--ticks", "4"],
                                  keys: ["accounts", "crossing", "tick_ms_p50", "tick_ms_max", "events"])
        #expect(object["accounts"] as? Int == 400)
        #expect((object["crossing"] as? Int ?? 0) <= 400)
    }

    @Test func pretrade() throws {
        _ = try Self.run(["pretrade", "--accounts", "100", "--rate", "20000", "--operations", "300"],
                         keys: ["p50_ns", "p99_ns", "p9999_ns", "ops_per_second"])
    }

    @Test func apply() throws {
        _ = try Self.run(["apply", "--accounts", "100", "--commands", "400"], keys: ["commands_per_second"])
    }

    @Test func journal() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("solvent-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try Self.run(["journal", "--data", directory, "--commands", "300", "--batch", "100"], keys: ["durable_commands_per_second"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty, "the benchmark's journal is removed")
    }

    @Test func snapshot() throws {
        _ = try Self.run(["snapshot", "--accounts", "50"], keys: ["write_ms", "restore_ms", "bytes"])
    }

    /// `bench memory`: every key; the parts measured from allocations are positive and the
    /// one-balance, one-position arrays hold at least their header and element (the resident
    /// growth is page-granular, not checked at this size).
    @Test func memory() throws {
        let result = try runSolvent(["bench", "memory", "--accounts", "300", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        let keys = ["heap_bytes_per_account", "rss_bytes_per_account", "account_record_bytes", "collateral_bytes", "position_bytes",
                    "containers_bytes", "account_index_bytes", "other_bytes"]
        #expect(Set(object.keys) == Set(keys))
        for key in ["rss_bytes_per_account", "account_record_bytes", "collateral_bytes", "position_bytes", "account_index_bytes"] {
            #expect(((object[key] as? NSNumber)?.doubleValue ?? 0) > 0, "\(key)")
        }
        // At least the 32-byte array header and one element (glibc may hand out a larger chunk).
        #expect(((object["collateral_bytes"] as? NSNumber)?.doubleValue ?? 0) >= 64)
        #expect(((object["position_bytes"] as? NSNumber)?.doubleValue ?? 0) >= 96)
    }

    @Test func tableAndUsage() throws {
        let table = try runSolvent(["bench", "apply", "--accounts", "10", "--commands", "40", "--table"])
        #expect(table.status == 0)
        #expect(table.stdout.contains("commands per second"))
        let bad = try runSolvent(["bench", "tick", "--accounts", "10", "--cross-fraction", "2"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--cross-fraction"))
        let neither = try runSolvent(["bench", "journal"])
        #expect(neither.status == 2)
    }
}
