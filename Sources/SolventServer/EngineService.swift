import HTTPTypes
import Foundation
import Synchronization
public import SolventCore
public import SolventEngine
public import SolventJournal
public import SolventReserves
import SolventRisk

/// What submitting one command produced.
public struct CommandOutcome: Sendable {
    /// The journal sequence of the command (for a duplicate: of the original).
    public var sequence: Int64
    /// The idempotency key was already journaled: nothing was applied.
    public var duplicate: Bool
    /// The events as stored (rendered once; for a duplicate: the original's).
    public var events: [StoredEvent]
    /// The events of this application, typed (empty for a duplicate).
    public var applied: [EngineEvent]
    /// The key was journaled with another request (hash): nothing applied, the API answers 422.
    public var conflict: Bool = false

    /// The kinds of the events applied (empty for a duplicate).
    public var kinds: [String] { applied.map(\.kind.rawValue) }
}

/// One command for the service: typed (decoded once, at the edge), with the hash of the API
/// request that carried it. A command whose time is `TimedCommand.unstamped` gets the service
/// clock's time when it is accepted.
public struct CommandRequest: Sendable {
    public var command: TimedCommand
    public var requestHash: String?

    public init(_ command: TimedCommand, requestHash: String? = nil) {
        self.command = command
        self.requestHash = requestHash
    }

