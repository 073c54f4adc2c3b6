import Foundation
public import SolventCore

/// Everything `solvent serve` can be told, from (lowest to highest precedence) defaults, a
/// JSON file (`--config`), environment variables (`SOLVENT_*`) and command-line flags.
/// Every setting is listed once in `settings`, which also writes `solvent serve --help`.
public struct ServiceConfiguration: Sendable {
    /// Address to listen on.
    public var host = "127.0.0.1"
    /// TCP port (1…65535; 0 picks a free one).
    public var port = 8080
    /// The data folder: SQLite journal and snapshots, API keys, webhook outbox, reserves secret.
    public var data: String?
    /// PostgreSQL URL of the journal (`postgres://user@host:port/db`); nil: SQLite in `data`.
    public var postgres: String?
    /// PostgreSQL schema of the journal.
    public var schema = "solvent"
    /// Scenario document starting a new journal (docs/scenarios.md); nil: the demo market.
    public var genesis: String?
    /// Requests per second per API key (token bucket rate) and its burst.
    public var rateLimit = 2_000.0
    public var burst = 4_000.0
    /// Messages queued per WebSocket client before it is cut off.
    public var streamQueue = 4_096
    /// Milliseconds between risk summaries on the streams (when the engine moved).
    public var riskInterval = 250
    /// Milliseconds between webhook outbox rounds.
    public var webhookInterval = 200
    /// Milliseconds a new connection has to send its first request head (slow or silent clients are cut).
    public var headerTimeout = 10_000
    /// Milliseconds an idle keep-alive connection is kept open.
    public var idleTimeout = 30_000
    /// swift-log level: trace, debug, info, notice, warning, error, critical.
    public var logLevel = "info"
    /// Snapshot the engine every N journaled commands.
    public var snapshotEvery = 1_000
    /// Webhook subscriptions and the retry policy of their deliveries.
    public var webhooks: [WebhookSubscription] = []
    public var webhookRetry = WebhookRetryPolicy()
    /// The clock stamping engine time on accepted commands (not a setting: the wall clock;
    /// `.engineTime` for replays such as the live demo; tests inject their own).
    public var clock: ServiceClock = .wall

    public init() {}

    /// One setting: its key in the file, its environment variable, its help.
    public struct Setting: Sendable {
        public var key: String
        public var environment: String
        public var help: String
        let apply: @Sendable (inout ServiceConfiguration, JSONReader) throws(InputError) -> Void
    }

