public import Configuration
import Foundation
public import SolventCore

/// Everything `solvent serve` can be told, from (lowest to highest precedence) defaults, a
/// JSON file (`--config`), environment variables (`SOLVENT_*`) and command-line flags
/// (`--rate-limit 50`). Every setting is one row of `settings`, which also writes
/// `solvent serve --help`; the layers are resolved by apple/swift-configuration
/// (`ConfigReader` over one provider per layer), and secrets (webhook secrets, the
/// PostgreSQL URL's password) are redacted in `description` and in the configuration's log line.
public struct ServiceConfiguration: Sendable, CustomStringConvertible {
    /// Address to listen on.
    public var host = "127.0.0.1"
    /// TCP port (1…65535; 0 picks a free one).
    public var port = 8080
    /// The data folder: SQLite journal and snapshots, API keys, webhook outbox, reserves secret.
    public var data: String?
    /// PostgreSQL URL of the journal (`postgres://user:password@host:port/db`); nil: SQLite in `data`.
    public var postgres: String?
    /// PostgreSQL schema of the journal.
    public var schema = "solvent"
    /// Scenario document starting a new journal (docs/scenarios.md); nil: the demo market.
    public var genesis: String?
    /// Requests per second per API key (token bucket rate) and its burst.
    public var rateLimit = 2_000.0
    public var burst = 4_000.0
    /// Messages queued per WebSocket client before it is cut off (`EventHub.queueLimit`).
    public var streamQueue = 4_096
    /// Commands waiting for the journal before new ones are refused 503 (`CommandBatcher.maximumQueue`).
    public var commandQueue = 10_000
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
    /// This node's id in a cluster (with `postgres`: the node joins the group of that journal; docs/cluster.md).
    public var nodeID: String?
    /// The URL clients reach this node at (standbys redirect writes to the leader's); nil: http://host:port.
    public var advertise: String?
    /// The cluster lease's duration in milliseconds (renewed every third).
    public var leaseMilliseconds = 2_000
    /// How many shards the cluster's accounts are spread over (docs/cluster.md "Shards"); 1: stage 1, one journal.
    public var shards = 1
    /// This node's shard, in 0..<shards (shard 0 holds the insurance fund and the ADL queue).
    public var shard = 0
    /// Webhook subscriptions and the retry policy of their deliveries.
    public var webhooks: [WebhookSubscription] = []
    public var webhookRetry = WebhookRetryPolicy()
    /// The clock stamping engine time on accepted commands (not a setting: the wall clock;
    /// `.engineTime` for replays such as the live demo; tests inject their own).
    public var clock: ServiceClock = .wall

    public init() {}

