import ArgumentParser
import Foundation
import Hummingbird
import ServiceLifecycle
import SolventCore
import SolventDemo
import SolventLab
import SolventRisk
import SolventServer

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "The live demo: the server with a dashboard, a few hundred traders, and a real crash replayed (docs/service.md).",
        discussion: """
            Starts `solvent serve` on 127.0.0.1 with an SQLite journal in a temporary folder, opens a seeded \
            population of traders on the BTCUSDT perpetual, and replays the shipped March 2020 window ("Black \
            Thursday", Binance hourly bars) through the engine. Open the printed URL to watch warnings, margin \
            calls, cures, liquidations, ADL and the insurance fund. Ctrl-C stops it cleanly. `--book` prints the \
            older static table of the bundled example book instead.
            """)

    @Flag(name: .long, help: "Print the margin table of the bundled example book and exit (no server).") var book = false
    @Flag(name: .long, help: "With --book: print the example input JSON instead of the table.") var printInput = false
    @Option(name: .long, help: "Address to listen on.") var host = "127.0.0.1"
    @Option(name: .long, help: "Port to listen on (0: any free port).") var port = 8080
    @Option(name: .long, help: "Traders in the population.") var accounts = 300
    @Option(name: .long, help: "Replay pace in hourly bars per second (0: as fast as the engine goes).") var speed = 4.0
    @Option(name: .long, help: "CSV of hourly bars (timestamp,open,high,low,close,volume).") var history = "Examples/data/BTCUSDT-1h-2020-03-crash.csv"
    @Option(name: .long, help: "First bar replayed (ISO 8601).") var from = "2020-03-05T00:00:00Z"
    @Option(name: .long, help: "Replay bars before this time (ISO 8601).") var to = "2020-03-26T00:00:00Z"
    @Option(name: .long, help: "Keep the journal in this folder instead of a temporary one.") var data: String?
    @Option(name: .long, help: "Seed of the trader population.") var seed: UInt64 = 20200312
    @Flag(name: .long, help: "Stop the server when the replay ends (default: keep serving until Ctrl-C).") var exitWhenDone = false
    @Option(name: .long, help: "Run N `solvent serve` nodes of one cluster on consecutive ports (needs --postgres; docs/cluster.md).") var cluster: Int?
    @Option(name: .long, help: "With --cluster: the group's PostgreSQL URL.") var postgres: String?
    @Option(name: .long, help: "With --cluster: the PostgreSQL schema (default: a fresh one, dropped at exit).") var schema: String?
    @Option(name: .long, help: "With --cluster: the lease in ms (default 2000).") var leaseMs = 2_000
    @Option(name: .long, help: "With --cluster: kill -9 the leader this many seconds into the replay (then restart it as a standby).") var killLeaderAfter: Double?

    func run() async throws {
        if book || printInput {
            if printInput { ProcessIO.writeStdout(DemoPortfolio.json + "\n"); return }
            let input = try EvaluateInput.decode(JSONParser.parse(DemoPortfolio.json))
            ProcessIO.writeStdout(DemoTable.render(input))
            return
        }
        guard (0...65_535).contains(port) else { ProcessIO.fail("--port: must be in 0...65535", status: 2) }
        guard (1...100_000).contains(accounts) else { ProcessIO.fail("--accounts: must be in 1...100000", status: 2) }
        guard speed >= 0, speed.isFinite else { ProcessIO.fail("--speed: must be 0 or a positive number of bars per second", status: 2) }
        let bars = HistoryOptions.load(path: history, from: from, to: to)
        let demo = LiveDemo(bars: bars, accounts: accounts, seed: seed)
        if let cluster {
            try await runCluster(size: cluster, demo: demo, bars: bars)
            return
        }
        guard postgres == nil, killLeaderAfter == nil, schema == nil else {
            ProcessIO.fail("--postgres, --schema, --kill-leader-after: only with --cluster N", status: 2)
        }
        let temporary = data == nil
        let folder = data ?? FileManager.default.temporaryDirectory.appendingPathComponent("solvent-demo-\(UUID().uuidString)").path
        defer { if temporary { try? FileManager.default.removeItem(atPath: folder) } }

        var configuration = ServiceConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.data = folder
        configuration.logLevel = "warning"
        // The demo replays 2020's bars with their own times: engine time from the start.
        configuration.clock = .engineTime
        configuration.rateLimit = 100_000
        configuration.burst = 100_000
        let service: SolventService
        let key: String
        do {
            service = try await SolventService(configuration: configuration, genesis: demo.genesis())
            if let fresh = service.newOperatorKey { key = fresh } else { key = try await service.keys.create(role: .operator_, account: nil) }
        } catch {
            ProcessIO.fail("demo: \(error)", status: 1)
        }
        let engine = service.engine
        let host = self.host
        let first = Timestamp.formatISO8601(bars[0].time), last = Timestamp.formatISO8601(bars[bars.count - 1].time)
        let pace = speed > 0 ? "\(speed) bars/s" : "full speed"
        let feeder = DemoFeeder(demo: demo, engine: engine, metrics: service.metrics, barsPerSecond: speed > 0 ? speed : nil, exitWhenDone: exitWhenDone)
        let app = service.application(extra: [feeder]) { port in
            ProcessIO.writeStdout("""
                Solvent demo: \(demo.traders.count) traders on BTCUSDT, \(first) to \(last), \(bars.count) hourly bars at \(pace)
                dashboard:    http://\(host):\(port)/#key=\(key)
                operator key: \(key)
                try:          curl -H "Authorization: Bearer \(key)" http://\(host):\(port)/v1/risk
                journal:      \(folder)/journal.sqlite\(temporary ? " (temporary)" : "")
                Ctrl-C stops it.

                """)
        }
        do { try await app.runService() } catch {
            if temporary { try? FileManager.default.removeItem(atPath: folder) }
            ProcessIO.fail("demo: cannot serve on \(host):\(port): \(error) (another server on that port? choose one with --port)", status: 1)
        }
        try await service.shutdown()
        ProcessIO.writeStderr("demo: stopped cleanly")
    }
}

