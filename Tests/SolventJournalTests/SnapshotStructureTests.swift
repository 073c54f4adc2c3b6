import SolventCore
import SolventEngine
import SolventRisk
@testable import SolventJournal
import SolventTestSupport
import Testing

/// A snapshot body with a valid checksum but a broken cross-reference (an instrument or asset
/// index out of its array, invalid parameters) is refused by `Snapshot.decodedState` — before
/// `Engine(restoring:)` would evaluate the accounts and trap — and the intact body still
/// restores to its state hash (so recovery falls back to an older snapshot or the journal).
@Suite struct SnapshotStructureTests {
    @Test func brokenReferencesAreRefusedNotTrapped() throws {
        var refused = 0, restored = 0
        for seed in UInt64(1)...4 {
            let input = RandomBook.input(accounts: 12, seed: seed)
            var engine = Engine(market: input.market)
            for account in input.accounts { _ = try? engine.openAccount(account) }
            let state = engine.state
            let instruments = state.market.instruments.count, assets = state.market.assets.count
            #expect(state.structuralProblem() == nil)
            let intact = try Snapshot.of(engine, sequence: 1)
            #expect(intact.restoredEngine()?.stateHash() == engine.stateHash())
            restored += 1

            guard let a = state.accounts.firstIndex(where: { !$0.account.positions.isEmpty && !$0.account.collateral.isEmpty }) else { continue }
            var variants: [(String, EngineState)] = []
            var v = state; v.accounts[a].account.positions[0].instrument = instruments; variants.append(("positions[0].instrument", v))
            v = state; v.accounts[a].account.positions[0].instrument = -1; variants.append(("positions[0].instrument", v))
            v = state; v.accounts[a].account.collateral[0].asset = assets + 3; variants.append(("collateral[0].asset", v))
            v = state; v.accounts[a].account.settle = assets; variants.append(("settle", v))
            v = state; v.accounts[a].isolated.insert(instruments + 1); variants.append(("isolated", v))
            v = state; v.accounts[a].leverage[instruments + 7] = FixedDecimal(10); variants.append(("leverage", v))
            v = state; v.backlog.insert(state.accounts.count); variants.append(("backlog", v))
            v = state; v.calledAccounts.insert(-5); variants.append(("called_accounts", v))
            v = state; v.breakers.removeLast(); variants.append(("breakers", v))
            v = state; v.totals.append(state.totals[0]); variants.append(("totals", v))
            v = state; v.parameters.liquidationFeeRate = FixedDecimal(2); variants.append(("parameters.liquidation_fee_rate", v))
            for (field, variant) in variants {
                let problem = variant.structuralProblem()
                #expect(problem?.contains(field) == true, "\(field): \(problem ?? "nil")")
                let body = try BinaryStateCoding.encode(variant)
                let snapshot = Snapshot(sequence: 1, stateHash: intact.stateHash, version: EngineVersion.stateFormat, body: body)
                #expect(snapshot.decodedState() == nil, "\(field)")
                #expect(snapshot.restoredEngine() == nil, "\(field)")
                refused += 1
            }
        }
        #expect(restored == 4 && refused >= 33)
    }
}