    /// Every setting, in `--help` order. To add one: a stored property above and a row here
    /// (its file key; the variable `SOLVENT_<KEY>` and the flag `--<key-with-dashes>` follow).
    public static let settings: [Setting] = [
        .text("host", \.host, help: "address to listen on (default 127.0.0.1)"),
        .integer("port", 0...65_535, \.port, help: "TCP port, 0 for any free one (default 8080)"),
        .text("data", \.data, help: "data folder: journal, snapshots, keys, outbox (required)"),
        .text("postgres", \.postgres, secret: true, help: "journal in PostgreSQL at this URL instead of SQLite (its password is redacted in logs)",
              show: { URLRedaction.redacted($0) }),
        .text("schema", \.schema, help: "PostgreSQL schema of the journal (default solvent)"),
        .text("genesis", \.genesis, help: "scenario file starting a new journal (default: the demo market, no accounts)"),
        .number("rate_limit", \.rateLimit, help: "requests per second per API key (default 2000)"),
        .number("burst", \.burst, atLeast: 1, help: "burst of requests per API key, at least 1 (default 4000)"),
        .integer("stream_queue", 1...1_000_000, \.streamQueue, help: "messages queued per WebSocket client before it is cut off (default 4096)"),
        .integer("command_queue", 1...1_000_000, \.commandQueue, help: "commands waiting for the journal before 503 (default 10000)"),
        .integer("risk_interval_ms", 10...60_000, \.riskInterval, help: "ms between risk summaries on streams (default 250)"),
        .integer("webhook_interval_ms", 10...60_000, \.webhookInterval, help: "ms between webhook outbox rounds (default 200)"),
        .integer("header_timeout_ms", 100...600_000, \.headerTimeout, help: "ms a new connection has to send its request head (default 10000)"),
        .integer("idle_timeout_ms", 100...3_600_000, \.idleTimeout, help: "ms an idle keep-alive connection stays open (default 30000)"),
        .integer("snapshot_every", 1...100_000_000, \.snapshotEvery, help: "snapshot every N commands (default 1000)"),
        .text("node_id", \.nodeID, help: "with postgres: this node's id in the cluster of that journal (docs/cluster.md)"),
        .text("advertise", \.advertise, help: "cluster: the URL clients reach this node at (default http://HOST:PORT)"),
        .integer("lease_ms", 100...600_000, \.leaseMilliseconds, help: "cluster: the leader's lease in ms, renewed every third (default 2000)"),
        .integer("shards", 1...1_024, \.shards, help: "cluster: accounts are spread over this many shards, each its own journal and leader (default 1)"),
        .integer("shard", 0...1_023, \.shard, help: "cluster: this node's shard, 0 <= shard < shards; its journal is schema <schema>_s<shard> when shards > 1 (default 0)"),
        .choice("log_level", ["trace", "debug", "info", "notice", "warning", "error", "critical"], \.logLevel,
                help: "trace, debug, info, notice, warning, error or critical (default info)"),
        .document("webhooks", secret: true, help: "JSON array of {name, url, secret, events?, accounts?} (secrets redacted in logs)",
                  show: { c in "[" + c.webhooks.map(\.description).joined(separator: ", ") + "]" }, decode: decodeWebhooks),
        .document("webhook_retry", help: "JSON {base_ms, max_ms, max_attempts, timeout_ms, concurrency} (default 1000, 600000, 10, 10000, 8)",
                  show: { c in
                      let p = c.webhookRetry
                      return "{base_ms \(p.baseMilliseconds), max_ms \(p.maxMilliseconds), max_attempts \(p.maxAttempts), timeout_ms \(p.timeoutMilliseconds), concurrency \(p.concurrency)}"
                  }, decode: { c, r throws(InputError) in c.webhookRetry = try WebhookRetryPolicy.decode(r) }),
    ]

    /// The webhook subscriptions (names unique); errors name the element and member.
    static func decodeWebhooks(_ c: inout ServiceConfiguration, _ r: JSONReader) throws(InputError) {
        var seen: Set<String> = []
        c.webhooks = try r.elements().enumerated().map { (k, value) throws(InputError) in
            let subscription = try WebhookSubscription.decode(value, path: r.path + "[\(k)]")
            guard seen.insert(subscription.name).inserted else { throw InputError(path: r.path + "[\(k)].name", reason: "\"\(subscription.name)\" is used twice") }
            return subscription
        }
    }

