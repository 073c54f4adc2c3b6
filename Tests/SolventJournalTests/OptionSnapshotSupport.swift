import SolventCore
import SolventEngine
import SolventJournal
import Testing

/// The option book the option-state snapshot tests share (OptionStateSnapshotTests,
/// StickyMoneynessSnapshotTests, StaleOptionMarkSnapshotTests): BTCUSDT at 50,000, a 60,000 call
/// (and with `put`, a 40,000 put) expiring 2024-03-31, one portfolio account "p" short 5 calls
/// with 100,000 USDT; and the round trip through the binary snapshot they all check.
enum OptionSnapshotBook {
    /// 2024-03-01T08:01:00Z in milliseconds: one minute after the book's start.
    static let t1: Int64 = 1_709_280_060_000
    /// The options' expiry, 2024-03-31T08:00:00Z, in milliseconds.
    static let expiry: Int64 = 1_711_872_000_000

    /// The engine of the book; `start` is inserted first in the start object (e.g. a
    /// `"portfolio_policy"` member followed by a comma).
    static func engine(put: Bool = false, start: String = "") throws -> Engine {
        let brackets = #"[{"notional_floor": "0", "notional_cap": "1000000000", "max_leverage": "50", "mmr": "0.01"}]"#
        let putInstrument = !put ? "" : """
        ,
            {"symbol": "BTC-40000-P", "kind": "option", "right": "put", "strike": "40000", "expiry": "2024-03-31T08:00:00Z", "underlying": "BTCUSDT",
             "base": "BTC", "settle": "USDT", "contract_size": "1", "brackets": \(brackets)}
        """
        let text = """
        {"start": {\(start)"time": "2024-03-01T08:00:00Z", "valuation_time": "2024-03-01T08:00:00Z",
          "policy": {"warning_ratio": "0.70", "call_ratio": "0.85", "restore_ratio": "0.70"},
          "assets": {"USDT": "1", "BTC": "50000"}, "haircuts": {},
          "instruments": [
            {"symbol": "BTCUSDT", "kind": "linear_perpetual", "base": "BTC", "settle": "USDT", "contract_size": "1", "brackets": \(brackets)},
            {"symbol": "BTC-60000-C", "kind": "option", "right": "call", "strike": "60000", "expiry": "2024-03-31T08:00:00Z", "underlying": "BTCUSDT",
             "base": "BTC", "settle": "USDT", "contract_size": "1", "brackets": \(brackets)}\(putInstrument)],
          "marks": {"BTCUSDT": "50000", "BTC-60000-C": "1000"\(put ? #", "BTC-40000-P": "500""# : "")},
          "implied_vols": {"BTC-60000-C": "0.60"\(put ? #", "BTC-40000-P": "0.70""# : "")},
          "accounts": [{"id": "p", "mode": "portfolio", "settle": "USDT", "collateral": {"USDT": "100000"},
                        "positions": [{"symbol": "BTC-60000-C", "quantity": "-5", "entry_price": "1000"}]}]},
         "commands": []}
        """
        return try Scenario.decode(JSONParser.parse([UInt8](text.utf8))).makeEngine()
    }

    /// `engine` through `Snapshot.of` and `restoredEngine()`: the restored engine, checked to hold
    /// the same option state, market and state hash.
    static func roundTrip(_ engine: Engine, sequence: Int64, sourceLocation: SourceLocation = #_sourceLocation) throws -> Engine {
        let snapshot = try Snapshot.of(engine, sequence: sequence)
        let restored = try #require(snapshot.restoredEngine(), sourceLocation: sourceLocation)
        #expect(restored.state.optionMarks == engine.state.optionMarks, sourceLocation: sourceLocation)
        #expect(restored.state.market == engine.state.market, sourceLocation: sourceLocation)
        #expect(restored.stateHash() == engine.stateHash(), sourceLocation: sourceLocation)
        return restored
    }
}