    /// Decodes a command in the scenario shape (`Scenario.decodeCommand`, the one decoder);
    /// without `"time"` it is stamped when accepted. Errors name `path`. A member the command's
    /// type does not know is refused, and so is a `key` member: over HTTP the idempotency key is
    /// the `Idempotency-Key` header (a body's `key` was silently replaced by it).
    public static func decode(_ document: JSONValue, key: String, path: String = "command", requestHash: String? = nil) throws -> CommandRequest {
        if document["key"] != nil {
            throw InputError(path: JSONReader(document, path: path).childPath("key"),
                             reason: "the idempotency key is the Idempotency-Key header, not a member of the command")
        }
        var command = try Scenario.decodeCommand(JSONReader(document, path: path), assetIndex: [:], defaultTime: TimedCommand.unstamped)
        command.key = key
        return CommandRequest(command, requestHash: requestHash)
    }
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
/// every event durable in the journal's event store (read by `/v1/events`, stream re-sync,
/// webhooks and the dashboard).
///
/// The actor runs on a thread of its own (`EngineThread`): applying commands and the journal's
/// synchronous writes (SQLite fsync, PostgreSQL waits) never block Swift's cooperative pool.
public actor EngineService {
    private nonisolated let thread = EngineThread(name: "solvent-engine")
    public nonisolated var unownedExecutor: UnownedSerialExecutor { thread.asUnownedSerialExecutor() }
    var journaled: JournaledEngine {
        // Published on every change, by the engine thread: read per request without the actor.
        didSet {
            publishedSequence.store(journaled.lastSequence, ordering: .releasing)
            stateHashCache = nil
        }
    }
    /// The state hash `sequenceAndHash` computed and the sequence it is at (EngineService+Cluster.swift):
    /// cleared by every change of the journaled engine, so it is never a hash of another state.
    var stateHashCache: (sequence: Int64, hash: String)?
    /// Full state hashes `sequenceAndHash` computed (a repeated call at one sequence computes none).
    public internal(set) var stateHashComputations = 0
    /// The journal sequence the engine reflects, as last published by the engine thread
    /// (`journaledSequence`; ClusterMiddleware's `Solvent-Sequence` header).
    private nonisolated let publishedSequence = Atomic<Int64>(0)
    /// The last journaled command the engine reflects, read without awaiting the actor: an
    /// atomic the engine thread stores after every change of the journaled engine.
    public nonisolated var journaledSequence: Int64 { publishedSequence.load(ordering: .acquiring) }
    /// A cluster node's append was refused (fenced, or its outcome unknown) and rebuilding the
    /// engine from the journal failed: nothing is served from the engine until it is rebuilt
    /// (EngineService+Cluster.swift).
    var needsRebuild = false {
        didSet { awaitingRebuild.store(needsRebuild, ordering: .releasing) }
    }
    private nonisolated let awaitingRebuild = Atomic<Bool>(false)
    /// True while a refused append left the engine ahead of its journal and the rebuild has not
    /// succeeded yet (PostgreSQL unreachable): ClusterMiddleware answers reads 503 meanwhile.
    /// Read without the actor (an atomic the engine thread stores).
    public nonisolated var awaitsRebuild: Bool { awaitingRebuild.load(ordering: .acquiring) }
    /// A cluster node: a batch whose append is refused (or fails) leaves the engine to be rebuilt
    /// from the journal. No copy of the engine is kept per batch: holding one made the batch's
    /// first write copy every account (about 33 ms a batch at 100,000 accounts, 400 ms at
    /// 1,000,000: `solvent bench batch-undo`, docs/cluster.md "Fencing").
    var keepsStateBeforeBatch = false
    /// The proof-of-liabilities secret (nil: the reserves endpoints are off).
    let reservesSecret: [UInt8]?
    private var reserves: (sequence: Int64, snapshot: ReservesSnapshot)?
    /// Stream fan-out: events, prices and risk summaries to WebSocket clients.
    public nonisolated let hub: EventHub
    /// Volatility and fund history for the risk summary.
    var tracker: RiskTracker
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

    deinit { thread.stop() }

    public init(journaled: JournaledEngine, reservesSecret: [UInt8]? = nil, hub: EventHub = EventHub(),
                snapshotEvery: Int = 1000, clock: ServiceClock = .wall) {
        var journaled = journaled
        self.clock = clock
        // Snapshots leave the command path: the service writes them from a copy, off the actor.
        journaled.snapshotEvery = 0
        self.snapshotEvery = snapshotEvery
        self.snapshotStarted = journaled.lastSequence
        self.journaled = journaled
        publishedSequence.store(journaled.lastSequence, ordering: .releasing)
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
        let journaled = try JournalBackend(directory: directory, postgres: postgres, schema: schema)
            .openOrCreate(genesis: try genesis(), snapshotEvery: snapshotEvery)
        return EngineService(journaled: journaled, reservesSecret: secret, hub: hub, snapshotEvery: snapshotEvery, clock: clock)
    }

    public var commandsApplied: Int64 { journaled.engine.state.commandsApplied }
    public var eventSequence: Int64 { journaled.engine.state.eventSequence }

    /// Journals and applies one typed command. A repeated key applies nothing and returns the
    /// original events.
    public func submit(_ request: CommandRequest) throws -> CommandOutcome {
        try submit(batch: [request])[0]
    }

    /// In-process callers (tests, the demo, tools) with a command in the scenario shape: decoded
    /// by the one decoder, then submitted like any other.
    public func submit(_ command: JSONValue, key: String) throws -> CommandOutcome {
        try submit(batch: [CommandRequest.decode(command, key: key)])[0]
    }

    /// In-process callers' batch in the scenario shape (see `submit(_:key:)`).
    public func submit(batch commands: [(command: JSONValue, key: String)]) throws -> [CommandOutcome] {
        try submit(batch: commands.enumerated().map { n, entry in
            try CommandRequest.decode(entry.command, key: entry.key, path: commands.count == 1 ? "command" : "commands[\(n)]")
        })
    }

    /// Replaces the service clock (the live demo runs on the replay's time: `.engineTime`).
    public func use(clock: ServiceClock) { self.clock = clock }

    /// Group commit: journals the commands and their events in one transaction (one fsync),
    /// applied in order. Nothing is journaled when one is refused.
    ///
    /// Engine time is the service's: a command without a time (`TimedCommand.unstamped`) is
    /// stamped here, when it is accepted, with the service clock, never behind the previous
    /// command (monotonic). A command with a time (the operator's replay tools, the in-process
    /// demo; the REST API refuses it from any other key) must not go back before the engine's time.
    ///
    /// A command whose key was already journaled with another request hash is a conflict:
    /// nothing is applied and its outcome names the original sequence (the API answers 422).
    public func submit(batch requests: [CommandRequest]) throws -> [CommandOutcome] {
        var time = journaled.engine.state.time
        let now = clock.now()
        let stamped = try requests.enumerated().map { n, request -> JournaledEngine.Request in
            var command = request.command
            if command.time == TimedCommand.unstamped {
                // A cross-shard delivery is no event of the outside world: it keeps the engine's time (ShardDelivery.swift).
                if case .deliver = command.command {} else { time = max(now, time) }
                command = command.stamped(at: time)
            } else {
                guard command.time >= time else {
                    throw InputError(path: requests.count == 1 ? "command.time" : "commands[\(n)].time",
                                     reason: "\(command.time) is before the engine's time \(time) (\(Timestamp.formatISO8601(time))): engine time never goes back")
                }
                time = command.time
            }
            return JournaledEngine.Request(command, requestHash: request.requestHash)
        }
        if needsRebuild {
            do { try rebuildFromJournal() } catch {
                throw APIError(.serviceUnavailable, field: "journal", reason: "the journal cannot be read (\(error)): retry", retryAfter: 1)
            }
        }
        let appliedBefore = (journaled.engine.state.commandsApplied, journaled.engine.state.eventSequence)
        let submissions: [JournaledEngine.Submission]
        do { submissions = try journaled.submit(requests: stamped) } catch let fenced as JournalFenced {
            // A cluster node that does not lead (any more), or whose append's outcome is unknown:
            // rebuilt from what the journal holds (EngineService+Cluster.swift); until that
            // succeeds, commands are refused and reads answered 503 (awaitsRebuild).
            needsRebuild = true
            try? rebuildFromJournal()
            throw APIError(.serviceUnavailable, field: "leader", reason: "this node does not lead the cluster (\(fenced)): retry, or send it to the leader (GET /v1/cluster)", retryAfter: 1)
        } catch let error as JournalError where keepsStateBeforeBatch {
            // A cluster node's journal failed (PostgreSQL unreachable); a lookup fails before
            // anything is applied, but whatever was applied is undone by a rebuild.
            if (journaled.engine.state.commandsApplied, journaled.engine.state.eventSequence) != appliedBefore {
                needsRebuild = true
                try? rebuildFromJournal()
            }
            throw APIError(.serviceUnavailable, field: "journal", reason: "the journal is unreachable (\(error)): retry", retryAfter: 1)
        }
        var results: [CommandOutcome] = []
        var pricesMoved = false
        for (submission, request) in zip(submissions, stamped) {
            switch submission.outcome {
            case .duplicate(let original):
                if let hash = request.requestHash, let stored = submission.originalRequestHash, stored != hash {
                    results.append(CommandOutcome(sequence: original, duplicate: true, events: [], applied: [], conflict: true))
                    continue
                }
                results.append(CommandOutcome(sequence: original, duplicate: true, events: submission.stored, applied: []))
            case .appended(let sequence):
                hub.publish(events: zip(submission.events, submission.stored).map { ($0, $1.body) })
                if request.command.command.movesPrices { pricesMoved = true }
                results.append(CommandOutcome(sequence: sequence, duplicate: false, events: submission.stored, applied: submission.events))
            }
        }
        let state = journaled.engine.state
        tracker.observe(state, sequence: state.eventSequence)
        if pricesMoved { hub.publish(prices: MarksView(state), sequence: state.eventSequence) }
        scheduleSnapshotIfDue()
        return results
    }

    /// The engine and the tracker as they are now: value copies (copy-on-write), so that
    /// read-only work over every account runs off the actor without stalling commands.
    func readView() -> (engine: Engine, tracker: RiskTracker, journalSequence: Int64) {
        (journaled.engine, tracker, journaled.lastSequence)
    }

    /// The risk summary (docs/service.md), with the fund history when asked.
    /// Computed off the actor, over a copy of the state.
    public nonisolated func riskSummary(includeHistory: Bool) async -> RiskSummary {
        let view = await readView()
        return RiskSummary(engine: view.engine, tracker: view.tracker, includeHistory: includeHistory)
    }

    /// Publishes a risk summary to the streams when the journal moved since the last one and
    /// someone listens. Called by the service's timer (a few times per second at most).
    public nonisolated func publishRiskIfChanged() async {
        // Any journaled command (a price tick too, even without events) may change the picture.
        guard hub.subscriberCount > 0, let view = await claimRiskPublication() else { return }
        hub.publish(risk: RiskSummary(engine: view.engine, tracker: view.tracker, includeHistory: false))
    }

    /// The state to publish, when the journal moved since the last publication.
    private func claimRiskPublication() -> (engine: Engine, tracker: RiskTracker, journalSequence: Int64)? {
        guard journaled.lastSequence != riskPublishedAt else { return nil }
        riskPublishedAt = journaled.lastSequence
        return readView()
    }

    /// Stored events after `query.after` (exclusive), optionally of one account and one kind,
    /// and the oldest stored sequence (nil: none yet). Read from the journal's event store.
    public func events(_ query: EventQuery) throws -> (events: [StoredEvent], oldest: Int64?) {
        let journal = journaled.journal
        return (try journal.events(query), try journal.firstEventSequence())
    }

    /// One account's state: balances, positions, pools, procedures and loans; nil when unknown.
    public func account(_ id: String) -> AccountView? {
        let engine = journaled.engine
        let state = engine.state
        guard let index = state.accountIndex[id] else { return nil }
        let record = state.accounts[index]
        let loans = (state.lendingStorage?.loans[index] ?? [:]).sorted(by: { $0.key < $1.key })
        return AccountView(account: record.account, evaluation: engine.evaluateAccount(record), market: state.market,
                           procedures: record.procedures.sorted(by: { $0.key < $1.key }).map { (engine.poolName($0.key, account: index), $0.value.name) },
                           loans: loans.map { (state.market.assets[$0.key].symbol, $0.value) },
                           engineSequence: state.eventSequence)
    }

    /// One row of the operators' accounts list.
    public struct AccountRow: Sendable, Hashable {
        public var id: String
        /// The worst pool's status.
        public var status: MarginStatus
        /// The cross pool's equity, maintenance margin and ratio.
        public var equity: FixedDecimal
        public var maintenanceMargin: FixedDecimal
        public var marginRatio: FixedDecimal?
        public var positions: Int
    }

    /// Accounts sorted by id (byte order) after `after`, of `status` when given, at most
    /// `limit`; evaluated off the actor, over a copy of the state.
    public nonisolated func accounts(status: MarginStatus?, after: String?, limit: Int) async -> [AccountRow] {
        let engine = await readView().engine
        var rows: [AccountRow] = []
        let sorted = engine.state.accounts.indices.sorted { Array(engine.state.accounts[$0].id.utf8).lexicographicallyPrecedes(Array(engine.state.accounts[$1].id.utf8)) }
        for k in sorted {
            let record = engine.state.accounts[k]
            if let after, !Array(after.utf8).lexicographicallyPrecedes(Array(record.id.utf8)) { continue }
            let evaluation = engine.evaluateAccount(record, prices: false)
            if let status, evaluation.status != status { continue }
            rows.append(AccountRow(id: record.id, status: evaluation.status, equity: evaluation.cross.equity,
                                   maintenanceMargin: evaluation.cross.maintenanceMargin, marginRatio: evaluation.cross.marginRatio,
                                   positions: record.account.positions.count))
            if rows.count >= limit { break }
        }
        return rows
    }

    /// The body of `POST /v1/orders/check` as the typed `place_order` it would be (`type` and
    /// `time` are ignored, `id` defaults to `check`), decoded by the one decoder; errors name the field.
    public nonisolated static func orderCheckCommand(_ document: JSONValue) throws -> EngineCommand {
        guard case .object(var members) = document else { throw InputError(path: "", reason: "an order is a JSON object") }
        members.removeAll { $0.key == "type" || $0.key == "time" }
        if !members.contains(where: { $0.key == "id" }) { members.append((key: "id", value: .string("check"))) }
        members.append((key: "type", value: .string("place_order")))
        return try Scenario.decodeCommand(JSONReader(.object(members), path: ""), assetIndex: [:], defaultTime: TimedCommand.unstamped).command
    }

    /// The pre-trade check of a typed `place_order` against the current state (nothing changes):
    /// the check, or the engine's rejection; with the engine's event sequence at the check.
    public func checkOrder(_ command: EngineCommand) throws -> (check: Result<OrderCheck, RejectReason>, sequence: Int64) {
        guard case .placeOrder(let id, let account, let symbol, let quantity, let price, let reduceOnly) = command else {
            throw InputError(path: "type", reason: "not an order")
        }
        let engine = journaled.engine
        let check = Result { () throws(RejectReason) in
            try engine.checkOrder(id: id, account: account, symbol: symbol, quantity: quantity, price: price, reduceOnly: reduceOnly)
        }
        return (check, engine.state.eventSequence)
    }

    /// The account holding open order `id` (nil: no such open order). Order ids are per
    /// account: with `account`, that account if it holds one; without, the one account that
    /// does (nil when several do: the command must name the account).
    public func orderOwner(_ id: String, account: String? = nil) -> String? {
        journaled.engine.orderOwner(id, account: account).owner
    }

    /// The signed quantity of `account`'s position in `symbol` (nil: unknown account or symbol; 0: none).
    public func positionQuantity(account: String, symbol: String) -> FixedDecimal? {
        let state = journaled.engine.state
        guard let a = state.accountIndex[account], let k = state.market.instruments.firstIndex(where: { $0.symbol == symbol }) else { return nil }
        return state.accounts[a].account.positions.first { $0.instrument == k }?.quantity ?? .zero
    }

    /// Insurance fund balance per asset.
    public func insuranceFund() -> InsuranceFundView { InsuranceFundView(journaled.engine.state) }

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
        var counts = [Int](repeating: 0, count: MarginStatus.allCases.count)
        for record in engine.state.accounts { counts[engine.evaluateAccount(record, prices: false).status.rawValue] += 1 }
        return Gauges(accountsByStatus: MarginStatus.allCases.map { ($0.name, counts[$0.rawValue]) },
                      insuranceFund: engine.state.market.assets.enumerated().map { ($1.symbol, DoubleBoundary.double(engine.state.totals[$0].insuranceFund)) },
                      backlog: engine.state.backlog.count, journalSequence: view.journalSequence, eventSequence: engine.state.eventSequence)
    }