    /// Resolves the layers: `file` (a parsed `--config` document and its name), the process's
    /// `environment` and the `flags` left on the command line (`--key value` or `--key=value`).
    /// Unknown keys and flags and bad values throw, naming the source (`file.json: port`,
    /// `SOLVENT_PORT`, `--port`) and the reason; a typo is never ignored.
    public static func resolve(file: (name: String, document: JSONValue)? = nil, environment: [String: String] = [:],
                               flags: [String] = []) throws(InputError) -> ServiceConfiguration {
        // Each layer is checked here, setting by setting, so that an error names its source;
        // scalars then go to one provider per layer and the reader picks the highest layer.
        var fileValues: [AbsoluteConfigKey: ConfigValue] = [:]
        var documents: [(Setting, JSONReader)] = []  // lowest layer first
        if let file {
            for (key, value) in try JSONReader(file.document, path: "").members() {
                guard let setting = settings.first(where: { $0.key == key }) else {
                    throw InputError(path: "\(file.name): \(key)", reason: "unknown setting (known: \(settings.map(\.key).joined(separator: ", ")))")
                }
                if case .null = value { continue }
                let reader = JSONReader(value, path: "\(file.name): \(key)")
                if case .document = setting.kind { documents.append((setting, reader)) } else { fileValues[setting.configKey] = try setting.value(reader) }
            }
        }
        for setting in settings {
            guard let text = environment[setting.environment] else { continue }
            let value = try setting.value(text: text, path: setting.environment)
            if case .document(let reader) = value { documents.append((setting, reader)) }
        }
        var flagValues: [AbsoluteConfigKey: ConfigValue] = [:]
        var arguments = flags[...]
        while let argument = arguments.popFirst() {
            let (name, inline) = argument.firstIndex(of: "=").map { (String(argument[..<$0]), String(argument[argument.index(after: $0)...])) } ?? (argument, nil)
            guard let setting = settings.first(where: { $0.flag == name }) else {
                throw InputError(path: name, reason: "unknown flag (see solvent serve --help for every setting)")
            }
            guard let text = inline ?? arguments.popFirst() else { throw InputError(path: name, reason: "a value is missing") }
            switch try setting.value(text: text, path: name) {
            case .document(let reader): documents.append((setting, reader))
            case .scalar(let value): flagValues[setting.configKey] = value
            }
        }
        let secretVariables = Set(settings.filter(\.isSecret).map(\.environment))
        let reader = ConfigReader(providers: [
            InMemoryProvider(name: "flags", values: flagValues),
            EnvironmentVariablesProvider(environmentVariables: environment, secretsSpecifier: .specific(secretVariables))
                .prefixKeys(with: ConfigKey(["solvent"])),
            InMemoryProvider(name: file?.name ?? "file", values: fileValues),
        ])
        var configuration = ServiceConfiguration()
        for setting in settings { setting.read(&configuration, reader) }
        for (setting, document) in documents { try setting.decode(&configuration, document) }
        try configuration.checkShards()
        return configuration
    }

    /// Every setting as `key=value`, secrets redacted (safe to log).
    public var description: String {
        Self.settings.map { "\($0.key)=\($0.show(self))" }.joined(separator: " ")
    }

    /// The settings table for `--help`: flag, variable and file key, then the meaning.
    public static var helpText: String {
        settings.map { s in "\(s.flag), \(s.environment), \(s.key)\n    \(s.help)" }.joined(separator: "\n")
    }
}

extension ServiceConfiguration {
    /// One setting: its key in the file (the environment variable and flag follow from it),
    /// how its value is read, whether it is secret, its help.
    public struct Setting: Sendable {
        /// How a value is written: the file holds JSON; a variable or a flag holds text.
        public enum Kind: Sendable {
            /// A non-empty string.
            case text
            /// An integer in the range.
            case integer(ClosedRange<Int>)
            /// A finite number, at least `atLeast` (nil: greater than 0).
            case number(atLeast: Double?)
            /// One of the words.
            case choice([String])
            /// Structured JSON: a member of the file, JSON text in a variable or a flag. Decoded
            /// where it enters (swift-configuration's values are scalars and arrays of scalars);
            /// the highest layer setting it wins, as for scalars.
            case document
        }
        /// A value checked at its source.
        enum Value {
            case scalar(ConfigValue)
            case document(JSONReader)
        }

        /// Key in the JSON file (`rate_limit`).
        public let key: String
        public let kind: Kind
        /// Redacted in logs and descriptions.
        public let isSecret: Bool
        public let help: String
        let read: @Sendable (inout ServiceConfiguration, ConfigReader) -> Void
        let decode: @Sendable (inout ServiceConfiguration, JSONReader) throws(InputError) -> Void
        let render: @Sendable (ServiceConfiguration) -> String

        /// `SOLVENT_RATE_LIMIT` (what swift-configuration's environment provider reads for `solvent.rate_limit`).
        public var environment: String { "SOLVENT_" + key.uppercased() }
        /// `--rate-limit`.
        public var flag: String { "--" + key.replacingOccurrences(of: "_", with: "-") }
        var configKey: AbsoluteConfigKey { AbsoluteConfigKey([key]) }

        /// The value as `description` shows it: a secret is redacted (its own way, or `<redacted>`).
        func show(_ configuration: ServiceConfiguration) -> String { render(configuration) }

