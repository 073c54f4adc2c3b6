import Foundation
import SolventCore
import SolventEngine
import SolventRisk
@testable import SolventJournal
import SolventTestSupport
import Testing

/// The binary snapshot layout (`BinaryStateCoding`): every engine state of the example
/// scenarios and of random books restores to the same state hash and re-encodes to the same
/// bytes; JSON snapshots of the previous format still restore; a damaged body is refused.
@Suite struct BinarySnapshotTests {
    static let scenarios = ["lender-call-cured.json", "lender-call-uncured.json", "crash-adl.json", "oracle-spike.json", "partial-liquidation.json",
                            "short-squeeze-socialized.json", "chain-reorg.json", "future-expiry.json", "loan-2022-collapse.json"]

    static func scenario(_ name: String) throws -> SolventEngine.Scenario {
        try SolventEngine.Scenario.decode(JSONParser.parse([UInt8](Data(contentsOf: binarySnapshotRoot.appendingPathComponent("Examples/scenarios/\(name)")))))
    }

    /// Round trip of `engine`'s state: the decoded state has the same state hash and equal
    /// members (bytes may differ: sets and dictionaries encode in their iteration order).
    static func checkRoundTrip(_ engine: Engine) throws {
        let bytes = try BinaryStateCoding.encode(engine.state)
        let decoded = try BinaryStateCoding.decode(EngineState.self, from: bytes)
        let original = engine.state
        #expect(Engine(restoring: decoded).stateHash() == engine.stateHash())
        #expect(decoded.accounts == original.accounts && decoded.accountIndex == original.accountIndex && decoded.orders == original.orders)
        #expect(decoded.totals == original.totals && decoded.market == original.market && decoded.markSources == original.markSources)
        #expect(decoded.indexPrices == original.indexPrices && decoded.books == original.books && decoded.breakers == original.breakers)
        #expect(decoded.backlog == original.backlog && decoded.calledAccounts == original.calledAccounts && decoded.chainDeposits == original.chainDeposits)
        #expect(decoded.chainTips == original.chainTips && decoded.orphanedDeposits == original.orphanedDeposits && decoded.payouts == original.payouts)
        #expect(decoded.pendingChanges == original.pendingChanges && decoded.replayNotice == original.replayNotice)
        #expect(decoded.time == original.time && decoded.commandsApplied == original.commandsApplied && decoded.eventSequence == original.eventSequence)
        #expect(decoded.parameterVersion == original.parameterVersion)
    }

    /// After every command of every example scenario (calls, liquidations, orders, chain
    /// deposits and reorganizations, expiries, loans, parameter changes).
    @Test func everyScenarioStateRoundTrips() throws {
        var checked = 0
        for name in Self.scenarios {
            let scenario = try Self.scenario(name)
            var engine = try scenario.makeEngine()
            try Self.checkRoundTrip(engine)
            for command in scenario.commands {
                _ = engine.apply(command)
                try Self.checkRoundTrip(engine)
                checked += 1
            }
        }
        #expect(checked > 40)
    }

    /// Random books (linear and inverse, cross and isolated, several collateral assets), 20 seeds.
    @Test func randomBooksRoundTrip() throws {
        var accounts = 0
        for seed in UInt64(1)...20 {
            let input = RandomBook.input(accounts: 30, seed: seed)
            var engine = Engine(market: input.market)
            for account in input.accounts where (try? engine.openAccount(account)) != nil { accounts += 1 }
            try Self.checkRoundTrip(engine)
            let snapshot = try Snapshot.of(engine, sequence: 1)
            #expect(snapshot.restoredEngine()?.stateHash() == engine.stateHash())
        }
        #expect(accounts > 100)
    }

    /// A snapshot body of the previous format (JSON) still restores, and the binary one is smaller.
    @Test func jsonSnapshotsStillRestore() throws {
        let scenario = try Self.scenario("crash-adl.json")
        var engine = try scenario.makeEngine()
        for command in scenario.commands { _ = engine.apply(command) }
        let json = Snapshot(sequence: 1, stateHash: engine.stateHash(), version: EngineVersion.stateFormat, body: [UInt8](try JSONEncoder().encode(engine.state)))
        #expect(!BinaryStateCoding.isBinary(json.body))
        #expect(json.restoredEngine()?.stateHash() == engine.stateHash())
        let binary = try Snapshot.of(engine, sequence: 1)
        #expect(BinaryStateCoding.isBinary(binary.body))
        #expect(binary.body.count < json.body.count)
    }

    /// Any flipped byte after the magic fails the body's checksum (or its magic): never a wrong state.
    @Test func damagedBodyIsRefused() throws {
        let scenario = try Self.scenario("partial-liquidation.json")
        var engine = try scenario.makeEngine()
        for command in scenario.commands { _ = engine.apply(command) }
        let snapshot = try Snapshot.of(engine, sequence: 1)
        var rng = SplitMix64(seed: 5)
        var refused = 0
        for _ in 0..<200 {
            var damaged = snapshot
            let k = Int.random(in: 0..<damaged.body.count, using: &rng)
            damaged.body[k] ^= UInt8.random(in: 1...255, using: &rng)
            #expect(damaged.decodedState() == nil)
            #expect(damaged.restoredEngine() == nil)
            refused += 1
        }
        #expect(refused == 200)
        var truncated = snapshot
        truncated.body.removeLast(7)
        #expect(truncated.decodedState() == nil)
    }

