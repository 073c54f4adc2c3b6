import DequeModule
import Foundation
public import SolventCore
public import SolventEngine
public import SolventJournal
import SolventReserves
import SolventRisk

/// What submitting one command produced.
public struct CommandOutcome: Sendable {
    /// The journal sequence of the command (for a duplicate: of the original).
    public var sequence: Int64
    /// The idempotency key was already journaled: nothing was applied.
    public var duplicate: Bool
    /// The events as JSON (for a duplicate: the original's).
    public var events: [String]
    /// The event types (empty for a duplicate).
    public var kinds: [String]
    /// The key was journaled with another request (hash): nothing applied, the API answers 422.
    public var conflict: Bool = false
}

/// The service's clock: milliseconds since the Unix epoch, injected so that tests can drive it.
public struct ServiceClock: Sendable {
    public let now: @Sendable () -> Int64
    public init(_ now: @escaping @Sendable () -> Int64) { self.now = now }
    /// The system's wall clock.
    public static let wall = ServiceClock { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
    /// No clock of its own: commands without a time get the engine's current time (replays, the demo).
    public static let engineTime = ServiceClock { .min }
}

/// The engine behind the API: one journaled engine, commands applied one at a time (an actor),
/// and the most recent events kept for the events endpoint and for clients re-syncing.
public actor EngineService {
    private var journaled: JournaledEngine
    /// Recent events as (sequence, kind, account, JSON), oldest first; at most `retainedEvents`.
    private var recent = Deque<(sequence: Int64, kind: String, account: String?, json: String)>()
    public let retainedEvents: Int
    /// The proof-of-liabilities secret (nil: the reserves endpoints are off).
    let reservesSecret: [UInt8]?
    private var reserves: (sequence: Int64, snapshot: ReservesSnapshot)?
    /// Stream fan-out: events, prices and risk summaries to WebSocket clients.
    public nonisolated let hub: EventHub
    /// Volatility and fund history for the risk summary.
    private var tracker: RiskTracker
    /// Journal sequence of the last risk summary published to streams.
    private var riskPublishedAt: Int64 = -1

    /// Snapshot every this many journaled commands (0: only on shutdown), written in the background.
    public let snapshotEvery: Int
    /// Journal sequence of the last snapshot started, and the one being written.
    private var snapshotStarted: Int64
    private var snapshotTask: Task<Void, Never>?
    /// Background snapshots that failed (the journal still holds every command; recovery replays more).
    public private(set) var snapshotFailures = 0
    /// The clock stamping engine time on accepted commands.
    private var clock: ServiceClock

    public init(journaled: JournaledEngine, retainedEvents: Int = 100_000, reservesSecret: [UInt8]? = nil, hub: EventHub = EventHub(),
                snapshotEvery: Int = 1000, clock: ServiceClock = .wall) {
        var journaled = journaled
        self.clock = clock
        // Snapshots leave the command path: the service writes them from a copy, off the actor.
        journaled.snapshotEvery = 0
        self.snapshotEvery = snapshotEvery
        self.snapshotStarted = journaled.lastSequence
        self.journaled = journaled
        self.retainedEvents = retainedEvents
        self.reservesSecret = reservesSecret
        self.hub = hub
        self.tracker = RiskTracker(instruments: journaled.engine.state.market.instruments.count)
        tracker.observe(journaled.engine.state, sequence: journaled.engine.state.eventSequence)
    }

    /// Opens the journal, creating it from `genesis` (a scenario document) when there is none:
    /// SQLite in `directory`, or PostgreSQL at `postgres` (schema `schema`). `directory` also
    /// holds the reserves secret.
    public static func open(directory: String, genesis: @autoclosure () throws -> JSONValue, postgres: String? = nil,
                            schema: String = "solvent", snapshotEvery: Int = 1000, hub: EventHub = EventHub(),
                            clock: ServiceClock = .wall) throws -> EngineService {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let secret = try ReservesSecret.load(path: directory + "/reserves.secret", create: true)
        let journaled: JournaledEngine
        if let postgres {
            let journal = try PostgresJournal(url: postgres, schema: schema)
            if try journal.read().genesis != nil {
                journaled = try JournaledEngine.recover(journal: journal, snapshotEvery: snapshotEvery).engine
            } else {
                journaled = try JournaledEngine.create(scenario: genesis(), journal: journal, snapshotEvery: snapshotEvery)
            }
        } else if FileManager.default.fileExists(atPath: directory + "/journal.sqlite") {
            journaled = try JournaledEngine.recover(journal: SQLiteJournal(directory: directory, create: false), snapshotEvery: snapshotEvery).engine
        } else {
            journaled = try JournaledEngine.create(scenario: genesis(), sqliteDirectory: directory, snapshotEvery: snapshotEvery)
        }
        return EngineService(journaled: journaled, reservesSecret: secret, hub: hub, snapshotEvery: snapshotEvery, clock: clock)
    }

    public var commandsApplied: Int64 { journaled.engine.state.commandsApplied }
    public var eventSequence: Int64 { journaled.engine.state.eventSequence }

    /// Validates, journals and applies one command (scenario command shape; `key` is its
    /// idempotency key). A repeated key applies nothing and returns the original events.
    public func submit(_ command: JSONValue, key: String) throws -> CommandOutcome {
        try submit(batch: [(command, key)])[0]
    }

    /// Replaces the service clock (the live demo runs on the replay's time: `.engineTime`).
    public func use(clock: ServiceClock) { self.clock = clock }

    /// Group commit: validates every command, journals them in one transaction (one fsync),
    /// applies them in order. Nothing is journaled when one is malformed.
    ///
    /// Engine time is the service's: a command without `"time"` is stamped here, when it is
    /// accepted, with the service clock, never behind the previous command (monotonic). A
    /// command with `"time"` (the operator's replay tools, the in-process demo; the REST API
    /// refuses it from any other key) must not go back before the engine's time.
    ///
    /// A command carrying `"request_sha256"` (the REST API's hash of the canonical request)
    /// whose key was already journaled with another hash is a conflict: nothing is applied and
    /// its outcome names the original sequence (the API answers 422).
    public func submit(batch commands: [(command: JSONValue, key: String)]) throws -> [CommandOutcome] {
        var time = journaled.engine.state.time
        let now = clock.now()
        let keyed = try commands.enumerated().map { n, entry -> JSONValue in
            guard case .object(var members) = entry.command else { return entry.command }
            members.removeAll { $0.key == "key" }
            members.append((key: "key", value: .string(entry.key)))
            let path = commands.count == 1 ? "command.time" : "commands[\(n)].time"
            if let supplied = members.first(where: { $0.key == "time" })?.value {
                let t = try JSONReader(supplied, path: path).time()
                guard t >= time else {
                    throw InputError(path: path, reason: "\(t) is before the engine's time \(time) (\(Timestamp.formatISO8601(time))): engine time never goes back")
                }
                time = t
            } else {
                time = max(now, time)
                members.insert((key: "time", value: .number(String(time))), at: 0)
            }
            return .object(members)
        }
        let submissions = commands.count == 1 ? [try journaled.submit(keyed[0], path: "command")] : try journaled.submit(batch: keyed, path: "commands")
        var results: [CommandOutcome] = []
        var pricesMoved = false
        for (submission, (command, _)) in zip(submissions, commands) {
            switch submission.outcome {
            case .duplicate(let original):
                if case .string(let hash)? = command["request_sha256"], let stored = try storedRequestHash(sequence: original), stored != hash {
                    results.append(CommandOutcome(sequence: original, duplicate: true, events: [], kinds: [], conflict: true))
                    continue
                }
                results.append(CommandOutcome(sequence: original, duplicate: true,
                                              events: submission.originalResult.map { $0.split(separator: "\n").map(String.init) } ?? [], kinds: []))
            case .appended(let sequence):
                let lines = submission.events.map(\.json)
                for (event, json) in zip(submission.events, lines) { recent.append((event.sequence, event.kind.rawValue, event.account, json)) }
                hub.publish(events: Array(zip(submission.events, lines)))
                if case .string(let type)? = command["type"], ["mark", "index", "asset_price"].contains(type) { pricesMoved = true }
                results.append(CommandOutcome(sequence: sequence, duplicate: false, events: lines, kinds: submission.events.map(\.kind.rawValue)))
            }
        }
        while recent.count > retainedEvents { recent.removeFirst() }
        let state = journaled.engine.state
        tracker.observe(state, sequence: state.eventSequence)
        if pricesMoved { hub.publish(channel: .prices, type: "prices", sequence: state.eventSequence, members: Self.pricesMembers(state)) }
        scheduleSnapshotIfDue()
        return results
    }

    /// The request hash journaled with command `sequence` (nil: none, e.g. journaled before
    /// requests were hashed, or by an in-process caller).
    private func storedRequestHash(sequence: Int64) throws -> String? {
        guard let entry = try journaled.journal.entry(sequence: sequence), case .string(let hash)? = try? JSONParser.parse(entry.body)["request_sha256"] else {
            return nil
        }
        return hash
    }

    /// `"time":…,"marks":{symbol: price}` of the prices stream message.
    static func pricesMembers(_ state: EngineState) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.key("time"); w.integer(state.time)
        RiskSummary.writeMarks(state, into: &w)
        w.endObject()
        return String(w.string.dropFirst().dropLast())
    }

