import Foundation
public import SolventCore
public import SolventEngine

/// An engine whose every command is journaled before it is applied, snapshotted every
/// `snapshotEvery` commands, and which can be rebuilt from its journal (latest valid
/// snapshot + the intact commands after it).
public struct JournaledEngine: Sendable {
    public private(set) var engine: Engine
    public let journal: any Journal
    /// Take a snapshot after every this many commands (0 = only when asked).
    public var snapshotEvery: Int
    /// Sequence number of the last journaled command.
    public private(set) var lastSequence: Int64
    private let assetIndex: [String: Int]

    private init(engine: Engine, journal: any Journal, lastSequence: Int64, snapshotEvery: Int) {
        self.engine = engine
        self.journal = journal
        self.lastSequence = lastSequence
        self.snapshotEvery = snapshotEvery
        self.assetIndex = Dictionary(uniqueKeysWithValues: engine.state.market.assets.enumerated().map { ($1.symbol, $0) })
    }

    /// Starts a new journal: `scenario` is a scenario document (docs/scenarios.md); its
    /// starting book and parameters become the genesis (its `commands` are not journaled).
    public static func create(scenario: JSONValue, journal: any Journal, snapshotEvery: Int = 1000,
                              fullRescan: Bool = false) throws -> JournaledEngine {
        let genesis = genesisDocument(scenario)
        let engine = try Scenario.decode(genesis).makeEngine(fullRescan: fullRescan)
        try journal.writeGenesis(genesisBytes(scenario))
        return JournaledEngine(engine: engine, journal: journal, lastSequence: 0, snapshotEvery: snapshotEvery)
    }

    /// Starts a new SQLite journal in `directory` whose file appears atomically with its genesis.
    public static func create(scenario: JSONValue, sqliteDirectory directory: String, snapshotEvery: Int = 1000,
                              fullRescan: Bool = false) throws -> JournaledEngine {
        let engine = try Scenario.decode(genesisDocument(scenario)).makeEngine(fullRescan: fullRescan)
        let journal = try SQLiteJournal.create(directory: directory, genesis: genesisBytes(scenario))
        return JournaledEngine(engine: engine, journal: journal, lastSequence: 0, snapshotEvery: snapshotEvery)
    }

    /// The genesis document as bytes.
    static func genesisBytes(_ scenario: JSONValue) -> [UInt8] {
        var writer = JSONWriter()
        writer.value(genesisDocument(scenario))
        return writer.bytes
    }

    /// The scenario document with an empty command list.
    static func genesisDocument(_ scenario: JSONValue) -> JSONValue {
        guard case .object(let members) = scenario else { return scenario }
        return .object(members.filter { $0.key != "commands" } + [(key: "commands", value: .array([]))])
    }

    /// What submitting a command produced.
    public struct Submission: Sendable {
        public var outcome: AppendOutcome
        /// The events of this application (empty for a duplicate).
        public var events: [EngineEvent]
        /// For a duplicate: the events the original application produced, as JSON lines.
        public var originalResult: String?
    }

    /// Validates a command (scenario command shape), journals it with its time made
    /// explicit, then applies it and stores its events. A repeated idempotency key applies
    /// nothing and returns the original events.
    public mutating func submit(_ command: JSONValue, path: String = "command") throws -> Submission {
        try submit(prepared: [prepare(command, path: path, defaultTime: engine.state.time)])[0]
    }

    /// Group commit: validates every command, journals them all in one transaction (one
    /// fsync), then applies them in order. Nothing is journaled when one is malformed.
    public mutating func submit(batch commands: [JSONValue], path: String = "commands") throws -> [Submission] {
        var prepared: [(TimedCommand, [UInt8])] = []
        var time = engine.state.time
        for (n, command) in commands.enumerated() {
            let next = try prepare(command, path: "\(path)[\(n)]", defaultTime: time)
            time = next.0.time
            prepared.append(next)
        }
        return try submit(prepared: prepared)
    }