    struct Sample: Codable, Equatable {
        indirect enum Choice: Codable, Equatable { case none, some(Int, label: String), nested(Choice?) }
        struct Empty: Codable, Equatable {
            init() {}
            init(from decoder: any Decoder) throws {}
            func encode(to encoder: any Encoder) throws {}
        }
        var integers: [Int] = [0, 1, -1, .max, .min]
        var wide: [Int64] = [.min, .max]
        var unsigned: [UInt64] = [0, .max]
        var small: [Int8] = [-128, 127]
        var huge: Int128 = .min
        var hugeUnsigned: UInt128 = .max
        var decimals: [FixedDecimal?] = [.max, .min, nil, .zero, FixedDecimal(raw: 1)]
        var text: String? = "Grüße, \"quoted\" \n"
        var missing: String? = nil
        var flag = true
        var ratio = -0.1
        var single: Float = 3.5
        var byNumber: [Int: String] = [3: "three", -7: "minus seven"]
        var byName: [String: Int] = [:]
        var set: Set<Int> = [1, 2, 3]
        var choices: [Choice] = [.none, .some(4, label: "four"), .nested(.nested(nil)), .nested(.some(-1, label: ""))]
        var empty = Empty()
        var emptyArray: [[Int]] = [[], [1], []]
        var emptyMap: [String: [Int]] = [:]
        var total: RunningTotal = .zero
    }

    /// A value with every kind of field, and more distinct keys than the key table interns.
    @Test func genericValuesRoundTrip() throws {
        var sample = Sample()
        for k in 0..<5_000 { sample.byName["account-\(k)"] = k }
        sample.total = RunningTotal(FixedDecimal.max) + FixedDecimal.max
        let bytes = try BinaryStateCoding.encode(sample)
        let decoded = try BinaryStateCoding.decode(Sample.self, from: bytes)
        #expect(decoded == sample)
        #expect(decoded.byName.count == 5_000)
        #expect(try BinaryStateCoding.decode([Sample].self, from: BinaryStateCoding.encode([sample, Sample()])) == [sample, Sample()])
    }
}

private let binarySnapshotRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Recovery from a snapshot reads only the journal after it (`Journal.read(after:)`).
@Suite struct TailRecoveryTests {
    static func document(_ name: String) throws -> JSONValue {
        try JSONParser.parse([UInt8](Data(contentsOf: binarySnapshotRoot.appendingPathComponent("Examples/scenarios/\(name)"))))
    }

    /// SQLite: a damaged command before the snapshot is never read, so recovery reaches the
    /// final state through the snapshot and the tail; without the snapshot it stops there.
    @Test func commandsBeforeTheSnapshotAreNotRead() throws {
        let document = try Self.document("crash-adl.json")
        guard case .array(let commands)? = document["commands"] else { Issue.record("no commands"); return }
        try #require(commands.count >= 4)
        for withSnapshot in [true, false] {
            let test = try Backend.sqlite.make()
            var engine = try JournaledEngine.create(scenario: document, journal: test.open(), snapshotEvery: 0)
            for (n, command) in commands.enumerated() {
                _ = try engine.submit(command)
                if withSnapshot, n == 2 { try engine.snapshot() }  // after command 3
            }
            try test.corruptCommand(2)
            let (recovered, discarded, from) = try JournaledEngine.recover(journal: test.open())
            if withSnapshot {
                #expect(from == 3)
                #expect(discarded == 0)
                #expect(recovered.engine.stateHash() == engine.engine.stateHash())
                #expect(recovered.lastSequence == Int64(commands.count))
            } else {
                #expect(from == 0)
                #expect(recovered.engine.state.commandsApplied == 1)
                #expect(discarded == commands.count - 1)
            }
        }
    }

    /// The range read returns exactly the commands after the sequence (every cut).
    @Test func rangeReadMatchesTheWholeRead() throws {
        let document = try Self.document("short-squeeze-socialized.json")
        guard case .array(let commands)? = document["commands"] else { Issue.record("no commands"); return }
        let test = try Backend.sqlite.make()
        var engine = try JournaledEngine.create(scenario: document, journal: test.open(), snapshotEvery: 0)
        for command in commands { _ = try engine.submit(command) }
        let journal = try test.open()
        let whole = try journal.read()
        var cuts = 0
        for cut in Int64(0)...Int64(commands.count + 1) {
            let tail = try journal.read(after: cut)
            #expect(tail.entries == whole.entries.filter { $0.sequence > cut })
            #expect(tail.genesis == whole.genesis)
            cuts += 1
        }
        #expect(cuts == commands.count + 2)
    }
}
