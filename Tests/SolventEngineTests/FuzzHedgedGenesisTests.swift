import SolventCore
import SolventEngine
import SolventFuzzing
import Testing

/// The engine fuzzer's second genesis (`EngineFuzzer.hedgedGenesis`, used by odd-length inputs):
/// it decodes, turns the thin-book option delta hedge on (`option_delta_hedge`,
/// Engine+OptionLiquidation.swift), and a short mark move with a BTCUSDT book reaches the hedge —
/// so the fuzzer's vocabulary reaches it too (its `book`, `mark` and `change_parameters` commands).
@Suite struct FuzzHedgedGenesisTests {
    @Test func hedgedGenesisReachesTheDeltaHedge() throws {
        var engine = try SolventEngine.Scenario.decode(JSONParser.parse(Array(EngineFuzzer.hedgedGenesis.utf8))).makeEngine()
        #expect(engine.state.parameters.deltaHedgeEnabled)
        let t: Int64 = 1_704_067_200_000
        var events = engine.apply(TimedCommand(time: t, command: .book(symbol: "BTCUSDT", bids: [BookLevel(price: FixedDecimal(50_900), quantity: FixedDecimal(5))],
                                                                       asks: [BookLevel(price: FixedDecimal(51_100), quantity: FixedDecimal(5))])))
        events += engine.apply(TimedCommand(time: t + 1_000, command: .markPrice(symbol: "BTCUSDT", price: FixedDecimal(51_000), sourceTime: t + 1_000)))
        let hedges = events.filter { $0.kind == .liquidationFill && $0["executor"] == .text("delta_hedge") }
        #expect(hedges.count == 1, "\(events.map(\.json))")
        EngineFuzzer.checkInvariants(engine)
        // The plain genesis is unchanged: no hedge, no account "d".
        let plain = try SolventEngine.Scenario.decode(JSONParser.parse(Array(EngineFuzzer.genesis.utf8))).makeEngine()
        #expect(!plain.state.parameters.deltaHedgeEnabled && plain.state.accountIndex["d"] == nil)
    }
}
