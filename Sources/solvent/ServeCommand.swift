import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SolventCore
import SolventDemo
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
        abstract: "Run the HTTP API, WebSocket streams, webhooks and dashboard over a journaled engine (docs/service.md).",
        discussion: """
            Settings come from (highest first) flags, SOLVENT_* environment variables, the JSON file of \
            --config, and defaults. Every setting: its flag (--port 0 or --port=0), its variable, its file key:

            \(ServiceConfiguration.helpText)

            The data folder holds the SQLite journal and snapshots (unless --postgres), the API keys (hashed), \
            the webhook outbox and the proof-of-reserves secret. At the first start of a new folder an operator \
            key is printed once, on a line of its own: `operator key: KEY`. SIGTERM or Ctrl-C: stop accepting, \
            finish requests in flight, close streams, flush the webhook outbox, write a snapshot.
            """)

    @Option(name: .long, help: "A JSON configuration file (keys above).") var config: String?
    /// Every other flag is a setting of the table above (`--port 0`, `--rate-limit=50`), checked by ServiceConfiguration.
    @Argument(parsing: .allUnrecognized, help: .hidden) var settings: [String] = []

    func run() async throws {
        let configuration = resolve()
        let service: SolventService
        do {
            service = try await SolventService(configuration: configuration, cluster: configuration.clusterSettings,
                                               genesis: try configuration.genesis.map { try JSONParser.parse(ProcessIO.readInput($0)) } ?? DefaultGenesis.document())
        } catch {
            ProcessIO.fail("serve: \(error)", status: 1)
        }
        if let key = service.newOperatorKey { ProcessIO.writeStdout("operator key: \(key)\n") }
        let app = service.application { port in ProcessIO.writeStdout("listening on http://\(configuration.host):\(port)\n") }
        do { try await app.runService() } catch {
            ProcessIO.fail("serve: cannot serve on \(configuration.host):\(configuration.port): \(error) (another server on that port? choose one with --port)", status: 1)
        }
        try await service.shutdown()
        ProcessIO.writeStderr("serve: stopped cleanly, snapshot written")
    }

    /// Defaults, then the file, then the environment, then flags (ServiceConfiguration.resolve); exit 2 naming a bad setting.
    func resolve() -> ServiceConfiguration {
        let configuration: ServiceConfiguration
        do {
            let file = try config.map { (name: $0, document: try JSONParser.parse(ProcessIO.readInput($0))) }
            configuration = try ServiceConfiguration.resolve(file: file, environment: ProcessInfo.processInfo.environment, flags: settings)
        } catch let error as InputError {
            ProcessIO.fail("serve: \(error.path): \(error.reason)", status: 2)
        } catch {
            ProcessIO.fail("serve: \(config ?? "config"): \(error)", status: 2)
        }
        if configuration.nodeID != nil, configuration.postgres == nil {
            ProcessIO.fail("serve: --node-id: a cluster node needs --postgres (the group's journal; docs/cluster.md)", status: 2)
        }
        do { try configuration.checkAdvertise() } catch { ProcessIO.fail("serve: \(error.path): \(error.reason)", status: 2) }
        guard configuration.data != nil else { ProcessIO.fail("serve: --data (or SOLVENT_DATA, or \"data\" in --config): the data folder is required", status: 2) }
        return configuration
    }
}

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage API keys (a running server sees every change on the next request).",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API key and print it once (only its hash is stored); its id goes to stderr.")
        @Option(name: .long, help: "operator, price-feeder, fill-feeder or account.") var role: String
        @Option(name: .long, help: "With --role account: the account the key is bound to.") var account: String?
        @Option(name: .long, help: "The key stops working at this time: ISO 8601 (2026-12-31T00:00:00Z) or a duration from now (90d, 12h, 30m).")
        var expires: String?
        @Option(name: .long, help: "The data folder of `solvent serve`.") var data: String

        func run() async throws {
            guard let parsed = Role(rawValue: role) else { ProcessIO.fail("--role: one of operator, price-feeder, fill-feeder, account", status: 2) }
            if parsed == .account && (account ?? "").isEmpty { ProcessIO.fail("--account: an account key is bound to one account", status: 2) }
            if parsed != .account && account != nil { ProcessIO.fail("--account: only for --role account", status: 2) }
            if let account, let problem = AccountID.problem(account) { ProcessIO.fail("--account: \(problem)", status: 2) }
            var expiry: Date? = nil
            if let expires {
                guard let date = KeysCommand.parseExpiry(expires, now: Date()) else {
                    ProcessIO.fail("--expires: an ISO 8601 UTC time (2026-12-31T00:00:00Z) or a duration such as 90d, 12h, 30m", status: 2)
                }
                guard date > Date() else { ProcessIO.fail("--expires: \(expires) is in the past", status: 2) }
                expiry = date
            }
            do {
                let store = try APIKeyStore(directory: data)
                let text = try await store.create(role: parsed, account: account, expires: expiry)
                ProcessIO.writeStdout(text + "\n")
                if let key = await store.list().first(where: { $0.id == APIKeyStore.id(ofKey: text) }) {
                    ProcessIO.writeStderr("key id \(key.id)" + (expiry.map { ", expires \(KeysCommand.format($0))" } ?? ""))
                }
            } catch {
                ProcessIO.fail("keys: \(error)", status: 1)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the keys: id, role, account, status, created, expires, revoked (never a key's text or hash).")
        @Option(name: .long, help: "The data folder of `solvent serve`.") var data: String
        @Flag(name: .long, help: "One JSON object per key instead of a table.") var json = false

        func run() async throws {
            let keys: [APIKeyStore.StoredKey]
            do { keys = try await APIKeyStore(directory: data).list() } catch { ProcessIO.fail("keys: \(error)", status: 1) }
            let now = Date()
            if json {
                for key in keys {
                    var w = JSONWriter()
                    w.beginObject()
                    w.member("id", key.id)
                    w.member("role", key.role.rawValue)
                    w.key("account"); if let account = key.account { w.string(account) } else { w.null() }
                    w.member("status", key.status(at: now))
                    for (name, date) in [("created", key.created), ("expires", key.expires), ("revoked", key.revoked)] {
                        w.key(name); if let date { w.string(KeysCommand.format(date)) } else { w.null() }
                    }
                    w.endObject()
                    ProcessIO.writeStdout(w.string + "\n")
                }
                return
            }
            var lines = ["id            role          account           status   created               expires               revoked"]
            for key in keys {
                func column(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
                lines.append([column(key.id, 13), column(key.role.rawValue, 13), column(key.account ?? "-", 17), column(key.status(at: now), 8),
                              column(key.created.map(KeysCommand.format) ?? "-", 21), column(key.expires.map(KeysCommand.format) ?? "-", 21),
                              key.revoked.map(KeysCommand.format) ?? "-"].joined(separator: " "))
            }
            ProcessIO.writeStdout(lines.joined(separator: "\n") + "\n")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by its id (from `keys list`); a running server refuses it from the next request on.")
        @Argument(help: "The key's id (or a unique prefix of at least 6 characters).") var id: String
        @Option(name: .long, help: "The data folder of `solvent serve`.") var data: String

        func run() async throws {
            do {
                guard let key = try await APIKeyStore(directory: data).revoke(id: id) else {
                    ProcessIO.fail("keys revoke: no key (or more than one) has the id \"\(id)\" (see solvent keys list)", status: 2)
                }
                ProcessIO.writeStdout("revoked \(key.id) (\(key.role.rawValue)\(key.account.map { " \($0)" } ?? ""))\n")
            } catch {
                ProcessIO.fail("keys: \(error)", status: 1)
            }
        }
    }

    /// An ISO 8601 UTC time, or a duration from `now` (`90d`, `12h`, `30m`, `45s`).
    static func parseExpiry(_ text: String, now: Date) -> Date? {
        if let ms = Timestamp.parseISO8601(text) { return Date(timeIntervalSince1970: Double(ms) / 1000) }
        guard let unit = text.last, let amount = Int(text.dropLast()), amount > 0, amount < 100_000 else { return nil }
        let seconds: Double
        switch unit {
        case "s": seconds = 1
        case "m": seconds = 60
        case "h": seconds = 3600
        case "d": seconds = 86_400
        default: return nil
        }
        return now.addingTimeInterval(Double(amount) * seconds)
    }

    static func format(_ date: Date) -> String { Timestamp.formatISO8601(Int64((date.timeIntervalSince1970 * 1000).rounded(.down))) }
}
