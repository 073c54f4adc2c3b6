import SolventCore
import SolventEngine
import SolventJournal
import Testing

/// The option state added for issue 17 (vol surface slices, postponed settlements, the scenario's
/// portfolio policy) through the binary snapshot: the restored engine has the same state and hash.
@Suite struct OptionStateSnapshotTests {
    @Test func surfacesPendingSettlementsAndPolicySurviveTheBinarySnapshot() throws {
        var engine = try OptionSnapshotBook.engine(start: #""portfolio_policy": {"price_range": "0.25"}, "#)
        let t1 = OptionSnapshotBook.t1
        _ = engine.apply(TimedCommand(time: t1, command: .volSurface(underlying: "BTCUSDT", expiry: OptionSnapshotBook.expiry,
                                                                     strikes: [FixedDecimal("55000")!, FixedDecimal("65000")!],
                                                                     vols: [FixedDecimal("0.6")!, FixedDecimal("0.7")!], sourceTime: t1)))
        var state = engine.state
        var o = try #require(state.optionMarks)
        #expect(o.surfaces?.count == 1 && o.portfolioPolicy != nil)
        o.pendingSettlements = [1]
        state.optionMarks = o
        let before = Engine(restoring: state)
        let restored = try OptionSnapshotBook.roundTrip(before, sequence: 7)
        #expect(restored.state.optionMarks?.pendingSettlements == [1])
    }
}
