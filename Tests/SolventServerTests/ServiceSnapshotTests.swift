import Foundation
import SolventCore
import SolventEngine
import SolventJournal
import SolventServer
import Testing

@Suite struct ServiceSnapshotTests {
    /// Snapshots are written in the background every N commands, from a copy of the engine as
    /// it was after that command: recovering from one gives the same state as replaying all.
    @Test func backgroundSnapshotsRecoverTheSameState() async throws {
        let journal = MemoryJournal()
        let journaled = try JournaledEngine.create(scenario: try JSONParser.parse(genesis), journal: journal)
        let service = EngineService(journaled: journaled, snapshotEvery: 10)
        for k in 0..<35 {
            _ = try await service.submit(try JSONParser.parse(#"{"type":"deposit","account":"a\#(k % 7)","asset":"USDT","amount":"\#(k + 1)"}"#), key: "k\(k)")
            if k % 5 == 0 { try await Task.sleep(for: .milliseconds(5)) }  // let a background snapshot finish now and then
        }
        try await service.snapshot()  // waits for one in flight, then the final one
        let snapshots = try journal.snapshots()
        #expect(snapshots.contains { $0.sequence == 35 }, "the shutdown snapshot")
        #expect(snapshots.contains { $0.sequence >= 10 && $0.sequence < 35 }, "at least one background snapshot")
        #expect(await service.snapshotFailures == 0)
        // Every snapshot is the state after its command: a recovery limited to that command from
        // scratch (no snapshot) has the same hash.
        let full = try JournaledEngine.recover(journal: journal).engine.engine.stateHash()
        for snapshot in snapshots {
            let fresh = MemoryJournal()
            try fresh.writeGenesis(try journal.read().genesis!)
            _ = try fresh.append(batch: try journal.read().entries.prefix(Int(snapshot.sequence)).map { ($0.key, $0.body) })
            let replayed = try JournaledEngine.recover(journal: fresh).engine.engine.stateHash()
            #expect(snapshot.stateHash == replayed, "snapshot at \(snapshot.sequence)")
        }
        #expect(snapshots.first { $0.sequence == 35 }?.stateHash == full)
    }
}