    /// The engine and the tracker as they are now: value copies (copy-on-write), so that
    /// read-only work over every account runs off the actor without stalling commands.
    func readView() -> (engine: Engine, tracker: RiskTracker, journalSequence: Int64) {
        (journaled.engine, tracker, journaled.lastSequence)
    }

    /// The risk summary (docs/service.md) as a JSON object, with the fund history when asked.
    /// Computed off the actor, over a copy of the state.
    public nonisolated func riskSummary(includeHistory: Bool) async -> String {
        let view = await readView()
        return "{\"sequence\":\(view.engine.state.eventSequence)," + RiskSummary.members(engine: view.engine, tracker: view.tracker, includeHistory: includeHistory) + "}"
    }

    /// The risk summary's members (no fund history) and the event sequence they describe.
    public nonisolated func riskMembers() async -> (sequence: Int64, members: String) {
        let view = await readView()
        return (view.engine.state.eventSequence, RiskSummary.members(engine: view.engine, tracker: view.tracker, includeHistory: false))
    }

    /// Publishes a risk summary to the streams when the journal moved since the last one and
    /// someone listens. Called by the service's timer (a few times per second at most).
    public nonisolated func publishRiskIfChanged() async {
        // Any journaled command (a price tick too, even without events) may change the picture.
        guard hub.subscriberCount > 0, let view = await claimRiskPublication() else { return }
        hub.publish(channel: .risk, type: "risk", sequence: view.engine.state.eventSequence,
                    members: RiskSummary.members(engine: view.engine, tracker: view.tracker, includeHistory: false))
    }

