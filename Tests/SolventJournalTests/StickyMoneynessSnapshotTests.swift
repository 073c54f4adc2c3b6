import SolventCore
import SolventEngine
import SolventJournal
import Testing

/// A sticky-moneyness slice's recorded forward (`VolSurfaceQuote.referenceForward`,
/// VolSurfaceSticky.swift) through the binary snapshot: restored with the same state and hash,
/// and a later underlying move re-marks the restored engine as the original.
@Suite struct StickyMoneynessSnapshotTests {
    @Test func referenceForwardSurvivesTheBinarySnapshot() throws {
        let brackets = #"[{"notional_floor": "0", "notional_cap": "1000000000", "max_leverage": "50", "mmr": "0.01"}]"#
        let text = """
        {"start": {"time": "2024-03-01T08:00:00Z", "valuation_time": "2024-03-01T08:00:00Z",
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
                                                                     vols: [FixedDecimal("0.6")!, FixedDecimal("0.7")!], sourceTime: t1, sticky: .moneyness)))
        #expect(engine.state.optionMarks?.surfaces?.first?.referenceForward == FixedDecimal(50_000))
        let snapshot = try Snapshot.of(engine, sequence: 3)
        var restored = try #require(snapshot.restoredEngine())
        #expect(restored.state.optionMarks == engine.state.optionMarks && restored.stateHash() == engine.stateHash())
        let move = TimedCommand(time: t1 + 1_000, command: .markPrice(symbol: "BTCUSDT", price: FixedDecimal(55_000), sourceTime: t1 + 1_000))
        let a = engine.apply(move).map(\.json), b = restored.apply(move).map(\.json)
        #expect(a == b && a.contains { $0.contains("option_mark_computed") })
        #expect(restored.stateHash() == engine.stateHash())
    }
}
