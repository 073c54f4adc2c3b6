import Foundation
import Hummingbird
import HummingbirdTesting
@testable import SolventServer
import Testing

/// The metrics conventions of docs/operations.md ("Metrics"): counters end in `_total`, the
/// process metrics of client libraries, the refusal counters and engine-state gauges, and the
/// exposition passes `promtool check metrics` (when promtool is installed: scripts/test installs it).
@Suite struct MetricsConventionTests {
    @Test func exposition() async throws {
        let f = try await Fixture()
        try await f.app.test(.router) { client in
            var text = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(text.contains(#"solvent_commands_refused_total{reason="out_of_range"} 0"#))
            _ = try await request(client, .post, "/v1/commands", key: f.priceKey, body: #"{"type":"mark","symbol":"BTCUSDT","price":"60010"}"#, idempotency: "c1")
            // Outside the range contract (prices ≤ 10^8): a rejected event with code 1009.
            _ = try await request(client, .post, "/v1/commands", key: f.priceKey, body: #"{"type":"mark","symbol":"BTCUSDT","price":"1000000000"}"#, idempotency: "c2")
            // Malformed (not a decimal): HTTP 400, counted once although the batcher re-sends it alone.
            let malformed = try await request(client, .post, "/v1/commands", key: f.priceKey, body: #"{"type":"mark","symbol":"BTCUSDT","price":"abc"}"#, idempotency: "c3")
            #expect(malformed.status == .badRequest)
            for _ in 0..<100 {
                text = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
                if text.contains("solvent_engine_time_seconds") { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(text.contains(#"solvent_commands_refused_total{reason="out_of_range"} 1"#))
            #expect(text.contains(#"solvent_commands_refused_total{reason="invalid"} 1"#))
            #expect(text.contains("solvent_stream_clients_dropped_total 0"))
            #expect(!text.contains("solvent_stream_clients_dropped "))
            #expect(text.contains(#"solvent_breaker_paused{symbol="BTCUSDT",reason="stale_mark"} 0"#))
            #expect(text.contains(#"solvent_mark_time_seconds{symbol="BTCUSDT"}"#))
            #expect(text.contains("solvent_margin_calls_past_deadline 0"))
            #if os(Linux)
            for name in ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
                         "process_start_time_seconds", "process_open_fds", "process_max_fds"] {
                #expect(text.contains("\n\(name) "), "\(name) missing")
            }
            #endif
            for line in text.split(separator: "\n") where line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                #expect((parts[3] == "counter") == parts[2].hasSuffix("_total"), "\(line)")
            }
            if let promtool = Self.executable("promtool") {
                let result = try Self.run(promtool, ["check", "metrics"], stdin: text)
                #expect(result.status == 0 && result.output.isEmpty, "promtool check metrics: \(result.output)")
            }
        }
    }

    /// `/proc/self/stat` fields are counted after the command name, which may hold spaces and parentheses.
    @Test func procStat() {
        let fields = (3...30).map { String($0 * 100) }.joined(separator: " ")
        let stat = ProcessMetrics.parseStat("42 (a b) (c) \(fields)")
        #expect(stat?.cpuSeconds == (1400 + 1500) / ProcessMetrics.ticksPerSecond)
        #expect(stat?.virtualBytes == 2300)
        #expect(stat?.residentBytes == 2400 * ProcessMetrics.pageSize)
        #expect(stat?.startTicks == 2200)
        #expect(ProcessMetrics.parseStat("garbage") == nil)
        #expect(ProcessMetrics.format(3) == "3")
        #expect(ProcessMetrics.format(0.25) == "0.25")
    }

    static func executable(_ name: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func run(_ path: String, _ arguments: [String], stdin: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