        /// Checks a JSON value of the file.
        func value(_ r: JSONReader) throws(InputError) -> ConfigValue {
            let content: ConfigContent
            switch kind {
            case .text: content = .string(try r.nonEmptyString())
            case .integer(let range):
                let value = try r.integer()
                guard let n = Int(exactly: value), range.contains(n) else { throw r.error(Self.integerReason(range)) }
                content = .int(n)
            case .number(let minimum):
                guard case .number(let text) = r.value, let value = Double(text) else { throw r.error("expected a number") }
                guard let n = Self.number(value, minimum) else { throw r.error(Self.numberReason(minimum)) }
                content = .double(n)
            case .choice(let words):
                let word = try r.string()
                guard words.contains(word) else { throw r.error("one of " + words.joined(separator: ", ")) }
                content = .string(word)
            case .document: throw r.error("a structured setting")  // not reached: documents are decoded, not stored
            }
            return ConfigValue(content, isSecret: isSecret)
        }

        /// Checks the text of a variable or a flag.
        func value(text: String, path: String) throws(InputError) -> Value {
            let content: ConfigContent
            switch kind {
            case .text:
                guard !text.isEmpty else { throw InputError(path: path, reason: "must not be empty") }
                content = .string(text)
            case .integer(let range):
                guard let n = Int(text), range.contains(n) else { throw InputError(path: path, reason: Self.integerReason(range)) }
                content = .int(n)
            case .number(let minimum):
                guard let value = Double(text), let n = Self.number(value, minimum) else { throw InputError(path: path, reason: Self.numberReason(minimum)) }
                content = .double(n)
            case .choice(let words):
                guard words.contains(text) else { throw InputError(path: path, reason: "one of " + words.joined(separator: ", ")) }
                content = .string(text)
            case .document:
                // Operator input, parsed once here.
                do { return .document(JSONReader(try JSONParser.parse(Array(text.utf8)), path: path)) } catch {
                    throw InputError(path: path, reason: "not JSON: \(error)")
                }
            }
            return .scalar(ConfigValue(content, isSecret: isSecret))
        }

        static func integerReason(_ range: ClosedRange<Int>) -> String { "must be an integer in \(range.lowerBound)...\(range.upperBound)" }
        static func numberReason(_ minimum: Double?) -> String { minimum.map { "must be a number of at least \($0)" } ?? "must be a positive number" }
        static func number(_ value: Double, _ minimum: Double?) -> Double? {
            guard value.isFinite, minimum.map({ value >= $0 }) ?? (value > 0) else { return nil }
            return value
        }

        // MARK: Rows of the table

        /// A stored property of the configuration a row sets.
        public typealias Field<Value> = any WritableKeyPath<ServiceConfiguration, Value> & Sendable

        static func secretText(_ isSecret: Bool, _ show: (@Sendable (String) -> String)?) -> @Sendable (String) -> String {
            if let show { return show }
            if isSecret { return { _ in "<redacted>" } }
            return { text in text }
        }

        /// A string setting.
        public static func text(_ key: String, _ path: Field<String>, secret: Bool = false,
                                help: String, show: (@Sendable (String) -> String)? = nil) -> Setting {
            let shown = secretText(secret, show)
            return Setting(key: key, kind: .text, isSecret: secret, help: help,
                           read: { c, r in if let v = r.string(forKey: ConfigKey([key]), isSecret: secret) { c[keyPath: path] = v } },
                           decode: { _, _ throws(InputError) in }, render: { shown($0[keyPath: path]) })
        }

        /// A string setting without a default.
        public static func text(_ key: String, _ path: Field<String?>, secret: Bool = false,
                                help: String, show: (@Sendable (String) -> String)? = nil) -> Setting {
            let shown = secretText(secret, show)
            return Setting(key: key, kind: .text, isSecret: secret, help: help,
                           read: { c, r in if let v = r.string(forKey: ConfigKey([key]), isSecret: secret) { c[keyPath: path] = v } },
                           decode: { _, _ throws(InputError) in }, render: { $0[keyPath: path].map(shown) ?? "-" })
        }

        /// One of `words`.
        public static func choice(_ key: String, _ words: [String], _ path: Field<String>, help: String) -> Setting {
            Setting(key: key, kind: .choice(words), isSecret: false, help: help,
                    read: { c, r in if let v = r.string(forKey: ConfigKey([key])) { c[keyPath: path] = v } },
                    decode: { _, _ throws(InputError) in }, render: { $0[keyPath: path] })
        }

