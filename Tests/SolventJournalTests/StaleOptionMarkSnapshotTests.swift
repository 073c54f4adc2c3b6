import SolventCore
import SolventEngine
import SolventJournal
import Testing

/// The stale-option-mark state (`OptionMarkState.quotedForwards`, `modelMarked`;
/// Engine+StaleOptionMarks.swift) survives the binary snapshot (SOLVBIN1) and the restored engine
/// continues the same way.
@Suite struct StaleOptionMarkSnapshotTests {
    @Test func quotedForwardsAndModelMarksSurviveTheBinarySnapshot() throws {
        var engine = try OptionSnapshotBook.engine(put: true)
        let t1 = OptionSnapshotBook.t1
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
        var restored = try OptionSnapshotBook.roundTrip(engine, sequence: 9)
        let next = TimedCommand(time: t1 + 5, command: .markPrice(symbol: "BTCUSDT", price: FixedDecimal("51500")!, sourceTime: t1 + 5))
        #expect(restored.apply(next).map(\.json) == engine.apply(next).map(\.json))
        #expect(restored.stateHash() == engine.stateHash())
        #expect(engine.state.optionMarks?.modelMarked == [1, 2])  // the put: 51,500 is 1.18 % from 50,900
    }
}