    /// The state to publish, when the journal moved since the last publication.
    private func claimRiskPublication() -> (engine: Engine, tracker: RiskTracker, journalSequence: Int64)? {
        guard journaled.lastSequence != riskPublishedAt else { return nil }
        riskPublishedAt = journaled.lastSequence
        return readView()
    }

    /// Events after `after` (exclusive), optionally of one account and one kind, at most `limit`.
    public func events(after: Int64, account: String?, kind: String?, limit: Int) -> (events: [String], oldest: Int64?) {
        var out: [String] = []
        // Sequences increase along the deque: start at the first one after `after` (binary search).
        var low = 0, high = recent.count
        while low < high {
            let middle = (low + high) / 2
            if recent[middle].sequence > after { high = middle } else { low = middle + 1 }
        }
        for entry in recent[low...] {
            if let account, entry.account != account { continue }
            if let kind, entry.kind != kind { continue }
            out.append(entry.json)
            if out.count >= limit { break }
        }
        return (out, recent.first?.sequence)
    }

    /// One account's state: balances, positions, pools and procedure, as JSON; nil when unknown.
    public func account(_ id: String) -> String? {
        let engine = journaled.engine
        guard let index = engine.state.accountIndex[id] else { return nil }
        let record = engine.state.accounts[index]
        let evaluation = engine.evaluator.evaluate(record.account)
        var w = JSONWriter()
        EvaluateOutput.write(record.account, evaluation, market: engine.state.market, into: &w)
        // Balances and procedure states alongside the contract's evaluation object.
        var extra = JSONWriter()
        extra.beginObject()
        extra.key("balances"); extra.beginObject()
        for balance in record.account.collateral { extra.member(engine.state.market.assets[balance.asset].symbol, balance.amount) }
        extra.endObject()
        extra.key("procedures"); extra.beginObject()
        for (key, state) in record.procedures.sorted(by: { $0.key < $1.key }) { extra.member(engine.poolName(key), state.name) }
        extra.endObject()
        extra.key("engine_sequence"); extra.integer(engine.state.eventSequence)
        extra.endObject()
        return "{\"account\":\(w.string),\"state\":\(extra.string)}"
    }

