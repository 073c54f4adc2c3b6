import SolventCore
import SolventEngine
import SolventRisk
@testable import SolventJournal
import SolventTestSupport
import Testing

/// `Snapshot.indexMatchesAccounts` (one pass over the index, no lookups) decides as the lookup
/// per account it replaced: `count == accounts.count` and `accountIndex[accounts[a].id] == a`
/// for every account — on the intact index and on every damaged one tried (a swapped pair, a
/// position off by one or out of range, a key renamed, dropped or added, a repeated account id).
@Suite struct SnapshotIndexCheckTests {
    static func byLookup(_ s: EngineState) -> Bool {
        s.accountIndex.count == s.accounts.count && s.accounts.indices.allSatisfy { s.accountIndex[s.accounts[$0].id] == $0 }
    }

    @Test func decidesAsTheLookup() throws {
        var checked = 0, refused = 0
        for seed in UInt64(1)...6 {
            let input = RandomBook.input(accounts: 20, seed: seed)
            var engine = Engine(market: input.market)
            for account in input.accounts { _ = try? engine.openAccount(account) }
            let state = engine.state
            #expect(state.accounts.count > 2)
            var variants: [EngineState] = [state]
            let ids = state.accounts.map(\.id)
            var v = state
            v.accountIndex[ids[0]] = 1; v.accountIndex[ids[1]] = 0; variants.append(v)  // swapped
            v = state; v.accountIndex[ids[2]] = 3; variants.append(v)  // off by one
            v = state; v.accountIndex[ids[2]] = state.accounts.count; variants.append(v)  // out of range
            v = state; v.accountIndex[ids[2]] = -1; variants.append(v)
            v = state; v.accountIndex[ids[2]] = nil; v.accountIndex[ids[2] + "x"] = 2; variants.append(v)  // renamed
            v = state; v.accountIndex[ids[2]] = nil; variants.append(v)  // dropped
            v = state; v.accountIndex["extra"] = 0; variants.append(v)  // added
            v = state; v.accounts.append(state.accounts[0]); v.accountIndex["extra"] = state.accounts.count; variants.append(v)  // repeated id
            v = state; v.accounts.append(state.accounts[0]); variants.append(v)
            for variant in variants {
                let expected = Self.byLookup(variant)
                #expect(Snapshot.indexMatchesAccounts(variant) == expected)
                checked += 1
                if !expected { refused += 1 }
            }
        }
        #expect(checked == 60 && refused == 54)
    }
}