    /// The decoded command and the bytes to journal (its JSON with the time made explicit).
    func prepare(_ command: JSONValue, path: String, defaultTime: Int64) throws -> (TimedCommand, [UInt8]) {
        let timed = try Scenario.decodeCommand(JSONReader(command, path: path), assetIndex: assetIndex, defaultTime: defaultTime)
        var writer = JSONWriter()
        writer.value(Self.withTime(command, timed.time))
        return (timed, writer.bytes)
    }

    /// Journals the prepared commands in one append, then applies each new one and stores its result.
    mutating func submit(prepared: [(TimedCommand, [UInt8])]) throws -> [Submission] {
        let outcomes = try journal.append(batch: prepared.map { ($0.0.key, $0.1) })
        var submissions: [Submission] = []
        var results: [(sequence: Int64, body: [UInt8])] = []
        var snapshotDue = false
        for ((timed, _), outcome) in zip(prepared, outcomes) {
            switch outcome {
            case .duplicate(let original):
                let stored = try journal.result(sequence: original).map { String(decoding: $0, as: UTF8.self) }
                submissions.append(Submission(outcome: outcome, events: [], originalResult: stored))
            case .appended(let sequence):
                lastSequence = sequence
                let journal = self.journal
                let events = try applyJournaled(timed, sequence: sequence, history: { try journal.read() })
                results.append((sequence, Self.jsonLines(events)))
                if snapshotEvery > 0, sequence % Int64(snapshotEvery) == 0 { snapshotDue = true }
                submissions.append(Submission(outcome: outcome, events: events, originalResult: nil))
            }
        }
        // One more transaction for the whole batch's results; a crash before it is repaired by recovery.
        try journal.recordResults(results)
        // Snapshots only after the results they cover are stored (recovery recomputes results after its snapshot only).
        if snapshotDue { try snapshot() }
        return submissions
    }

    /// Events as JSON lines.
    static func jsonLines(_ events: [EngineEvent]) -> [UInt8] {
        var writer = JSONWriter()
        for event in events {
            event.write(into: &writer)
            writer.endLine()
        }
        return writer.bytes
    }

    static func withTime(_ command: JSONValue, _ time: Int64) -> JSONValue {
        guard case .object(let members) = command else { return command }
        return .object([(key: "time", value: .number(String(time)))] + members.filter { $0.key != "time" })
    }

    /// Saves the whole state after the last journaled command.
    public func snapshot() throws { try Self.writeSnapshot(of: engine, sequence: lastSequence, to: journal) }

    /// Writes a snapshot of `engine` as it was after journal entry `sequence`. The engine is a
    /// value, so a copy taken on the writer's side can be encoded anywhere (a background task)
    /// while commands go on; its results must already be stored (they are, once `submit` returned).
    public static func writeSnapshot(of engine: Engine, sequence: Int64, to journal: any Journal) throws {
        let body = try JSONEncoder().encode(engine.state)
        try journal.writeSnapshot(Snapshot(sequence: sequence, stateHash: engine.stateHash(), version: EngineVersion.stateFormat, body: [UInt8](body)))
    }

    /// Rebuilds the engine: the newest snapshot that decodes and whose state hash checks
    /// out (at or before `limit` commands), then the intact commands after it. Returns the
    /// number of damaged tail records left out, and the snapshot used (0 = genesis).
    public static func recover(journal: any Journal, limit: Int? = nil, snapshotEvery: Int = 1000)
        throws -> (engine: JournaledEngine, discardedTail: Int, fromSnapshot: Int64) {
        let contents = try journal.read()
        guard let genesisBytes = contents.genesis else { throw JournalError("the journal has no genesis document") }
        let entries = Array(contents.entries.prefix(limit ?? contents.entries.count))
        let last = entries.last?.sequence ?? 0
        var start: (engine: Engine, sequence: Int64)? = nil
        for snapshot in try journal.snapshots() where snapshot.sequence <= last && snapshot.version == EngineVersion.stateFormat {
            guard let state = try? JSONDecoder().decode(EngineState.self, from: Data(snapshot.body)) else { continue }
            let restored = Engine(restoring: state)
            if restored.stateHash() == snapshot.stateHash {
                start = (restored, snapshot.sequence)
                break
            }
        }
        let engine = try start?.engine ?? Scenario.decode(JSONParser.parse(genesisBytes)).makeEngine()
        var recovered = JournaledEngine(engine: engine, journal: journal, lastSequence: start?.sequence ?? 0, snapshotEvery: snapshotEvery)
        // A crash between journaling a batch and storing its results leaves the batch's
        // commands without results (results are stored in order): recompute those.
        let resultsUpTo = limit == nil ? try journal.lastResultSequence() : .max
        var missing: [(sequence: Int64, body: [UInt8])] = []
        for entry in entries where entry.sequence > recovered.lastSequence {
            let timed = try recovered.decode(entry)
            let events = try recovered.applyJournaled(timed, sequence: entry.sequence, history: { contents })
            recovered.lastSequence = entry.sequence
            if entry.sequence > resultsUpTo { missing.append((entry.sequence, jsonLines(events))) }
        }
        try journal.recordResults(missing)
        return (recovered, contents.discardedTail, start?.sequence ?? 0)
    }

