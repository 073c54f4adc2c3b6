import SolventCore
import SolventEngine
import SolventJournal
import Testing

/// A sticky-moneyness slice's recorded forward (`VolSurfaceQuote.referenceForward`,
/// VolSurfaceSticky.swift) through the binary snapshot: restored with the same state and hash,
/// and a later underlying move re-marks the restored engine as the original.
@Suite struct StickyMoneynessSnapshotTests {
    @Test func referenceForwardSurvivesTheBinarySnapshot() throws {
        var engine = try OptionSnapshotBook.engine()
        let t1 = OptionSnapshotBook.t1
        _ = engine.apply(TimedCommand(time: t1, command: .volSurface(underlying: "BTCUSDT", expiry: OptionSnapshotBook.expiry,
                                                                     strikes: [FixedDecimal("55000")!, FixedDecimal("65000")!],
                                                                     vols: [FixedDecimal("0.6")!, FixedDecimal("0.7")!], sourceTime: t1, sticky: .moneyness)))
        #expect(engine.state.optionMarks?.surfaces?.first?.referenceForward == FixedDecimal(50_000))
        var restored = try OptionSnapshotBook.roundTrip(engine, sequence: 3)
        let move = TimedCommand(time: t1 + 1_000, command: .markPrice(symbol: "BTCUSDT", price: FixedDecimal(55_000), sourceTime: t1 + 1_000))
        let a = engine.apply(move).map(\.json), b = restored.apply(move).map(\.json)
        #expect(a == b && a.contains { $0.contains("option_mark_computed") })
        #expect(restored.stateHash() == engine.stateHash())
    }
}