    /// The pre-trade check of an order (`place_order` fields: id?, account, symbol, quantity,
    /// price, reduce_only?) without placing it: JSON `{"accepted":true,"reduces",…}` or
    /// `{"accepted":false,"code","field","reason"}`. Malformed input throws with its path.
    public func checkOrder(_ document: JSONValue) throws -> String {
        guard case .object(var members) = document else { throw InputError(path: "", reason: "an order is a JSON object") }
        members.removeAll { $0.key == "type" || $0.key == "time" }
        if !members.contains(where: { $0.key == "id" }) { members.append((key: "id", value: .string("check"))) }
        members.append((key: "type", value: .string("place_order")))
        let engine = journaled.engine
        let timed = try Scenario.decodeCommand(JSONReader(.object(members), path: ""), assetIndex: [:], defaultTime: engine.state.time)
        guard case .placeOrder(let id, let account, let symbol, let quantity, let price, let reduceOnly) = timed.command else {
            throw InputError(path: "type", reason: "not an order")
        }
        var w = JSONWriter()
        w.beginObject()
        do {
            let check = try engine.checkOrder(id: id, account: account, symbol: symbol, quantity: quantity, price: price, reduceOnly: reduceOnly)
            w.key("accepted"); w.bool(true)
            w.key("reduces"); w.bool(check.reduces)
            w.key("reduce_only"); w.bool(check.reduceOnly)
            w.member("reserved_margin", check.reservedMargin)
            w.key("free_margin"); w.optionalDecimal(check.freeMargin)
        } catch {
            w.key("accepted"); w.bool(false)
            w.key("code"); w.integer(error.code.rawValue)
            w.member("field", error.field)
            w.member("reason", error.message)
        }
        w.key("engine_sequence"); w.integer(engine.state.eventSequence)
        w.endObject()
        return w.string
    }

    /// The signed quantity of `account`'s position in `symbol` (nil: unknown account or symbol; 0: none).
    public func positionQuantity(account: String, symbol: String) -> FixedDecimal? {
        let state = journaled.engine.state
        guard let a = state.accountIndex[account], let k = state.market.instruments.firstIndex(where: { $0.symbol == symbol }) else { return nil }
        return state.accounts[a].account.positions.first { $0.instrument == k }?.quantity ?? .zero
    }

    /// Insurance fund balance per asset.
    public func insuranceFund() -> String {
        let state = journaled.engine.state
        var w = JSONWriter()
        w.beginObject()
        for (k, asset) in state.market.assets.enumerated() { w.member(asset.symbol, state.totals[k].insuranceFund) }
        w.endObject()
        return w.string
    }

