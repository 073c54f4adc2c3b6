import Foundation
public import SolventCore
public import SolventEngine

/// An engine whose every command is applied, then journaled before anyone is answered, snapshotted every
/// `snapshotEvery` commands, and which can be rebuilt from its journal (latest valid
/// snapshot + the intact commands after it).
public struct JournaledEngine: Sendable {
    public private(set) var engine: Engine
    public let journal: any Journal
    /// Take a snapshot after every this many commands (0 = only when asked).
    public var snapshotEvery: Int
    /// Sequence number of the last journaled command.
    public internal(set) var lastSequence: Int64
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
        /// The events as stored (rendered once): this application's, or for a duplicate the
        /// original application's.
        public var stored: [StoredEvent]
        /// For a duplicate: the request hash journaled with the original (nil: none).
        public var originalRequestHash: String?
    }

    /// A command to journal, with the hash of the API request that carried it (if any).
    public struct Request: Sendable {
        public var command: TimedCommand
        public var requestHash: String?
        public init(_ command: TimedCommand, requestHash: String? = nil) {
            self.command = command
            self.requestHash = requestHash
        }
    }

    /// Decodes a command (scenario command shape), journals its canonical encoding with its
    /// time made explicit, then applies it and stores its events. A repeated idempotency key
    /// applies nothing and returns the original events.
    public mutating func submit(_ command: JSONValue, path: String = "command") throws -> Submission {
        try submit(requests: [Request(decode(command, path: path, defaultTime: engine.state.time))])[0]
    }

    /// Group commit of decoded commands: nothing is journaled when one is malformed.
    public mutating func submit(batch commands: [JSONValue], path: String = "commands") throws -> [Submission] {
        var requests: [Request] = []
        var time = engine.state.time
        for (n, command) in commands.enumerated() {
            let timed = try decode(command, path: "\(path)[\(n)]", defaultTime: time)
            time = timed.time
            requests.append(Request(timed))
        }
        return try submit(requests: requests)
    }

    /// A command in the scenario shape, decoded by the one decoder.
    func decode(_ command: JSONValue, path: String, defaultTime: Int64) throws -> TimedCommand {
        try Scenario.decodeCommand(JSONReader(command, path: path), assetIndex: assetIndex, defaultTime: defaultTime)
    }

    /// Group commit of typed commands: applies them in order, journals their canonical
    /// encoding and their events in one transaction (one fsync).
    public mutating func submit(requests: [Request]) throws -> [Submission] {
        try submit(prepared: requests.map { ($0.command, $0.requestHash) })
    }

    /// Test hook: a command whose idempotency key equals `SOLVENT_INJECT_TRAP_KEY` traps while
    /// it is applied, as a command outside the range contract would have (tests of the
    /// apply-before-journal order: the process dies, the journal never holds the command).
    static let injectedTrapKey: String? = ProcessInfo.processInfo.environment["SOLVENT_INJECT_TRAP_KEY"].flatMap { $0.isEmpty ? nil : $0 }

    /// Applies the prepared commands, then journals them, then stores their results.
    ///
    /// **Apply before journal** (docs/journal.md, "Poison commands"): a command is applied to
    /// the engine before it is journaled, so a command that traps during apply kills the
    /// process before it reaches the journal, and recovery (which replays only journaled
    /// commands, each of which applied once already) cannot die on it: one bad command can
    /// cost one request, never a crash loop. Retries are found before applying (the journal's
    /// known keys, and repeats inside the batch). A journal write that fails after the engine
    /// applied the batch leaves the engine ahead of its journal: the process stops (fail-stop)
    /// and recovery rebuilds the state from what was journaled; no caller was answered.
    ///
    /// A chain reorganization replays the journal up to itself, so what precedes it in a batch
    /// is journaled first (the batch is cut before each reorganization notice).
    mutating func submit(prepared: [(TimedCommand, String?)]) throws -> [Submission] {
        var submissions: [Submission] = []
        var start = 0
        while start < prepared.count {
            var end = start + 1
            if !Self.isReorganization(prepared[start].0) {
                while end < prepared.count, !Self.isReorganization(prepared[end].0) { end += 1 }
            }
            submissions += try submitInOrder(prepared[start..<end])
            start = end
        }
        return submissions
    }

    static func isReorganization(_ timed: TimedCommand) -> Bool {
        if case .chainReorg = timed.command { return true }
        return false
    }

    /// One run of commands: find retries, apply the new commands, journal them with their
    /// events in one append (one transaction).
    mutating func submitInOrder(_ prepared: ArraySlice<(TimedCommand, String?)>) throws -> [Submission] {
        let known = try journal.sequences(forKeys: prepared.map(\.0.key).filter { !$0.isEmpty })
        var submissions: [Submission] = []
        var records: [JournalRecord] = []
        var sequences: [Int64] = []
        var batchKeys: [String: Int] = [:]  // key → index in `records`
        var snapshotDue = false
        var next = lastSequence
        for (timed, requestHash) in prepared {
            let key = timed.key
            if !key.isEmpty, let original = known[key] {
                let originalHash = requestHash == nil ? nil : try journal.entry(sequence: original)?.requestHash
                submissions.append(Submission(outcome: .duplicate(sequence: original), events: [], stored: try journal.events(command: original),
                                              originalRequestHash: originalHash))
                continue
            }
            if !key.isEmpty, let k = batchKeys[key] {
                submissions.append(Submission(outcome: .duplicate(sequence: sequences[k]), events: [], stored: records[k].events,
                                              originalRequestHash: records[k].requestHash))
                continue
            }
            next += 1
            if let trap = Self.injectedTrapKey, trap == key { fatalError("injected trap while applying the command with key \(key) (SOLVENT_INJECT_TRAP_KEY)") }
            let journal = self.journal
            let events = try applyJournaled(timed, sequence: next, history: { try journal.read() })
            let stored = events.map { StoredEvent($0, command: next) }
            if !key.isEmpty { batchKeys[key] = records.count }
            records.append(JournalRecord(key: key, body: timed.canonicalJSON, requestHash: requestHash, events: stored))
            sequences.append(next)
            if snapshotEvery > 0, next % Int64(snapshotEvery) == 0 { snapshotDue = true }
            submissions.append(Submission(outcome: .appended(sequence: next), events: events, stored: stored, originalRequestHash: nil))
        }
        guard !records.isEmpty else { return submissions }
        let outcomes: [AppendOutcome]
        do { outcomes = try journal.append(records: records) } catch let fenced as JournalFenced {
            // A cluster node that is not (or no longer) the leader: nothing was stored, no caller is
            // answered, and the engine is ahead of its journal — the caller must rebuild it from
            // the journal (`recover`) before using it again (docs/cluster.md "Fencing").
            throw fenced
        } catch {
            Self.failStop("journaling commands the engine already applied failed: \(error)")
        }
        for (outcome, sequence) in zip(outcomes, sequences) where outcome != .appended(sequence: sequence) {
            Self.failStop("the journal stored command \(sequence) as \(outcome): another writer shares it")
        }
        lastSequence = next
        // Snapshots cover commands whose events are stored (they are: same transaction).
        if snapshotDue { try snapshot() }
        return submissions
    }

    /// Stops the process: the engine is ahead of its journal, and only recovery from the
    /// journal gives a state that matches what is durable.
    static func failStop(_ reason: String) -> Never {
        FileHandle.standardError.write(Data("solvent: fail-stop: \(reason); restart to recover from the journal\n".utf8))
        exit(70)
    }

    /// Saves the whole state after the last journaled command.
    public func snapshot() throws { try Self.writeSnapshot(of: engine, sequence: lastSequence, to: journal) }

    /// Writes a snapshot of `engine` as it was after journal entry `sequence`. The engine is a
    /// value, so a copy taken on the writer's side can be encoded anywhere (a background task)
    /// while commands go on; its results must already be stored (they are, once `submit` returned).
    public static func writeSnapshot(of engine: Engine, sequence: Int64, to journal: any Journal) throws {
        try journal.writeSnapshot(Snapshot.of(engine, sequence: sequence))
    }

    /// Rebuilds the engine: the newest snapshot that decodes and whose state hash checks
    /// out (at or before `limit` commands), then the intact commands after it, read alone
    /// (`Journal.read(after:)`: the journal before the snapshot is not read, so a damaged record
    /// there no longer stops recovery: the snapshot, checked by its state hash, holds its
    /// effect). Returns the number of damaged tail records left out, and the snapshot used
    /// (0 = genesis).
    public static func recover(journal: any Journal, limit: Int? = nil, snapshotEvery: Int = 1000)
        throws -> (engine: JournaledEngine, discardedTail: Int, fromSnapshot: Int64) {
        let snapshots = try journal.snapshots()
        func newest(atMost bound: Int64?) -> (engine: Engine, sequence: Int64)? {
            for snapshot in snapshots where bound.map({ snapshot.sequence <= $0 }) ?? true {
                if let restored = snapshot.restoredEngine() { return (restored, snapshot.sequence) }  // decodes (binary or JSON), checks the state hash
            }
            return nil
        }
        var start = newest(atMost: limit.map(Int64.init))
        var contents = try journal.read(after: start?.sequence ?? 0)
        if let s = start?.sequence, contents.entries.first?.sequence != s + 1, contents.discardedTail > 0 {
            // The record after the snapshot is damaged, or the backend's read stopped before the
            // snapshot: the whole journal decides, as it always did (the newest snapshot at or
            // before the last intact command).
            contents = try journal.read()
            let intact = limit.map { l in contents.entries.filter { $0.sequence <= Int64(l) } } ?? contents.entries
            start = newest(atMost: intact.last?.sequence ?? 0)
        }
        let entries = limit.map { l in contents.entries.filter { $0.sequence <= Int64(l) } } ?? contents.entries
        let engine: Engine
        if let start { engine = start.engine } else {
            guard let genesisBytes = contents.genesis else { throw JournalError("the journal has no genesis document") }
            engine = try Scenario.decode(JSONParser.parseStored(genesisBytes), unknownMembers: .ignored).makeEngine()
        }
        var recovered = JournaledEngine(engine: engine, journal: journal, lastSequence: start?.sequence ?? 0, snapshotEvery: snapshotEvery)
        // A reorganization notice in the tail rolls back before the snapshot: only then is the
        // whole journal read (once).
        var history: JournalContents? = nil
        // Commands journaled without their events (the previous format stored them in a second
        // transaction, which a crash could miss): recompute those, in order.
        let resultsUpTo = limit == nil ? try journal.lastEventCommand() : .max
        var missing: [(command: Int64, events: [StoredEvent])] = []
        for entry in entries where entry.sequence > recovered.lastSequence {
            let timed = try recovered.decode(entry)
            let events = try recovered.applyJournaled(timed, sequence: entry.sequence, history: {
                if let history { return history }
                let full = try journal.read()
                history = full
                return full
            })
            recovered.lastSequence = entry.sequence
            if entry.sequence > resultsUpTo { missing.append((entry.sequence, events.map { StoredEvent($0, command: entry.sequence) })) }
        }
        try journal.recordEvents(missing)
        return (recovered, contents.discardedTail, start?.sequence ?? 0)
    }

    /// The command of a journal entry.
    func decode(_ entry: JournalEntry) throws -> TimedCommand {
        let json = try JSONParser.parseStored(entry.body)
        // What this process (or an older version) stored: unknown members are skipped, as they were
        // when it was written, so every journal keeps replaying (docs/range-contract.md).
        var timed = try Scenario.decodeCommand(JSONReader(json, path: "journal[\(entry.sequence)]"), assetIndex: assetIndex,
                                               defaultTime: engine.state.time, unknownMembers: .ignored)
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
        for snapshot in try journal.snapshots() where snapshot.sequence < earliest {
            guard let state = snapshot.decodedState(), !state.chainDeposits.contains(where: { excluded.contains($0.identity) }) else { continue }
            let restored = Engine(restoring: state)
            if restored.stateHash() == snapshot.stateHash {
                base = restored
                baseSequence = snapshot.sequence
                break
            }
        }
        let contents = try history()
        guard let genesis = contents.genesis else { throw JournalError("the journal has no genesis document") }
        var replay = JournaledEngine(engine: try base ?? Scenario.decode(JSONParser.parseStored(genesis), unknownMembers: .ignored).makeEngine(),
                                     journal: journal, lastSequence: baseSequence, snapshotEvery: 0)
        let affected = Set(orphaned.map { engine.state.accounts[$0.account].id })
        replay.engine.beginReplay(notice: timed.time, affected: affected, from: earliest)  // restated calls wait for the notice
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
