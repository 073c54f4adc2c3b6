import SolventCore
import SolventEngine
import SolventJournal
import Testing

/// The option state added for issue 17 (vol surface slices, postponed settlements, the scenario's
/// portfolio policy) through the binary snapshot: the restored engine has the same state and hash.
@Suite struct OptionStateSnapshotTests {
    @Test func surfacesPendingSettlementsAndPolicySurviveTheBinarySnapshot() throws {
        let brackets = #"[{"notional_floor": "0", "notional_cap": "1000000000", "max_leverage": "50", "mmr": "0.01"}]"#
        let text = """
        {"start": {"time": "2024-03-01T08:00:00Z", "valuation_time": "2024-03-01T08:00:00Z", "portfolio_policy": {"price_range": "0.25"},
          "policy": {"warning_ratio": "0.70", "call_ratio": "0.85", "restore_ratio": "0.70"},
          "assets": {"USDT": "1", "BTC": "50000"}, "haircuts": {},
          "instruments": [
            {"symbol": "BTCUSDT", "kind": "linear_perpetual", "base": "BTC", "settle": "USDT", "contract_size": "1", "brackets": \(brackets)},
            {"symbol": "BTC-60000-C", "kind": "option", "right": "call", "strike": "60000", "expiry": "2024-03-31T08:00:00Z", "underlying": "BTCUSDT",
             "base": "BTC", "settle": "USDT", "contract_size": "1", "brackets": \(brackets)}],
          "marks": {"BTCUSDT": "50000", "BTC-60000-C": "1000"}, "implied_vols": {"BTC-60000-C": "0.60"},
          "accounts": [{"id": "p", "mode": "portfolio", "settle": "USDT", "collateral": {"USDT": "100000"},
                        "positions": [{"symbol": "BTC-60000-C", "quantity": "-5", "entry_price": "1000"}]}]},
         "commands": []}
        """
        var engine = try Scenario.decode(JSONParser.parse([UInt8](text.utf8))).makeEngine()
        let t1: Int64 = 1_709_280_060_000
        _ = engine.apply(TimedCommand(time: t1, command: .volSurface(underlying: "BTCUSDT", expiry: 1_711_872_000_000,
                                                                     strikes: [FixedDecimal("55000")!, FixedDecimal("65000")!],
                                                                     vols: [FixedDecimal("0.6")!, FixedDecimal("0.7")!], sourceTime: t1)))
        var state = engine.state
        var o = try #require(state.optionMarks)
        #expect(o.surfaces?.count == 1 && o.portfolioPolicy != nil)
        o.pendingSettlements = [1]
        state.optionMarks = o
        let before = Engine(restoring: state)
        let snapshot = try Snapshot.of(before, sequence: 7)
        let restored = try #require(snapshot.restoredEngine())
        #expect(restored.state.optionMarks == before.state.optionMarks && restored.state.market == before.state.market)
        #expect(restored.stateHash() == before.stateHash())
        #expect(restored.state.optionMarks?.pendingSettlements == [1])
    }
}
