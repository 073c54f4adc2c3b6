import Foundation
import GRDB
import SolventCore
import SolventEngine
@testable import SolventJournal
import Testing

private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func example(_ name: String) throws -> JSONValue {
    try JSONParser.parse([UInt8](Data(contentsOf: root.appendingPathComponent("Examples/scenarios/\(name)"))))
}

private let examples = ["lender-call-cured.json", "crash-adl.json", "oracle-spike.json", "partial-liquidation.json",
                        "short-squeeze-socialized.json", "chain-reorg.json"]

/// The canonical command encoding (`TimedCommand.canonicalJSON`) and the one decoder
/// (`Scenario.decodeCommand`) are inverse: the journal stores nothing else.
@Suite struct CanonicalCommandTests {
    /// Random commands of every kind: decode(encode(c)) == c, and the encoding is a fixed point.
    @Test func roundTripProperty() throws {
        var random = SplitMix64(seed: 0x5EED_16)
        var kinds: Set<String> = []
        for _ in 0..<5_000 {
            let command = randomCommand(&random)
            kinds.insert(command.typeName)
            let bytes = command.canonicalJSON
            let decoded = try Scenario.decodeCommand(JSONReader(JSONParser.parse(bytes), path: "c"), assetIndex: [:], defaultTime: 0)
            #expect(decoded == command, "\(String(decoding: bytes, as: UTF8.self))")
            #expect(decoded.canonicalJSON == bytes)
        }
        #expect(kinds.count == 18, "every command kind was generated: \(kinds.sorted())")
    }

    /// Every command of the example scenarios survives decode → encode → decode.
    @Test func examplesRoundTrip() throws {
        var checked = 0
        for name in examples {
            let scenario = try Scenario.decode(example(name))
            for command in scenario.commands {
                var plain = command
                plain.key = ""
                let again = try Scenario.decodeCommand(JSONReader(JSONParser.parse(plain.canonicalJSON), path: "c"), assetIndex: [:], defaultTime: 0)
                #expect(again == plain)
                checked += 1
            }
        }
        #expect(checked > 20)
    }

