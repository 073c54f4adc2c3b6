import SolventCore
import SolventEngine
import SolventJournal
import Testing

/// The stale-option-mark state (`OptionMarkState.quotedForwards`, `modelMarked`;
/// Engine+StaleOptionMarks.swift) survives the binary snapshot (SOLVBIN1) and the restored engine
/// continues the same way.
@Suite struct StaleOptionMarkSnapshotTests {
    @Test func quotedForwardsAndModelMarksSurviveTheBinarySnapshot() throws {
        let brackets = #"[{"notional_floor": "0", "notional_cap": "1000000000", "max_leverage": "50", "mmr": "0.01"}]"#
        let text = """
        {"start": {"time": "2024-03-01T08:00:00Z", "valuation_time": "2024-03-01T08:00:00Z",
          "policy": {"warning_ratio": "0.70", "call_ratio": "0.85", "restore_ratio": "0.70"},
          "assets": {"USDT": "1", "BTC": "50000"}, "haircuts": {},
          "instruments": [
            {"symbol": "BTCUSDT", "kind": "linear_perpetual", "base": "BTC", "settle": "USDT", "contract_size": "1", "brackets": \(brackets)},
            {"symbol": "BTC-60000-C", "kind": "option", "right": "call", "strike": "60000", "expiry": "2024-03-31T08:00:00Z", "underlying": "BTCUSDT",
             "base": "BTC", "settle": "USDT", "contract_size": "1", "brackets": \(brackets)},
            {"symbol": "BTC-40000-P", "kind": "option", "right": "put", "strike": "40000", "expiry": "2024-03-31T08:00:00Z", "underlying": "BTCUSDT",
             "base": "BTC", "settle": "USDT", "contract_size": "1", "brackets": \(brackets)}],
          "marks": {"BTCUSDT": "50000", "BTC-60000-C": "1000", "BTC-40000-P": "500"},
          "implied_vols": {"BTC-60000-C": "0.60", "BTC-40000-P": "0.70"},
          "accounts": [{"id": "p", "mode": "portfolio", "settle": "USDT", "collateral": {"USDT": "100000"},
                        "positions": [{"symbol": "BTC-60000-C", "quantity": "-5", "entry_price": "1000"}]}]},
         "commands": []}
        """
        var engine = try Scenario.decode(JSONParser.parse([UInt8](text.utf8))).makeEngine()
        let t1: Int64 = 1_709_280_060_000
        _ = engine.apply(TimedCommand(time: t1, command: .markPrice(symbol: "BTCUSDT", price: FixedDecimal("50200")!, sourceTime: t1)))
        _ = engine.apply(TimedCommand(time: t1 + 1, command: .optionMark(symbol: "BTC-40000-P", price: FixedDecimal("480")!,
                                                                         impliedVol: FixedDecimal("0.7")!, sourceTime: t1 + 1)))
        _ = engine.apply(TimedCommand(time: t1 + 2, command: .markPrice(symbol: "BTCUSDT", price: FixedDecimal("50900")!, sourceTime: t1 + 2)))
        // At 50,900 the call (quoted at 50,000: 1.8 %) and the put (fed at 50,200: 1.39 %) are stale; a fresh
        // put mark quotes it at 50,900, and a drift to 51,150 (0.49 %) leaves it fed, remembering 50,900.
        _ = engine.apply(TimedCommand(time: t1 + 3, command: .optionMark(symbol: "BTC-40000-P", price: FixedDecimal("470")!,
                                                                         impliedVol: FixedDecimal("0.7")!, sourceTime: t1 + 3)))
        _ = engine.apply(TimedCommand(time: t1 + 4, command: .markPrice(symbol: "BTCUSDT", price: FixedDecimal("51150")!, sourceTime: t1 + 4)))
        let o = try #require(engine.state.optionMarks)
        #expect(o.modelMarked == [1])
        #expect(o.quotedForwards == [2: FixedDecimal("50900")!])
        let snapshot = try Snapshot.of(engine, sequence: 9)
        var restored = try #require(snapshot.restoredEngine())
        #expect(restored.state.optionMarks == engine.state.optionMarks)
        #expect(restored.stateHash() == engine.stateHash())
        let next = TimedCommand(time: t1 + 5, command: .markPrice(symbol: "BTCUSDT", price: FixedDecimal("51500")!, sourceTime: t1 + 5))
        #expect(restored.apply(next).map(\.json) == engine.apply(next).map(\.json))
        #expect(restored.stateHash() == engine.stateHash())
        #expect(engine.state.optionMarks?.modelMarked == [1, 2])  // the put: 51,500 is 1.18 % from 50,900
    }
}