    /// The command of a journal entry.
    func decode(_ entry: JournalEntry) throws -> TimedCommand {
        let json = try JSONParser.parse(entry.body)
        var timed = try Scenario.decodeCommand(JSONReader(json, path: "journal[\(entry.sequence)]"), assetIndex: assetIndex,
                                               defaultTime: engine.state.time)
        timed.key = entry.key
        return timed
    }

    /// Applies a journaled command. A reorganization notice that orphans deposits rolls the
    /// engine back to the newest snapshot taken before the first orphaned deposit (or the
    /// genesis) and replays the journal up to the notice without the orphaned deposits
    /// (each skipped deposit becomes a tick at its time, so command numbering is kept).
    /// `history` gives the journal's contents (read only when a rollback is needed).
    mutating func applyJournaled(_ timed: TimedCommand, sequence: Int64, history: () throws -> JournalContents) throws -> [EngineEvent] {
        guard case let .chainReorg(chain, forkHeight, newHashes) = timed.command else { return engine.apply(timed) }
        let orphaned = engine.orphans(chain: chain, forkHeight: forkHeight, newHashes: newHashes)
        guard let earliest = orphaned.map(\.sequence).min() else { return engine.apply(timed) }
        let excluded = engine.state.orphanedDeposits.union(orphaned.map(\.identity))
        var base: Engine? = nil
        var baseSequence: Int64 = 0
        for snapshot in try journal.snapshots() where snapshot.sequence < earliest && snapshot.version == EngineVersion.stateFormat {
            guard let state = try? JSONDecoder().decode(EngineState.self, from: Data(snapshot.body)),
                  !state.chainDeposits.contains(where: { excluded.contains($0.identity) }) else { continue }
            let restored = Engine(restoring: state)
            if restored.stateHash() == snapshot.stateHash {
                base = restored
                baseSequence = snapshot.sequence
                break
            }
        }
        let contents = try history()
        guard let genesis = contents.genesis else { throw JournalError("the journal has no genesis document") }
        var replay = JournaledEngine(engine: try base ?? Scenario.decode(JSONParser.parse(genesis)).makeEngine(),
                                     journal: journal, lastSequence: baseSequence, snapshotEvery: 0)
        let affected = Set(orphaned.map { engine.state.accounts[$0.account].id })
        var replayed: [EngineEvent] = []
        for entry in contents.entries where entry.sequence > baseSequence && entry.sequence < sequence {
            var command = try replay.decode(entry)
            if case let .chainDeposit(_, _, _, _, depositChain, height, hash) = command.command, excluded.contains("\(depositChain):\(height):\(hash)") {
                command.command = .tick
            }
            let events = try replay.applyJournaled(command, sequence: entry.sequence, history: { contents })
            if entry.sequence >= earliest { replayed += events.filter { $0.account.map(affected.contains) ?? false } }
        }
        var rebuilt = replay.engine
        let events = rebuilt.completeReorganization(replacing: engine, orphaned: orphaned, replayed: replayed, notice: timed)
        engine = rebuilt
        return events
    }
}