    /// A command decoded without a time takes the time it is stamped with, and so do the
    /// fields that default to it (source_time, effective_time); explicit ones stay.
    @Test func stamping() throws {
        func decode(_ text: String) throws -> TimedCommand {
            try Scenario.decodeCommand(JSONReader(JSONParser.parse(text), path: "c"), assetIndex: [:], defaultTime: TimedCommand.unstamped)
        }
        let mark = try decode(#"{"type":"mark","symbol":"BTCUSDT","price":"1"}"#).stamped(at: 1_000)
        #expect(mark.time == 1_000 && mark.command == .markPrice(symbol: "BTCUSDT", price: 1, sourceTime: 1_000))
        let sourced = try decode(#"{"type":"mark","symbol":"BTCUSDT","price":"1","source_time":900}"#).stamped(at: 1_000)
        #expect(sourced.command == .markPrice(symbol: "BTCUSDT", price: 1, sourceTime: 900))
        let change = try decode(#"{"type":"change_parameters","parameters":{"hysteresis":"0.1"}}"#).stamped(at: 2_000)
        guard case .changeParameters(_, let effective) = change.command else { Issue.record("not a change"); return }
        #expect(effective == 2_000)
    }

    func randomCommand(_ r: inout SplitMix64) -> TimedCommand {
        func pick<T>(_ items: [T]) -> T { items[Int(r.next() % UInt64(items.count))] }
        func decimal() -> FixedDecimal { FixedDecimal(pick(["1", "0.5", "60000", "0.00000001", "123.456", "-2", "1000000"]))! }
        func positive() -> FixedDecimal { FixedDecimal(pick(["1", "0.5", "60000", "0.00000001", "123.456"]))! }
        func id() -> String { pick(["alice", "bob", "t-1_2.3:x", "o\"q", "é"]) }
        func time() -> Int64 { 1_700_000_000_000 + Int64(r.next() % 1_000_000) }
        let t = time()
        let command: EngineCommand
        switch r.next() % 18 {
        case 0: command = .deposit(account: id(), asset: pick(["USDT", "BTC"]), amount: positive(), settle: pick([nil, "USDT"]))
        case 1: command = .withdraw(account: id(), asset: "USDT", amount: positive())
        case 2: command = .placeOrder(id: id(), account: id(), symbol: "BTCUSDT", quantity: decimal(), price: positive(), reduceOnly: r.next() % 2 == 0)
        case 3: command = .cancelOrder(id: id())
        case 4: command = .fill(account: id(), symbol: "BTCUSDT", quantity: decimal(), price: positive(), fee: decimal(), orderID: pick([nil, "o1"]))
        case 5: command = .markPrice(symbol: "BTCUSDT", price: positive(), sourceTime: pick([t, time()]))
        case 6: command = .indexPrice(symbol: "ETHUSDT", price: positive(), sourceTime: pick([t, time()]))
        case 7: command = .assetPrice(asset: "BTC", price: positive())
        case 8: command = .book(symbol: "BTCUSDT", bids: (0..<Int(r.next() % 3)).map { _ in BookLevel(price: positive(), quantity: positive()) },
                                asks: (0..<Int(r.next() % 3)).map { _ in BookLevel(price: positive(), quantity: positive()) })
        case 9: command = .funding(symbol: "BTCUSDT", rate: pick([FixedDecimal("0.0001")!, FixedDecimal("-0.0003")!]))
        case 10: command = .setLeverage(account: id(), symbol: "BTCUSDT", leverage: pick([FixedDecimal(1), FixedDecimal(20), FixedDecimal("12.5")!]))
        case 11: command = .setMarginMode(account: id(), symbol: "BTCUSDT", isolated: r.next() % 2 == 0)
        case 12: command = .moveIsolatedMargin(account: id(), symbol: "BTCUSDT", amount: decimal())
        case 13:
            var update = ParameterUpdate()
            if r.next() % 2 == 0 { update = ParameterUpdate(all: pick([EngineParameters.exchange, .lender])) }
            if r.next() % 2 == 0 { update.liquidationNotionalCap = Nullable(nil) }
            if r.next() % 2 == 0 { update.unconfirmedHaircut = Nullable(FixedDecimal("0.2")!) }
            if r.next() % 2 == 0 { update.gracePeriodMs = 60_000 }
            var brackets: [String: BracketTable] = [:]
            if r.next() % 2 == 0 {
                brackets["BTCUSDT"] = try! BracketTable(rows: [
                    .init(floor: 0, cap: 50_000, maxLeverage: 125, mmr: FixedDecimal("0.004")!),
                    .init(floor: 50_000, cap: 250_000, maxLeverage: 100, mmr: FixedDecimal("0.005")!),
                ])
            }
            let change = ParameterChange(brackets: brackets, haircuts: r.next() % 2 == 0 ? ["BTC": FixedDecimal("0.05")!] : [:],
                                         update: r.next() % 3 == 0 ? nil : update)
            command = .changeParameters(change, effectiveTime: pick([t, time()]))
        case 14: command = .tick
        case 15: command = .chainDeposit(account: id(), asset: "BTC", amount: positive(), settle: pick([nil, "USDT"]), chain: "btc",
                                         height: Int64(r.next() % 1000), blockHash: "h\(r.next() % 100)")
        case 16: command = .chainTip(chain: "btc", height: Int64(r.next() % 1000))
        default:
            command = .chainReorg(chain: "btc", forkHeight: 10, newHashes: Dictionary(uniqueKeysWithValues: (0..<Int(r.next() % 4)).map { (Int64(10 + $0), "n\($0)") }))
        }
        return TimedCommand(time: t, command: command)
    }
}

/// The event store: every event rendered once, in the transaction of its command, and read
/// back identical after a restart, on both backends.
@Suite struct EventStoreTests {
    /// After a restart `events(after: 0)` returns every event ever produced, byte for byte as
    /// the submissions rendered them, with their commands, and retries get the original events.
    @Test(arguments: Backend.available) func everyEventSurvivesARestart(backend: Backend) throws {
        let test = try backend.make()
        let document = try example("crash-adl.json")
        guard case .array(let commands)? = document["commands"] else { Issue.record("no commands"); return }
        var engine = try JournaledEngine.create(scenario: document, journal: test.open(), snapshotEvery: 7)
        var produced: [StoredEvent] = []
        for (n, command) in commands.enumerated() {
            let submission = try engine.submit(command)
            #expect(submission.stored.map(\.body) == submission.events.map(\.json))
            #expect(submission.stored.allSatisfy { $0.command == Int64(n + 1) })
            produced += submission.stored
        }
        #expect(produced.count > commands.count)
        let reopened = try test.open()
        _ = try JournaledEngine.recover(journal: reopened)
        let stored = try reopened.events(EventQuery(after: 0, limit: 1_000_000))
        #expect(stored == produced)
        #expect(try reopened.firstEventSequence() == produced.first?.sequence)
        #expect(try reopened.lastEventCommand() == Int64(commands.count))
        // Paging and filters.
        let page = try reopened.events(EventQuery(after: produced[2].sequence, limit: 3))
        #expect(page == Array(produced[3..<6]))
        let account = try #require(produced.compactMap(\.account).first)
        #expect(try reopened.events(EventQuery(account: account, limit: 10_000)) == produced.filter { $0.account == account })
        #expect(try reopened.events(EventQuery(kind: "deposited", limit: 10_000)) == produced.filter { $0.kind == "deposited" })
        #expect(try reopened.events(command: 3) == produced.filter { $0.command == 3 })
    }

    /// A journal written by the previous format (request hash inside the command body, events
    /// only as JSON lines in `result`, the last commands' results lost to a crash) opens: the
    /// migration fills the event table and the request-hash column, recovery recomputes the
    /// missing events, and the store equals what a fresh run produces.
    @Test(arguments: Backend.available) func previousFormatIsMigrated(backend: Backend) throws {
        let document = try example("crash-adl.json")
        guard case .array(let commands)? = document["commands"] else { Issue.record("no commands"); return }
        // The reference: a fresh run.
        var fresh = try JournaledEngine.create(scenario: document, journal: MemoryJournal(), snapshotEvery: 0)
        var produced: [[EngineEvent]] = []
        for command in commands { produced.append(try fresh.submit(command).events) }
        // The previous format's rows.
        var rows: [(body: [UInt8], key: String, result: [UInt8]?)] = []
        var time = Int64.min
        for (n, command) in commands.enumerated() {
            let timed = try Scenario.decodeCommand(JSONReader(command, path: "c"), assetIndex: [:], defaultTime: time)
            time = timed.time
            guard case .object(let members) = command else { continue }
            let key = "key-\(n)"
            var writer = JSONWriter()
            writer.value(.object([(key: "time", value: .number(String(timed.time)))] + members.filter { $0.key != "time" }
                + [(key: "request_sha256", value: .string("hash-\(n)")), (key: "key", value: .string(key))]))
            let lines = produced[n].map { $0.json + "\n" }.joined()
            rows.append((writer.bytes, key, n >= commands.count - 2 ? nil : Array(lines.utf8)))  // the last two results lost
        }
        var genesis = JSONWriter()
        genesis.value(JournaledEngine.genesisDocument(document))
        let journal: any Journal
        switch backend {
        case .sqlite:
            let directory = try temporaryDirectory()
            try writePreviousSQLite(directory: directory, genesis: genesis.bytes, rows: rows)
            journal = try SQLiteJournal(directory: directory, create: false)
        case .postgres:
            let url = try #require(Backend.postgresURL)
            let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            try writePreviousPostgres(url: url, schema: schema, genesis: genesis.bytes, rows: rows)
            journal = try PostgresJournal(url: url, schema: schema)
        }
        #expect(try journal.lastEventCommand() == Int64(commands.count - 2))
        #expect(try journal.entry(sequence: 4)?.requestHash == "hash-3")
        let recovered = try JournaledEngine.recover(journal: journal).engine
        #expect(recovered.engine.stateHash() == fresh.engine.stateHash())
        #expect(try journal.lastEventCommand() == Int64(commands.count))
        let stored = try journal.events(EventQuery(after: 0, limit: 1_000_000))
        #expect(stored.map(\.body) == produced.flatMap { $0 }.map(\.json))
        #expect(stored.map(\.command) == produced.enumerated().flatMap { n, events in events.map { _ in Int64(n + 1) } })
        // A retry of a migrated key gets the original events and the original request hash.
        var again = recovered
        var retry = try Scenario.decodeCommand(JSONReader(commands[2], path: "c"), assetIndex: [:], defaultTime: recovered.engine.state.time)
        retry.key = "key-2"
        let duplicate = try again.submit(requests: [JournaledEngine.Request(retry, requestHash: "other")])[0]
        #expect(duplicate.outcome == .duplicate(sequence: 3))
        #expect(duplicate.originalRequestHash == "hash-2")
        #expect(duplicate.stored.map(\.body) == produced[2].map(\.json))
    }

    /// The schema of the previous format (migrations v1 to v3), filled with `rows`.
    func writePreviousSQLite(directory: String, genesis: [UInt8], rows: [(body: [UInt8], key: String, result: [UInt8]?)]) throws {
        let queue = try DatabaseQueue(path: directory + "/journal.sqlite")
        try queue.write { db in
            try db.execute(sql: """
                CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                INSERT INTO grdb_migrations VALUES ('v1'), ('v2-snapshots'), ('v3-results');
                CREATE TABLE genesis (id INTEGER PRIMARY KEY, body BLOB NOT NULL, checksum INTEGER NOT NULL);
                CREATE TABLE command (sequence INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, body BLOB NOT NULL, checksum INTEGER NOT NULL);
                CREATE TABLE snapshot (sequence INTEGER PRIMARY KEY, state_hash TEXT NOT NULL, version INTEGER NOT NULL, body BLOB NOT NULL, checksum INTEGER NOT NULL);
                CREATE TABLE result (sequence INTEGER PRIMARY KEY, body BLOB NOT NULL);
                """)
            try db.execute(sql: "INSERT INTO genesis VALUES (1, ?, ?)", arguments: [Data(genesis), Int64(CRC32C.checksum(genesis))])
            for (n, row) in rows.enumerated() {
                let entry = JournalEntry(sequence: Int64(n + 1), key: row.key, body: row.body)
                try db.execute(sql: "INSERT INTO command VALUES (?, ?, ?, ?)", arguments: [entry.sequence, entry.key, Data(entry.body), Int64(entry.checksum)])
                if let result = row.result { try db.execute(sql: "INSERT INTO result VALUES (?, ?)", arguments: [entry.sequence, Data(result)]) }
            }
        }
    }

    /// The previous format's tables in a PostgreSQL schema, filled with `rows` (statements run
    /// through a scratch journal's connection, bytes as hex literals).
    func writePreviousPostgres(url: String, schema: String, genesis: [UInt8], rows: [(body: [UInt8], key: String, result: [UInt8]?)]) throws {
        func hex(_ bytes: [UInt8]) -> String { "decode('" + bytes.map { String(format: "%02x", $0) }.joined() + "', 'hex')" }
        let scratch = try PostgresJournal(url: url, schema: schema + "_scratch")
        defer { try? scratch.destroy() }
        var sql = [
            "CREATE SCHEMA \(schema)",
            "CREATE TABLE \(schema).genesis (id INTEGER PRIMARY KEY, body BYTEA NOT NULL, checksum BIGINT NOT NULL)",
            "CREATE TABLE \(schema).command (sequence BIGINT PRIMARY KEY, key TEXT NOT NULL UNIQUE, body BYTEA NOT NULL, checksum BIGINT NOT NULL)",
            "CREATE TABLE \(schema).result (sequence BIGINT PRIMARY KEY, body BYTEA NOT NULL)",
            "CREATE TABLE \(schema).snapshot (sequence BIGINT PRIMARY KEY, state_hash TEXT NOT NULL, version INTEGER NOT NULL, body BYTEA NOT NULL, checksum BIGINT NOT NULL)",
            "INSERT INTO \(schema).genesis VALUES (1, \(hex(genesis)), \(CRC32C.checksum(genesis)))",
        ]
        for (n, row) in rows.enumerated() {
            let entry = JournalEntry(sequence: Int64(n + 1), key: row.key, body: row.body)
            sql.append("INSERT INTO \(schema).command VALUES (\(entry.sequence), '\(entry.key)', \(hex(entry.body)), \(entry.checksum))")
            if let result = row.result { sql.append("INSERT INTO \(schema).result VALUES (\(entry.sequence), \(hex(result)))") }
        }
        for statement in sql { try scratch.execute(statement) }
    }
}