extension DemoCommand {
    /// `--cluster N`: the nodes as child processes, the replay through the leader (DemoCluster.swift).
    func runCluster(size: Int, demo: LiveDemo, bars: [Bar]) async throws {
        guard (1...9).contains(size) else { ProcessIO.fail("--cluster: must be in 1...9 nodes", status: 2) }
        guard let postgres else { ProcessIO.fail("--cluster: needs --postgres URL (the group's journal and lease; docs/cluster.md)", status: 2) }
        guard (100...600_000).contains(leaseMs) else { ProcessIO.fail("--lease-ms: must be in 100...600000", status: 2) }
        if let killLeaderAfter { guard killLeaderAfter >= 0, killLeaderAfter.isFinite, killLeaderAfter <= 86_400 else { ProcessIO.fail("--kill-leader-after: seconds in 0...86400", status: 2) } }
        guard port == 0 || port + size - 1 <= 65_535 else { ProcessIO.fail("--port: \(port)...\(port + size - 1) must be ports", status: 2) }
        let own = schema == nil
        let schemaName = schema ?? "solvent_demo_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        guard !schemaName.isEmpty, schemaName.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            ProcessIO.fail("--schema: letters, digits and _ only", status: 2)
        }
        let temporary = data == nil
        let folder = data ?? FileManager.default.temporaryDirectory.appendingPathComponent("solvent-demo-\(UUID().uuidString)").path
        let first = Timestamp.formatISO8601(bars[0].time), last = Timestamp.formatISO8601(bars[bars.count - 1].time)
        let pace = speed > 0 ? "\(speed) bars/s" : "full speed"
        let runner = DemoCluster(size: size, postgres: postgres, schema: schemaName, dropSchema: own && temporary, host: host,
                                 ports: DemoCluster.ports(base: port, count: size), folder: folder, temporary: temporary,
                                 leaseMilliseconds: leaseMs, killLeaderAfter: killLeaderAfter)
        do {
            try await runner.run(demo: demo, barsPerSecond: speed > 0 ? speed : nil, exitWhenDone: exitWhenDone,
                                 description: "Solvent demo: \(demo.traders.count) traders on BTCUSDT, \(first) to \(last), \(bars.count) hourly bars at \(pace)")
        } catch {
            ProcessIO.fail("demo: \(error)", status: 1)
        }
    }
}

/// Replays the demo window as a service of the server's group; then waits for shutdown
/// (or asks for it with --exit-when-done).
struct DemoFeeder: Service {
    let demo: LiveDemo
    let engine: EngineService
    let metrics: ServiceMetrics
    let barsPerSecond: Double?
    let exitWhenDone: Bool

    func run() async throws {
        // Let the server bind and print its URL before the first command.
        try? await Task.sleep(for: .milliseconds(200))
        let tally = try? await cancelWhenGracefulShutdown {
            try await demo.run(engine: engine, metrics: metrics, barsPerSecond: barsPerSecond) { bar, count, time in
                if bar % 24 == 0 || bar == count {
                    ProcessIO.writeStdout("bar \(bar)/\(count)  \(Timestamp.formatISO8601(time))\n")
                }
            }
        }
        if let tally {
            let names = ["margin_warning", "margin_call", "margin_call_cured", "liquidation_started", "auto_deleveraged", "insurance_fund_draw", "socialized_loss"]
            ProcessIO.writeStdout("replay finished: " + names.map { "\($0) \(tally[$0] ?? 0)" }.joined(separator: ", ") + "\n")
        }
        if exitWhenDone && tally != nil { kill(getpid(), SIGTERM) }
        try? await gracefulShutdown()
    }
}
