import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SolventCore
import SolventLab
import SolventServer

/// The genesis of a new data folder when no --config is given: the demo market (USDT, USDC,
/// BTC, ETH; BTCUSDT, ETHUSDT, BTCUSD_PERP with Binance-like tiers), no accounts.
enum DefaultGenesis {
    static func document() throws -> JSONValue {
        guard case .object(var start) = try JSONParser.parse(DemoPortfolio.json) else { throw CLIError("demo portfolio is not an object") }
        start.removeAll { $0.key == "accounts" || $0.key == "policy" }
        start.append((key: "accounts", value: .array([])))
        start.append((key: "time", value: .string("2024-01-01T00:00:00Z")))
        return .object([(key: "start", value: .object(start)), (key: "commands", value: .array([]))])
    }
}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP API over a journaled engine (docs/service.md).",
        discussion: """
            The data folder holds the SQLite journal, snapshots and the API keys (hashed). At the first \
            start of a new folder an operator key is printed once, on a line of its own: `operator key: KEY`. \
            SIGTERM or Ctrl-C stop accepting requests, finish the ones in flight and write a snapshot.
            """)

    @Option(name: .long, help: "Address to listen on.") var host: String = "127.0.0.1"
    @Option(name: .long, help: "Port to listen on.") var port: Int = 8080
    @Option(name: .long, help: "The data folder (created when missing).") var data: String
    @Option(name: .long, help: "Requests per second allowed per API key (token bucket).") var rateLimit: Double = 2_000
    @Option(name: .long, help: "Burst of requests allowed per API key.") var burst: Double = 4_000
    @Option(name: .long, help: "Genesis of a new data folder: a scenario file (docs/scenarios.md). Default: the demo market, no accounts.") var config: String?

    func run() async throws {
        guard (1...65_535).contains(port) else { ProcessIO.fail("--port: must be in 1...65535", status: 2) }
        guard rateLimit > 0, burst >= 1 else { ProcessIO.fail("--rate-limit must be positive and --burst at least 1", status: 2) }
        let engine: EngineService
        let keys: APIKeyStore
        do {
            engine = try EngineService.open(directory: data, genesis: try config.map { try JSONParser.parse(ProcessIO.readInput($0)) } ?? DefaultGenesis.document())
            keys = try APIKeyStore(directory: data)
            if await keys.isEmpty {
                let key = try await keys.create(role: .operator_, account: nil)
                ProcessIO.writeStdout("operator key: \(key)\n")
            }
        } catch {
            ProcessIO.fail("serve: \(error)", status: 1)
        }
        var logger = Logger(label: "solvent")
        logger.logLevel = .info
        let router = SolventAPI.router(engine: engine, keys: keys, limiter: RateLimiter(perSecond: rateLimit, burst: burst))
        let risk = PeriodicTask(name: "risk-stream", interval: .milliseconds(250)) { await engine.publishRiskIfChanged() }
        let app = SolventAPI.application(router: router, host: host, port: port, logger: logger, services: [risk])
        ProcessIO.writeStdout("listening on http://\(host):\(port)\n")
        try await app.runService()
        try await engine.snapshot()
        ProcessIO.writeStderr("serve: stopped cleanly, snapshot written")
    }
}

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "keys", abstract: "Manage API keys.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API key and print it once (only its hash is stored).")
        @Option(name: .long, help: "operator, price-feeder, fill-feeder or account.") var role: String
        @Option(name: .long, help: "With --role account: the account the key is bound to.") var account: String?
        @Option(name: .long, help: "The data folder of `solvent serve`.") var data: String

        func run() async throws {
            guard let parsed = Role(rawValue: role) else { ProcessIO.fail("--role: one of operator, price-feeder, fill-feeder, account", status: 2) }
            if parsed == .account && (account ?? "").isEmpty { ProcessIO.fail("--account: an account key is bound to one account", status: 2) }
            if parsed != .account && account != nil { ProcessIO.fail("--account: only for --role account", status: 2) }
            do {
                let store = try APIKeyStore(directory: data)
                ProcessIO.writeStdout(try await store.create(role: parsed, account: account) + "\n")
            } catch {
                ProcessIO.fail("keys: \(error)", status: 1)
            }
        }
    }
}