    /// The state gauges of `/metrics`.
    public struct Gauges: Sendable {
        public var accountsByStatus: [(String, Int)]
        public var insuranceFund: [(String, Double)]
        public var backlog: Int
        public var journalSequence: Int64
        public var eventSequence: Int64
    }

    /// Accounts by status (one evaluation per account), fund balances, backlog and sequences.
    public nonisolated func gauges() async -> Gauges {
        let view = await readView()
        let engine = view.engine
        let evaluator = engine.evaluator
        var counts = [Int](repeating: 0, count: MarginStatus.allCases.count)
        for record in engine.state.accounts { counts[evaluator.evaluate(record.account, prices: false).status.rawValue] += 1 }
        return Gauges(accountsByStatus: MarginStatus.allCases.map { ($0.name, counts[$0.rawValue]) },
                      insuranceFund: engine.state.market.assets.enumerated().map { ($1.symbol, DoubleBoundary.double(engine.state.totals[$0].insuranceFund)) },
                      backlog: engine.state.backlog.count, journalSequence: view.journalSequence, eventSequence: engine.state.eventSequence)
    }

    /// The liabilities commitment at the current state (rebuilt when the journal moved on).
    func reservesSnapshot() throws -> ReservesSnapshot {
        guard let secret = reservesSecret else { throw ServiceError(status: 404, field: "reserves", reason: "proof of reserves is not enabled") }
        if let reserves, reserves.sequence == journaled.lastSequence { return reserves.snapshot }
        let engine = journaled.engine
        guard !engine.state.accounts.isEmpty else { throw ServiceError(status: 404, field: "reserves", reason: "no accounts yet") }
        let snapshot = try ReservesSnapshot(state: engine.state, stateHash: engine.stateHash(), secret: secret)
        reserves = (journaled.lastSequence, snapshot)
        return snapshot
    }

    /// `root.json` of docs/reserves.md at the current state.
    public func reservesRoot() throws -> String { try reservesSnapshot().rootJSON() }

    /// The inclusion proof of `account`; nil when unknown.
    public func reservesProof(_ account: String) throws -> String? {
        let snapshot = try reservesSnapshot()
        guard let k = snapshot.tree.claims.firstIndex(where: { $0.account == account }) else { return nil }
        return snapshot.tree.proof(claimIndex: k).json()
    }

    /// Stored results (event JSON lines) of journaled commands after `after`, at most `limit`:
    /// the webhook outbox's source, durable before any delivery is created from it.
    public func results(after: Int64, limit: Int) throws -> [(sequence: Int64, lines: [UInt8])] {
        let journal = journaled.journal
        let last = min(try journal.lastResultSequence(), after + Int64(limit))
        guard last > after else { return [] }
        return try (after + 1...last).map { ($0, try journal.result(sequence: $0) ?? []) }
    }

    /// Starts a background snapshot when `snapshotEvery` commands were journaled since the last
    /// one and none is being written: encoding the whole state (linear in accounts) never
    /// holds up commands. The copy of the engine costs one copy-on-write of its arrays.
    private func scheduleSnapshotIfDue() {
        guard snapshotEvery > 0, snapshotTask == nil, journaled.lastSequence - snapshotStarted >= Int64(snapshotEvery) else { return }
        let engine = journaled.engine, sequence = journaled.lastSequence, journal = journaled.journal
        snapshotStarted = sequence
        snapshotTask = Task.detached(priority: .utility) { [weak self] in
            let failed: Bool
            do { try JournaledEngine.writeSnapshot(of: engine, sequence: sequence, to: journal); failed = false } catch { failed = true }
            await self?.snapshotFinished(failed: failed)
        }
    }

    private func snapshotFinished(failed: Bool) {
        snapshotTask = nil
        if failed { snapshotFailures += 1 }
    }

    /// Snapshot on shutdown (after any background snapshot in flight).
    public func snapshot() async throws {
        await snapshotTask?.value
        try journaled.snapshot()
    }
}
