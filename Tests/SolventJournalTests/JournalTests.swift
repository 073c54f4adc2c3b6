import Foundation
import GRDB
import SolventCore
import SolventEngine
@testable import SolventJournal
import Testing

/// The two journal backends; every journal test runs against both. PostgreSQL comes from
/// `SOLVENT_TEST_POSTGRES_URL` (scripts/test starts a throwaway cluster); under CI a
/// missing URL is a failure, never a silent skip.
enum Backend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite, postgres
    var description: String { rawValue }

    static let postgresURL = ProcessInfo.processInfo.environment["SOLVENT_TEST_POSTGRES_URL"]
    static var available: [Backend] {
        postgresURL != nil || ProcessInfo.processInfo.environment["CI"] != nil ? [.sqlite, .postgres] : [.sqlite]
    }

    /// A fresh, empty journal, a way to reopen it, and ways to damage its records.
    func make() throws -> TestJournal {
        switch self {
        case .sqlite:
            let directory = try temporaryDirectory()
            return TestJournal(
                open: { try SQLiteJournal(directory: directory) },
                corruptCommand: { sequence in
                    let queue = try DatabaseQueue(path: directory + "/journal.sqlite")
                    try queue.write { db in
                        try db.execute(sql: "UPDATE command SET body = CAST(REPLACE(CAST(body AS TEXT), 'e', 'E') AS BLOB) WHERE sequence = ?", arguments: [sequence])
                    }
                },
                forgeSnapshotHash: { sequence in
                    let queue = try DatabaseQueue(path: directory + "/journal.sqlite")
                    try queue.write { db in try db.execute(sql: "UPDATE snapshot SET state_hash = 'forged' WHERE sequence = ?", arguments: [sequence]) }
                })
        case .postgres:
            guard let url = Self.postgresURL else {
                throw JournalError("SOLVENT_TEST_POSTGRES_URL is not set: run ./scripts/test, which starts PostgreSQL")
            }
            let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            return TestJournal(
                open: { try PostgresJournal(url: url, schema: schema) },
                corruptCommand: { sequence in
                    try PostgresJournal(url: url, schema: schema).execute(
                        "UPDATE \(schema).command SET body = convert_to(replace(convert_from(body, 'UTF8'), 'e', 'E'), 'UTF8') WHERE sequence = \(sequence)")
                },
                forgeSnapshotHash: { sequence in
                    try PostgresJournal(url: url, schema: schema).execute("UPDATE \(schema).snapshot SET state_hash = 'forged' WHERE sequence = \(sequence)")
                })
        }
    }
}

struct TestJournal {
    var open: () throws -> any Journal
    var corruptCommand: (Int64) throws -> Void
    var forgeSnapshotHash: (Int64) throws -> Void
}

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "solvent-journal-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

private func scenario(_ name: String) throws -> JSONValue {
    try JSONParser.parse([UInt8](Data(contentsOf: packageRoot.appendingPathComponent("Examples/scenarios/\(name)"))))
}

private let names = ["lender-call-cured.json", "lender-call-uncured.json", "crash-adl.json", "oracle-spike.json",
                     "partial-liquidation.json", "short-squeeze-socialized.json"]

@Suite struct JournalTests {
    /// Commands come back in order with intact checksums; the genesis is stored once.
    @Test(arguments: Backend.available) func roundTrip(backend: Backend) throws {
        let journal = try backend.make().open()
        try journal.writeGenesis(Array("{}".utf8))
        #expect(throws: JournalError.self) { try journal.writeGenesis(Array("{}".utf8)) }
        let outcomes = try journal.append(batch: [("a", Array("1".utf8)), ("b", Array("2".utf8)), ("", Array("3".utf8))])
        #expect(outcomes == [.appended(sequence: 1), .appended(sequence: 2), .appended(sequence: 3)])
        let contents = try journal.read()
        #expect(contents.genesis == Array("{}".utf8))
        #expect(contents.entries.map(\.key) == ["a", "b", "seq-3"])
        #expect(contents.entries.allSatisfy { $0.isIntact })
        #expect(contents.discardedTail == 0)
    }

