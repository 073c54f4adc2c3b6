import Foundation
import SolventCore
import SolventEngine
@testable import SolventJournal
import Testing

/// End to end through the multi-row chunks (SQLiteChunkWriter, issue 18): an example scenario
/// journaled in batches of 100 commands (two whole chunks per batch, with their events) recovers
/// to the state hash of the plain run, and every command's stored events equal those of the same
/// commands journaled one at a time (the row-by-row path).
@Suite struct ChunkedJournalReplayTests {
    @Test func batchedJournalRecoversAndStoresTheSameEvents() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Examples/scenarios/loan-multi-collateral.json")
        let document = try JSONParser.parse([UInt8](Data(contentsOf: url)))
        guard case .array(let all)? = document["commands"] else { Issue.record("no commands"); return }
        let commands = Array(all.prefix(400))
        let batched = NSTemporaryDirectory() + "solvent-chunked-\(UUID().uuidString)"
        let single = NSTemporaryDirectory() + "solvent-single-\(UUID().uuidString)"
        defer { for d in [batched, single] { try? FileManager.default.removeItem(atPath: d) } }
        for d in [batched, single] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }

        var a = try JournaledEngine.create(scenario: document, sqliteDirectory: batched, snapshotEvery: 0)
        var start = 0
        while start < commands.count {
            _ = try a.submit(batch: Array(commands[start..<min(start + 100, commands.count)]))
            start += 100
        }
        var b = try JournaledEngine.create(scenario: document, sqliteDirectory: single, snapshotEvery: 0)
        for command in commands { _ = try b.submit(command) }

        var plain = try Scenario.decode(document).makeEngine()
        for command in try Scenario.decode(document).commands.prefix(400) { _ = plain.apply(command) }
        #expect(a.engine.stateHash() == plain.stateHash() && b.engine.stateHash() == plain.stateHash())

        let recovered = try JournaledEngine.recover(journal: SQLiteJournal(directory: batched, create: false))
        #expect(recovered.discardedTail == 0)
        #expect(recovered.engine.engine.stateHash() == plain.stateHash())
        let left = try SQLiteJournal(directory: batched, create: false), right = try SQLiteJournal(directory: single, create: false)
        let contents = try left.read()
        #expect(contents.entries == (try right.read()).entries)
        var events = 0
        for entry in contents.entries {
            let stored = try left.events(command: entry.sequence)
            #expect(stored == (try right.events(command: entry.sequence)), "command \(entry.sequence)")
            events += stored.count
        }
        #expect(contents.entries.count == 400 && events > 0)
    }
}