    /// The liabilities commitment at the current state (rebuilt when the journal moved on).
    func reservesSnapshot() throws -> ReservesSnapshot {
        guard let secret = reservesSecret else { throw APIError(.notFound, field: "reserves", reason: "proof of reserves is not enabled") }
        if let reserves, reserves.sequence == journaled.lastSequence { return reserves.snapshot }
        let engine = journaled.engine
        guard !engine.state.accounts.isEmpty else { throw APIError(.notFound, field: "reserves", reason: "no accounts yet") }
        let snapshot = try ReservesSnapshot(state: engine.state, stateHash: engine.stateHash(), secret: secret)
        reserves = (journaled.lastSequence, snapshot)
        return snapshot
    }

    /// The liabilities commitment at the current state, whose `rootJSON()` is `root.json` of
    /// docs/reserves.md (a value: its tree is shared copy-on-write, not copied).
    public func reservesRoot() throws -> ReservesSnapshot { try reservesSnapshot() }

    /// The inclusion proof of `account`; nil when unknown.
    public func reservesProof(_ account: String) throws -> InclusionProof? {
        let snapshot = try reservesSnapshot()
        guard let k = snapshot.tree.claims.firstIndex(where: { $0.account == account }) else { return nil }
        return snapshot.tree.proof(claimIndex: k)
    }