    /// A repeated idempotency key stores nothing and applies nothing.
    @Test(arguments: Backend.available) func idempotency(backend: Backend) throws {
        let test = try backend.make()
        var engine = try JournaledEngine.create(scenario: scenario("lender-call-cured.json"), journal: test.open())
        let deposit = try JSONParser.parse(#"{"time": "2024-01-01T00:01:00Z", "type": "deposit", "account": "borrower", "asset": "USDT", "amount": "5", "key": "dep-1"}"#)
        let first = try engine.submit(deposit)
        let again = try engine.submit(deposit)
        #expect(first.outcome == .appended(sequence: 1))
        #expect(again.outcome == .duplicate(sequence: 1))
        #expect(again.events.isEmpty)
        #expect(again.stored == first.stored && again.stored.map(\.body) == first.events.map(\.json))
        #expect(engine.engine.state.totals[0].deposited == FixedDecimal(5))
        #expect(try test.open().read().entries.count == 1)
        // Across a restart: the recovered engine still knows the key and the answer.
        var restarted = try JournaledEngine.recover(journal: test.open()).engine
        let afterRestart = try restarted.submit(deposit)
        #expect(afterRestart.outcome == .duplicate(sequence: 1))
        #expect(afterRestart.stored == again.stored)
        #expect(restarted.engine.state.totals[0].deposited == FixedDecimal(5))
    }

    /// A corrupt record ends recovery at the last complete command before it.
    @Test(arguments: Backend.available) func corruptTailIsDetected(backend: Backend) throws {
        let test = try backend.make()
        var engine = try JournaledEngine.create(scenario: scenario("crash-adl.json"), journal: test.open(), snapshotEvery: 0)
        var hashes: [String] = [engine.engine.stateHash()]
        guard case .array(let commands)? = try scenario("crash-adl.json")["commands"] else { Issue.record("no commands"); return }
        for command in commands {
            _ = try engine.submit(command)
            hashes.append(engine.engine.stateHash())
        }
        // Alter the third command's body, as a torn write or a bit flip would.
        try test.corruptCommand(3)
        let (recovered, discarded, _) = try JournaledEngine.recover(journal: test.open())
        #expect(discarded == commands.count - 2)
        #expect(recovered.engine.stateHash() == hashes[2])
        #expect(recovered.engine.state.commandsApplied == 2)
    }

    /// Recovery from the journal gives the state hash of the original run, for every
    /// prefix of every example scenario.
    @Test(arguments: Backend.available, names)
    func replayEqualsOriginal(backend: Backend, name: String) throws {
        let test = try backend.make()
        let document = try scenario(name)
        // A snapshot every 2 commands: odd prefixes recover from a snapshot plus one command.
        var engine = try JournaledEngine.create(scenario: document, journal: test.open(), snapshotEvery: 2)
        var hashes: [String] = [engine.engine.stateHash()]
        guard case .array(let commands)? = document["commands"] else { Issue.record("no commands"); return }
        for command in commands {
            _ = try engine.submit(command)
            hashes.append(engine.engine.stateHash())
        }
        for k in 0...commands.count {
            let (recovered, discarded, from) = try JournaledEngine.recover(journal: test.open(), limit: k)
            #expect(discarded == 0)
            #expect(from == Int64(k - k % 2))
            #expect(recovered.engine.stateHash() == hashes[k], "\(name) prefix \(k)")
        }
        // And the plain simulation (no journal) agrees.
        var plain = try Scenario.decode(document).makeEngine()
        for command in try Scenario.decode(document).commands { _ = plain.apply(command) }
        #expect(plain.stateHash() == hashes.last)
    }
}

@Suite struct SnapshotTests {
    /// A damaged snapshot is skipped: recovery falls back to an older one (or genesis)
    /// and still reaches the same state.
    @Test(arguments: Backend.available) func damagedSnapshotFallsBack(backend: Backend) throws {
        let test = try backend.make()
        let document = try scenario("short-squeeze-socialized.json")
        var engine = try JournaledEngine.create(scenario: document, journal: test.open(), snapshotEvery: 2)
        guard case .array(let commands)? = document["commands"] else { Issue.record("no commands"); return }
        for command in commands { _ = try engine.submit(command) }
        try test.forgeSnapshotHash(4)
        let (recovered, _, from) = try JournaledEngine.recover(journal: test.open())
        #expect(from == 2)
        #expect(recovered.engine.stateHash() == engine.engine.stateHash())
    }

