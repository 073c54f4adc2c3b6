import Foundation
import SolventCore
import SolventEngine
@testable import SolventJournal
import Testing

/// Snapshots with loans (docs/loans.md, "State, hash, snapshot"): a state with lending terms,
/// loans with accrued interest and the pool's books restores, from the binary layout and from
/// JSON, to the same state hash and the same lending state, and continues identically.
@Suite struct LendingSnapshotTests {
    @Test(arguments: ["loan-2022-collapse-interest.json", "loan-multi-collateral.json"])
    func lendingStatesRoundTrip(name: String) throws {
        let scenario = try SolventEngine.Scenario.decode(JSONParser.parse([UInt8](Data(contentsOf: lendingSnapshotRoot.appendingPathComponent("Examples/scenarios/\(name)")))))
        var engine = try scenario.makeEngine()
        var checked = 0
        for (n, command) in scenario.commands.enumerated() {
            _ = engine.apply(command)
            guard n % 97 == 1 else { continue }
            let binary = try BinaryStateCoding.decode(EngineState.self, from: BinaryStateCoding.encode(engine.state))
            let json = try JSONDecoder().decode(EngineState.self, from: JSONEncoder().encode(engine.state))
            for state in [binary, json] {
                #expect(state.lendingStorage == engine.state.lendingStorage)
                var restored = Engine(restoring: state)
                #expect(restored.stateHash() == engine.stateHash())
                // The next commands give the same events (interest charged on the same hours).
                var copy = engine
                for next in scenario.commands.dropFirst(n + 1).prefix(30) {
                    #expect(restored.apply(next).map(\.json) == copy.apply(next).map(\.json))
                }
                #expect(restored.stateHash() == copy.stateHash())
            }
            #expect(engine.state.lending.loans.isEmpty == false)
            checked += 1
        }
        #expect(checked > 5)
    }
}
private let lendingSnapshotRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
