import Foundation
import SolventCore
import SolventEngine
@testable import SolventJournal
import Testing

/// Account ids and order ids that parse as integers without being an integer's own text
/// ("007", "00", "-0") survive a binary snapshot: `Dictionary<String, _>` hands the coder keys
/// whose `intValue` is `Int(key)`, and writing those as integers read "007" back as "7" — the
/// account index then sent "007"'s commands nowhere (a restored engine accepted it: the index is
/// not in the state hash), and an order "007" changed the hash, so the snapshot was refused.
@Suite struct NumericLookingKeySnapshotTests {
    static let ids = ["007", "7", "00", "0", "-0", "-7", "x7"]

    static func engine() throws -> Engine {
        let scenario = try BinarySnapshotTests.scenario("partial-liquidation.json")
        var engine = try scenario.makeEngine()
        let settle = engine.state.market.assets[engine.state.accounts[0].account.settle].symbol
        let symbol = engine.state.market.instruments[0].symbol
        let mark = try #require(engine.state.market.marks[0])
        let t = engine.state.time
        for (k, id) in ids.enumerated() {
            let opened = engine.apply(TimedCommand(time: t + Int64(k), command: .deposit(account: id, asset: settle, amount: FixedDecimal(1_000_000), settle: nil)))
            #expect(!opened.contains { $0.kind == .rejected }, "\(id): \(opened.map(\.json))")
        }
        // Orders with the same numeric-looking ids, resting far from the mark (never filled).
        for (k, id) in ids.enumerated() {
            let placed = engine.apply(TimedCommand(time: t + 100 + Int64(k), command: .placeOrder(id: id, account: "x7", symbol: symbol, quantity: FixedDecimal(1),
                                                                                                 price: (mark / FixedDecimal(2)), reduceOnly: false)))
            #expect(!placed.contains { $0.kind == .rejected }, "order \(id): \(placed.map(\.json))")
        }
        return engine
    }

    @Test func idsSurviveABinarySnapshot() throws {
        let engine = try Self.engine()
        let snapshot = try Snapshot.of(engine, sequence: 1)
        let decoded = try #require(snapshot.decodedState())
        #expect(decoded.accountIndex == engine.state.accountIndex)
        #expect(Set(decoded.orders.keys) == Set(engine.state.orders.keys))
        for id in Self.ids { #expect(decoded.accountIndex[id] != nil, "account \(id) is found after restore") }
        let restoredEngine = snapshot.restoredEngine()
        let restored = try #require(restoredEngine, "the restored state hashes as the original")
        #expect(restored.stateHash() == engine.stateHash())
        #expect(restored.state.accounts.count == engine.state.accounts.count)
        // The restored engine sends "007"'s deposit to "007", not to "7" nor to a new account.
        var after = restored
        let settle = engine.state.market.assets[engine.state.accounts[0].account.settle].symbol
        _ = after.apply(TimedCommand(time: engine.state.time + 1, command: .deposit(account: "007", asset: settle, amount: FixedDecimal(1), settle: nil)))
        #expect(after.state.accounts.count == engine.state.accounts.count)
        var reference = engine
        _ = reference.apply(TimedCommand(time: engine.state.time + 1, command: .deposit(account: "007", asset: settle, amount: FixedDecimal(1), settle: nil)))
        #expect(after.stateHash() == reference.stateHash())
    }

    /// A body written before the fix (every integer-parsing key written as an integer): the
    /// account index read back from it is checked against the accounts' ids and rebuilt.
    @Test func lossyIndexOfAnOlderBodyIsRebuilt() throws {
        let engine = try Self.engine()
        var lossy = engine.state
        lossy.accountIndex = Dictionary(lossy.accountIndex.map { (Int($0.key).map { String($0) } ?? $0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(lossy.accountIndex["007"] == nil, "the older coder's view: \"007\" read back as \"7\"")
        let body = try BinaryStateCoding.encode(lossy)
        let snapshot = Snapshot(sequence: 1, stateHash: engine.stateHash(), version: EngineVersion.stateFormat, body: body)
        let decoded = try #require(snapshot.decodedState())
        #expect(decoded.accountIndex == engine.state.accountIndex)
    }
}
