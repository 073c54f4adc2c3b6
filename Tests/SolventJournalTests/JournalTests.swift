import Foundation
import GRDB
import SolventCore
import SolventEngine
import SolventJournal
import Testing

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func temporaryDirectory() throws -> String {
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
    @Test func roundTrip() throws {
        let journal = try SQLiteJournal(directory: try temporaryDirectory())
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
    @Test func idempotency() throws {
        let directory = try temporaryDirectory()
        var engine = try JournaledEngine.create(scenario: scenario("lender-call-cured.json"), journal: SQLiteJournal(directory: directory))
        let deposit = try JSONParser.parse(#"{"time": "2024-01-01T00:01:00Z", "type": "deposit", "account": "borrower", "asset": "USDT", "amount": "5", "key": "dep-1"}"#)
        let first = try engine.submit(deposit)
        let again = try engine.submit(deposit)
        #expect(first.outcome == .appended(sequence: 1))
        #expect(again.outcome == .duplicate(sequence: 1))
        #expect(again.events.isEmpty)
        #expect(engine.engine.state.totals[0].deposited == FixedDecimal(5))
        #expect(try SQLiteJournal(directory: directory).read().entries.count == 1)
    }

    /// A corrupt record ends recovery at the last complete command before it.
    @Test func corruptTailIsDetected() throws {
        let directory = try temporaryDirectory()
        var engine = try JournaledEngine.create(scenario: scenario("crash-adl.json"), journal: SQLiteJournal(directory: directory))
        var hashes: [String] = [engine.engine.stateHash()]
        guard case .array(let commands)? = try scenario("crash-adl.json")["commands"] else { Issue.record("no commands"); return }
        for command in commands {
            _ = try engine.submit(command)
            hashes.append(engine.engine.stateHash())
        }
        // Flip one byte of the third command's body, as a torn write would.
        let queue = try DatabaseQueue(path: directory + "/journal.sqlite")
        try queue.write { db in try db.execute(sql: "UPDATE command SET body = CAST(REPLACE(CAST(body AS TEXT), 'index', 'indey') AS BLOB) WHERE sequence = 3") }
        let (recovered, discarded, _) = try JournaledEngine.recover(journal: SQLiteJournal(directory: directory))
        #expect(discarded == commands.count - 2)
        #expect(recovered.engine.stateHash() == hashes[2])
        #expect(recovered.engine.state.commandsApplied == 2)
    }

    /// Recovery from the journal gives the state hash of the original run, for every
    /// prefix of every example scenario.
    @Test(arguments: names)
    func replayEqualsOriginal(name: String) throws {
        let directory = try temporaryDirectory()
        let document = try scenario(name)
        // A snapshot every 2 commands: odd prefixes recover from a snapshot plus one command.
        var engine = try JournaledEngine.create(scenario: document, journal: SQLiteJournal(directory: directory), snapshotEvery: 2)
        var hashes: [String] = [engine.engine.stateHash()]
        guard case .array(let commands)? = document["commands"] else { Issue.record("no commands"); return }
        for command in commands {
            _ = try engine.submit(command)
            hashes.append(engine.engine.stateHash())
        }
        for k in 0...commands.count {
            let (recovered, discarded, from) = try JournaledEngine.recover(journal: SQLiteJournal(directory: directory), limit: k)
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
    @Test func damagedSnapshotFallsBack() throws {
        let directory = try temporaryDirectory()
        let document = try scenario("short-squeeze-socialized.json")
        var engine = try JournaledEngine.create(scenario: document, journal: SQLiteJournal(directory: directory), snapshotEvery: 2)
        guard case .array(let commands)? = document["commands"] else { Issue.record("no commands"); return }
        for command in commands { _ = try engine.submit(command) }
        let queue = try DatabaseQueue(path: directory + "/journal.sqlite")
        try queue.write { db in try db.execute(sql: "UPDATE snapshot SET state_hash = 'forged' WHERE sequence = 4") }
        let (recovered, _, from) = try JournaledEngine.recover(journal: SQLiteJournal(directory: directory))
        #expect(from == 2)
        #expect(recovered.engine.stateHash() == engine.engine.stateHash())
    }

    /// A snapshot whose body was altered but whose checksum was recomputed still fails the
    /// state-hash check and is not used.
    @Test func forgedBodyIsRejectedByStateHash() throws {
        let directory = try temporaryDirectory()
        let document = try scenario("crash-adl.json")
        var engine = try JournaledEngine.create(scenario: document, journal: SQLiteJournal(directory: directory), snapshotEvery: 0)
        guard case .array(let commands)? = document["commands"] else { Issue.record("no commands"); return }
        for command in commands { _ = try engine.submit(command) }
        try engine.snapshot()
        let journal = try SQLiteJournal(directory: directory)
        var snapshot = try #require(try journal.snapshots().first)
        var state = try JSONDecoder().decode(EngineState.self, from: Data(snapshot.body))
        state.totals[0].fees += FixedDecimal(1)  // money out of nowhere
        snapshot.body = [UInt8](try JSONEncoder().encode(state))
        try journal.writeSnapshot(snapshot)
        let (recovered, _, from) = try JournaledEngine.recover(journal: journal)
        #expect(from == 0)
        #expect(recovered.engine.stateHash() == engine.engine.stateHash())
    }
}