    /// The stored events of journaled commands after command `after`, at most `limit`
    /// commands (each with its events, possibly none): the webhook outbox's source, durable
    /// before any delivery is created from it.
    public func results(after: Int64, limit: Int) throws -> [(sequence: Int64, events: [StoredEvent])] {
        let journal = journaled.journal
        let last = min(try journal.lastEventCommand(), after + Int64(limit))
        guard last > after else { return [] }
        var query = EventQuery(after: 0, limit: Int(Int32.max))
        query.commands = (after + 1)...last
        var byCommand = Dictionary(grouping: try journal.events(query), by: \.command)
        return (after + 1...last).map { ($0, byCommand.removeValue(forKey: $0) ?? []) }
    }

    /// Starts a background snapshot when `snapshotEvery` commands were journaled since the last
    /// one and none is being written: encoding the whole state (linear in accounts) never
    /// holds up commands. The copy of the engine costs one copy-on-write of its arrays.
    private func scheduleSnapshotIfDue() {
        guard snapshotEvery > 0, snapshotTask == nil, journaled.lastSequence - snapshotStarted >= Int64(snapshotEvery) else { return }
        let engine = journaled.engine, sequence = journaled.lastSequence, journal = journaled.journal
        snapshotStarted = sequence
        snapshotTask = Task.detached(priority: .utility) { [weak self] in
            // Encoding and writing (fsync, PostgreSQL waits) on a thread of its own, off the cooperative pool.
            let failed = await withCheckedContinuation { continuation in
                Thread.detachNewThread {
                    do { try JournaledEngine.writeSnapshot(of: engine, sequence: sequence, to: journal); continuation.resume(returning: false) } catch {
                        continuation.resume(returning: true)
                    }
                }
            }
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