    /// Every setting, in `--help` order.
    public static let settings: [Setting] = [
        Setting(key: "host", environment: "SOLVENT_HOST", help: "address to listen on (default 127.0.0.1)") { c, r throws(InputError) in c.host = try r.nonEmptyString() },
        Setting(key: "port", environment: "SOLVENT_PORT", help: "TCP port, 0 for any free one (default 8080)") { c, r throws(InputError) in c.port = try int(r, 0...65_535) },
        Setting(key: "data", environment: "SOLVENT_DATA", help: "data folder: journal, snapshots, keys, outbox (required)") { c, r throws(InputError) in c.data = try r.nonEmptyString() },
        Setting(key: "postgres", environment: "SOLVENT_POSTGRES", help: "journal in PostgreSQL at this URL instead of SQLite") { c, r throws(InputError) in c.postgres = try r.nonEmptyString() },
        Setting(key: "schema", environment: "SOLVENT_SCHEMA", help: "PostgreSQL schema of the journal (default solvent)") { c, r throws(InputError) in c.schema = try r.nonEmptyString() },
        Setting(key: "genesis", environment: "SOLVENT_GENESIS", help: "scenario file starting a new journal (default: the demo market, no accounts)") { c, r throws(InputError) in c.genesis = try r.nonEmptyString() },
        Setting(key: "rate_limit", environment: "SOLVENT_RATE_LIMIT", help: "requests per second per API key (default 2000)") { c, r throws(InputError) in c.rateLimit = try positive(r) },
        Setting(key: "burst", environment: "SOLVENT_BURST", help: "burst of requests per API key (default 4000)") { c, r throws(InputError) in c.burst = try positive(r) },
        Setting(key: "stream_queue", environment: "SOLVENT_STREAM_QUEUE", help: "messages queued per WebSocket client before it is cut off (default 4096)") { c, r throws(InputError) in c.streamQueue = try int(r, 1...1_000_000) },
        Setting(key: "risk_interval_ms", environment: "SOLVENT_RISK_INTERVAL_MS", help: "ms between risk summaries on streams (default 250)") { c, r throws(InputError) in c.riskInterval = try int(r, 10...60_000) },
        Setting(key: "webhook_interval_ms", environment: "SOLVENT_WEBHOOK_INTERVAL_MS", help: "ms between webhook outbox rounds (default 200)") { c, r throws(InputError) in c.webhookInterval = try int(r, 10...60_000) },
        Setting(key: "header_timeout_ms", environment: "SOLVENT_HEADER_TIMEOUT_MS", help: "ms a new connection has to send its request head (default 10000)") { c, r throws(InputError) in c.headerTimeout = try int(r, 100...600_000) },
        Setting(key: "idle_timeout_ms", environment: "SOLVENT_IDLE_TIMEOUT_MS", help: "ms an idle keep-alive connection stays open (default 30000)") { c, r throws(InputError) in c.idleTimeout = try int(r, 100...3_600_000) },
        Setting(key: "snapshot_every", environment: "SOLVENT_SNAPSHOT_EVERY", help: "snapshot every N commands (default 1000)") { c, r throws(InputError) in c.snapshotEvery = try int(r, 1...100_000_000) },
        Setting(key: "log_level", environment: "SOLVENT_LOG_LEVEL", help: "trace, debug, info, notice, warning, error or critical (default info)") { c, r throws(InputError) in
            let level = try r.string()
            guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) else {
                throw r.error("one of trace, debug, info, notice, warning, error, critical")
            }
            c.logLevel = level
        },
        Setting(key: "webhooks", environment: "SOLVENT_WEBHOOKS", help: "JSON array of {name, url, secret, events?, accounts?}") { c, r throws(InputError) in
            var seen: Set<String> = []
            c.webhooks = try r.elements().enumerated().map { (k, value) throws(InputError) in
                let subscription = try WebhookSubscription.decode(value, path: r.path + "[\(k)]")
                guard seen.insert(subscription.name).inserted else { throw InputError(path: r.path + "[\(k)].name", reason: "\"\(subscription.name)\" is used twice") }
                return subscription
            }
        },
        Setting(key: "webhook_retry", environment: "SOLVENT_WEBHOOK_RETRY", help: "JSON {base_ms, max_ms, max_attempts, timeout_ms, concurrency} (default 1000, 600000, 10, 10000, 8)") { c, r throws(InputError) in
            var policy = WebhookRetryPolicy()
            for (key, _) in try r.members() {
                guard ["base_ms", "max_ms", "max_attempts", "timeout_ms", "concurrency"].contains(key) else {
                    throw InputError(path: r.childPath(key), reason: "unknown setting (base_ms, max_ms, max_attempts, timeout_ms, concurrency)")
                }
            }
            if let v = try r.optional("base_ms") { policy.baseMilliseconds = Int64(try int(v, 1...3_600_000)) }
            if let v = try r.optional("max_ms") { policy.maxMilliseconds = Int64(try int(v, 1...86_400_000)) }
            if let v = try r.optional("max_attempts") { policy.maxAttempts = try int(v, 1...1000) }
            if let v = try r.optional("timeout_ms") { policy.timeoutMilliseconds = Int64(try int(v, 1...600_000)) }
            if let v = try r.optional("concurrency") { policy.concurrency = try int(v, 1...256) }
            guard policy.maxMilliseconds >= policy.baseMilliseconds else { throw r.error("max_ms must be at least base_ms") }
            c.webhookRetry = policy
        },
    ]

    /// Applies a configuration file's object; unknown keys are errors (a typo must not be ignored).
    public mutating func apply(file document: JSONValue, name: String) throws(InputError) {
        let reader = JSONReader(document, path: "")
        for (key, value) in try reader.members() {
            guard let setting = Self.settings.first(where: { $0.key == key }) else {
                throw InputError(path: "\(name): \(key)", reason: "unknown setting (known: \(Self.settings.map(\.key).joined(separator: ", ")))")
            }
            if case .null = value { continue }
            try setting.apply(&self, JSONReader(value, path: "\(name): \(key)"))
        }
    }

    /// Applies the `SOLVENT_*` variables present in `environment`. A value is read as JSON when
    /// it parses as JSON (numbers, arrays, objects), else as a string.
    public mutating func apply(environment: [String: String]) throws(InputError) {
        for setting in Self.settings {
            guard let text = environment[setting.environment] else { continue }
            let value = (try? JSONParser.parse(Array(text.utf8))).flatMap { parsed -> JSONValue? in
                if case .string = parsed { return nil }
                return parsed
            } ?? .string(text)
            try setting.apply(&self, JSONReader(value, path: setting.environment))
        }
    }

    /// The settings table for `--help`.
    public static var helpText: String {
        let width = settings.map { $0.key.count }.max() ?? 0
        let envWidth = settings.map { $0.environment.count }.max() ?? 0
        return settings.map { s in
            s.key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + s.environment.padding(toLength: envWidth, withPad: " ", startingAt: 0) + "  " + s.help
        }.joined(separator: "\n")
    }

    static func int(_ r: JSONReader, _ range: ClosedRange<Int>) throws(InputError) -> Int {
        let value = try r.integer()
        guard let n = Int(exactly: value), range.contains(n) else { throw r.error("must be an integer in \(range.lowerBound)...\(range.upperBound)") }
        return n
    }

    static func positive(_ r: JSONReader) throws(InputError) -> Double {
        guard case .number(let text) = r.value, let value = Double(text), value > 0, value.isFinite else { throw r.error("must be a positive number") }
        return value
    }
}