        /// An integer setting in `range`.
        public static func integer(_ key: String, _ range: ClosedRange<Int>, _ path: Field<Int>,
                                   help: String) -> Setting {
            Setting(key: key, kind: .integer(range), isSecret: false, help: help,
                    read: { c, r in if let v = r.int(forKey: ConfigKey([key])) { c[keyPath: path] = v } },
                    decode: { _, _ throws(InputError) in }, render: { String($0[keyPath: path]) })
        }

        /// A number setting, positive or at least `atLeast`.
        public static func number(_ key: String, _ path: Field<Double>, atLeast: Double? = nil,
                                  help: String) -> Setting {
            Setting(key: key, kind: .number(atLeast: atLeast), isSecret: false, help: help,
                    read: { c, r in if let v = r.double(forKey: ConfigKey([key])) { c[keyPath: path] = v } },
                    decode: { _, _ throws(InputError) in }, render: { String($0[keyPath: path]) })
        }

        /// A structured setting decoded by `decode`; `show` renders it (redacting secrets).
        public static func document(_ key: String, secret: Bool = false, help: String, show: @escaping @Sendable (ServiceConfiguration) -> String,
                                    decode: @escaping @Sendable (inout ServiceConfiguration, JSONReader) throws(InputError) -> Void) -> Setting {
            Setting(key: key, kind: .document, isSecret: secret, help: help, read: { _, _ in }, decode: decode, render: show)
        }
    }
}

extension WebhookRetryPolicy {
    /// Decodes `{base_ms, max_ms, max_attempts, timeout_ms, concurrency}` (each optional); errors name the member.
    static func decode(_ r: JSONReader) throws(InputError) -> WebhookRetryPolicy {
        var policy = WebhookRetryPolicy()
        for (key, _) in try r.members() {
            guard ["base_ms", "max_ms", "max_attempts", "timeout_ms", "concurrency"].contains(key) else {
                throw InputError(path: r.childPath(key), reason: "unknown setting (base_ms, max_ms, max_attempts, timeout_ms, concurrency)")
            }
        }
        func int(_ v: JSONReader, _ range: ClosedRange<Int>) throws(InputError) -> Int {
            let value = try v.integer()
            guard let n = Int(exactly: value), range.contains(n) else { throw v.error(ServiceConfiguration.Setting.integerReason(range)) }
            return n
        }
        if let v = try r.optional("base_ms") { policy.baseMilliseconds = Int64(try int(v, 1...3_600_000)) }
        if let v = try r.optional("max_ms") { policy.maxMilliseconds = Int64(try int(v, 1...86_400_000)) }
        if let v = try r.optional("max_attempts") { policy.maxAttempts = try int(v, 1...1000) }
        if let v = try r.optional("timeout_ms") { policy.timeoutMilliseconds = Int64(try int(v, 1...600_000)) }
        if let v = try r.optional("concurrency") { policy.concurrency = try int(v, 1...256) }
        guard policy.maxMilliseconds >= policy.baseMilliseconds else { throw r.error("max_ms must be at least base_ms") }
        return policy
    }
}

/// URLs as logs may show them (a PostgreSQL URL, a webhook receiver): without a password.
public enum URLRedaction {
    /// `postgres://user:secret@host/db` → `postgres://user:<redacted>@host/db`; a URL without a
    /// password is unchanged; text that is not a URL with credentials is shown as `<redacted>`
    /// when it holds an `@` (it might carry one).
    public static func redacted(_ url: String) -> String {
        // Not a URL (e.g. `postgres//user:secret@host`, a typo): whole, or redacted when it holds an `@`.
        guard let scheme = url.range(of: "://"), url[..<scheme.lowerBound].allSatisfy({ $0 != "@" }) else { return url.contains("@") ? "<redacted>" : url }
        guard let at = url[scheme.upperBound...].lastIndex(of: "@") else { return url }
        let userInfo = url[scheme.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return url }
        return String(url[..<url.index(after: colon)]) + "<redacted>" + String(url[at...])
    }
}

extension WebhookSubscription: CustomStringConvertible {
    /// The subscription with its signing secret redacted (safe to log).
    public var description: String {
        "{name \(name), url \(URLRedaction.redacted(url)), secret <redacted>, events \(events.sorted().joined(separator: ",")), accounts \(accounts.map { $0.sorted().joined(separator: ",") } ?? "*")}"
    }
}