    /// A snapshot whose body was altered but whose checksum was recomputed still fails the
    /// state-hash check and is not used.
    @Test(arguments: Backend.available) func forgedBodyIsRejectedByStateHash(backend: Backend) throws {
        let test = try backend.make()
        let document = try scenario("crash-adl.json")
        var engine = try JournaledEngine.create(scenario: document, journal: test.open(), snapshotEvery: 0)
        guard case .array(let commands)? = document["commands"] else { Issue.record("no commands"); return }
        for command in commands { _ = try engine.submit(command) }
        try engine.snapshot()
        let journal = try test.open()
        var snapshot = try #require(try journal.snapshots().first)
        var state = try #require(snapshot.decodedState())  // the binary layout (its own CRC recomputed below)
        state.totals[0].fees += FixedDecimal(1)  // money out of nowhere
        snapshot.body = try BinaryStateCoding.encode(state)
        try journal.writeSnapshot(snapshot)
        let (recovered, _, from) = try JournaledEngine.recover(journal: journal)
        #expect(from == 0)
        #expect(recovered.engine.stateHash() == engine.engine.stateHash())
    }
}

@Suite struct ReorganizationTests {
    /// A reorganization rolls back to before the orphaned deposit and replays without it:
    /// the account ends exactly as if the deposit had never been made (liquidated here),
    /// the events say what changed, and a SQLite journal with snapshots recovers the same state.
    @Test(arguments: Backend.available) func rollbackAndReplay(backend: Backend) throws {
        let document = try scenario("chain-reorg.json")
        guard case .array(let commands)? = document["commands"] else { Issue.record("no commands"); return }
        let test = try backend.make()
        var engine = try JournaledEngine.create(scenario: document, journal: test.open(), snapshotEvery: 1)
        var events: [EngineEvent] = []
        for command in commands { events += try engine.submit(command).events }
        #expect(events.contains { $0.kind == .chainReorganized && $0["rolled_back"] == .flag(true) })
        let restated = try #require(events.first { $0.kind == .marginRestated })
        #expect(restated.decimal("equity_before") == FixedDecimal(5200))
        #expect(restated.decimal("equity_after") == FixedDecimal(200))
        #expect(events.contains { $0.kind == .liquidationFill })
        #expect(engine.engine.state.accounts[0].account.positions.isEmpty)
        // The same history without the deposit at all.
        guard case .object(var members) = document else { return }
        members = members.map { member in
            guard member.key == "commands" else { return member }
            return (key: "commands", value: .array(Array(commands.dropFirst().dropLast())))
        }
        var plain = try JournaledEngine.create(scenario: .object(members), journal: MemoryJournal())
        if case .array(let rest)? = JSONValue.object(members)["commands"] { for command in rest { _ = try plain.submit(command) } }
        _ = try plain.submit(.object([(key: "time", value: .number(String(engine.engine.state.time))), (key: "type", value: .string("tick"))]))
        #expect(plain.engine.state.accounts[0].account == engine.engine.state.accounts[0].account)
        // Recovery from the journal (snapshots from before and after the fork) gives the same hash.
        let (recovered, _, _) = try JournaledEngine.recover(journal: test.open())
        #expect(recovered.engine.stateHash() == engine.engine.stateHash())
    }
}

@Suite struct CrossBackendTests {
    /// SQLite and PostgreSQL journals of the same commands recover to the same state hash.
    @Test(.enabled(if: Backend.available.contains(.postgres))) func sameHashOnBothBackends() throws {
        var hashes: [String] = []
        for backend in [Backend.sqlite, .postgres] {
            let test = try backend.make()
            var engine = try JournaledEngine.create(scenario: scenario("short-squeeze-socialized.json"), journal: test.open(), snapshotEvery: 3)
            guard case .array(let commands)? = try scenario("short-squeeze-socialized.json")["commands"], !commands.isEmpty else {
                Issue.record("the scenario has no commands: nothing to compare")
                return
            }
            for command in commands { _ = try engine.submit(command) }
            hashes.append(try JournaledEngine.recover(journal: test.open()).engine.engine.stateHash())
        }
        #expect(hashes.count == 2 && hashes[0] == hashes[1])
    }
}

@Suite struct GroupCommitTests {
    /// A batch is journaled in one transaction and gives the same state as one-by-one submission;
    /// a malformed command in a batch journals nothing.
    @Test(arguments: Backend.available) func batchEqualsOneByOne(backend: Backend) throws {
        let document = try scenario("crash-adl.json")
        guard case .array(let commands)? = document["commands"] else { Issue.record("no commands"); return }
        let test = try backend.make()
        var batched = try JournaledEngine.create(scenario: document, journal: test.open())
        var single = try JournaledEngine.create(scenario: document, journal: MemoryJournal())
        let bad = commands + [try JSONParser.parse(#"{"type": "deposit", "account": "l1"}"#)]
        #expect(throws: InputError.self) { try batched.submit(batch: bad) }
        #expect(try test.open().read().entries.isEmpty)
        let submissions = try batched.submit(batch: commands)
        for command in commands { _ = try single.submit(command) }
        #expect(submissions.count == commands.count)
        #expect(batched.engine.stateHash() == single.engine.stateHash())
        #expect(try JournaledEngine.recover(journal: test.open()).engine.engine.stateHash() == single.engine.stateHash())
    }
}

@Suite struct ResultRepairTests {
    /// The previous format stored results in a second transaction: a crash between the two
    /// left commands without events. Recovery recomputes the missing events, byte for byte.
    @Test func missingResultsAreRecomputed() throws {
        let directory = try temporaryDirectory()
        let document = try scenario("crash-adl.json")
        guard case .array(let commands)? = document["commands"] else { Issue.record("no commands"); return }
        var engine = try JournaledEngine.create(scenario: document, journal: SQLiteJournal(directory: directory), snapshotEvery: 0)
        _ = try engine.submit(batch: commands)
        let journal = try SQLiteJournal(directory: directory)
        let originals = try journal.events(EventQuery(limit: 100_000))
        #expect(originals.count > commands.count)
        let queue = try DatabaseQueue(path: directory + "/journal.sqlite")
        try queue.write { db in
            try db.execute(sql: "DELETE FROM result WHERE sequence > 1")
            try db.execute(sql: "DELETE FROM event WHERE command > 1")
        }
        #expect(try journal.lastEventCommand() == 1)
        _ = try JournaledEngine.recover(journal: journal)
        #expect(try journal.lastEventCommand() == Int64(commands.count))
        #expect(try journal.events(EventQuery(limit: 100_000)) == originals)
    }
}
