import Foundation
import SolventCore
import SolventEngine
import SolventRisk
import Testing

/// `vol_surface` (Engine+VolSurface.swift, docs/options.md "Volatility surface"): option marks
/// from a fed slice by Black-76 at the vol interpolated linearly in total variance, the choice
/// rule against fed `option_mark`s, typed refusals, state hash, snapshot and restore.
@Suite struct VolSurfaceTests {
    static let t0 = OptionBook.startTime
    static let t1 = OptionBook.startTime + 60_000  // one minute after the start

    static func surface(_ strikes: [String], _ vols: [String], at time: Int64 = t1, source: Int64? = nil,
                        expiry: Int64 = OptionBook.expiryTime, underlying: String = "BTCUSDT") -> TimedCommand {
        at(time, .volSurface(underlying: underlying, expiry: expiry, strikes: strikes.map { dec($0) }, vols: vols.map { dec($0) },
                             sourceTime: source ?? time))
    }

    static let standard = surface(["45000", "55000", "65000"], ["0.70", "0.60", "0.65"])

    /// Hand-computed (Python 3, math.erfc; scipy.stats.norm agrees to 4e-12): F = 50,000 (the
    /// BTCUSDT mark), T = (30 days − 1 minute)/365 days = 0.08218987823439879 years, rate 0.
    /// Call K = 60,000 lies halfway between 55,000 (0.60) and 65,000 (0.65): σ² = 0.36 +
    /// (0.4225 − 0.36)·0.5 = 0.39125, σ = 0.6254998001598402, Black-76 = 790.5630221917636.
    /// Put K = 40,000 lies below the first strike: flat σ = 0.70, Black-76 = 599.4702674050704.
    @Test func marksAreBlack76AtTheInterpolatedVol() throws {
        var engine = try OptionBook.engine()
        let events = engine.apply(Self.standard)
        #expect(!events.contains { $0.kind == .rejected }, "\(events.map(\.json))")
        let computed = events.filter { $0.kind == .optionMarkComputed }
        #expect(computed.count == 2)
        let s = engine.state
        let call = s.market.instruments.firstIndex { $0.symbol == "BTC-60000-C" }!
        let put = s.market.instruments.firstIndex { $0.symbol == "BTC-40000-P" }!
        func close(_ value: FixedDecimal?, _ expected: Double, _ tolerance: Double) -> Bool {
            guard let value else { return false }
            return abs(DoubleBoundary.double(value) - expected) <= tolerance
        }
        #expect(close(s.market.marks[call], 790.5630221917636, 1e-8))
        #expect(close(s.market.marks[put], 599.4702674050704, 1e-8))
        #expect(close(s.optionMarks?.impliedVols[call], 0.6254998001598402, 1e-15))
        #expect(s.optionMarks?.impliedVols[put] == dec("0.7"))
        #expect(s.optionMarks?.valuationTime == Self.t1)
        #expect(s.markSources[call]?.sourceTime == Self.t1)
        let set = events.first { $0.kind == .volSurfaceSet }
        #expect(set?["priced"] == .integer(2) && set?["kept"] == .integer(0))
    }

    /// Linear in total variance, flat beyond: at a strike, between strikes, beyond both ends.
    @Test func interpolationIsLinearInVarianceAndFlatBeyond() {
        let slice = VolatilitySlice(strikes: [dec("100"), dec("200")], vols: [dec("0.3"), dec("0.5")])
        #expect(slice.vol(at: dec("50")) == 0.3)
        #expect(slice.vol(at: dec("100")) == 0.3)
        #expect(abs(slice.vol(at: dec("150")) - 0.17.squareRoot()) < 1e-15)  // (0.09 + 0.25)/2 = 0.17
        #expect(slice.vol(at: dec("200")) == 0.5)
        #expect(slice.vol(at: dec("1000")) == 0.5)
        let single = VolatilitySlice(strikes: [dec("100")], vols: [dec("0.4")])
        #expect(single.vol(at: dec("1")) == 0.4 && single.vol(at: dec("1000")) == 0.4)
    }

    /// The latest source time wins: a fed option mark newer than (or as new as) the surface keeps
    /// its mark; an older fed option mark afterwards is refused; a later surface prices it again.
    @Test func choiceRuleLatestSourceWins() throws {
        var engine = try OptionBook.engine()
        let call = engine.state.market.instruments.firstIndex { $0.symbol == "BTC-60000-C" }!
        // A fed mark at t1 (the surface's source time): the tie goes to the fed quote.
        _ = engine.apply(at(Self.t1, .optionMark(symbol: "BTC-60000-C", price: dec("1234"), impliedVol: dec("0.8"), sourceTime: Self.t1)))
        var events = engine.apply(Self.standard)
        #expect(events.first { $0.kind == .volSurfaceSet }?["kept"] == .integer(1))
        #expect(engine.state.market.marks[call] == dec("1234"))
        #expect(engine.state.optionMarks?.impliedVols[call] == dec("0.8"))
        // A later surface prices it.
        events = engine.apply(Self.surface(["45000", "55000", "65000"], ["0.70", "0.60", "0.65"], at: Self.t1 + 1_000))
        #expect(events.first { $0.kind == .volSurfaceSet }?["priced"] == .integer(2))
        #expect(engine.state.market.marks[call] != dec("1234"))
        // A fed mark older than the surface that priced the option is refused (the rule of `mark`).
        events = engine.apply(at(Self.t1 + 2_000, .optionMark(symbol: "BTC-60000-C", price: dec("999"), impliedVol: dec("0.8"), sourceTime: Self.t1 + 500)))
        #expect(events.first { $0.kind == .rejected }?["field"] == .text("source_time"))
    }

    /// Every refusal names its field and changes nothing (marks, their sources, the option inputs).
    @Test func refusalsAreTypedAndChangeNothing() throws {
        var engine = try OptionBook.engine()
        let cases: [(TimedCommand, Int64, String)] = [
            (Self.surface(["55000", "45000"], ["0.6", "0.7"]), 1001, "strikes[1]"),
            (Self.surface(["45000", "45000"], ["0.6", "0.7"]), 1001, "strikes[1]"),
            (Self.surface(["45000", "55000"], ["0.6"]), 1001, "vols"),
            (Self.surface([], []), 1001, "strikes"),
            (Self.surface(["45000", "55000"], ["0.6", "0"]), 1009, "vols[1]"),
            (Self.surface(["45000", "55000"], ["0.6", "10.5"]), 1009, "vols[1]"),
            (Self.surface(["0.000000001", "55000"], ["0.6", "0.7"]), 1009, "strikes[0]"),
            (Self.surface(["45000"], ["0.6"], expiry: OptionBook.expiryTime + 1), 1001, "expiry"),
            (Self.surface(["45000"], ["0.6"], underlying: "ETHUSDT"), 1001, "expiry"),
            (Self.surface(["45000"], ["0.6"], source: Self.t1 + 1), 1001, "source_time"),
            (Self.surface(["45000"], ["0.6"], at: OptionBook.expiryTime + 1), 2011, "expiry"),
        ]
        var checked = 0
        for (command, code, field) in cases {
            var copy = engine
            let events = copy.apply(command)
            let rejected = events.first { $0.kind == .rejected }
            #expect(rejected?["code"] == .integer(code) && rejected?["field"] == .text(field), "\(field): \(events.map(\.json))")
            // The market, the marks' sources and the option inputs are as before (time and the event sequence move).
            #expect(copy.state.market == engine.state.market && copy.state.markSources == engine.state.markSources
                    && copy.state.optionMarks == engine.state.optionMarks)
            checked += 1
        }
        #expect(checked == cases.count && checked > 0)
        // Not later than the current slice: refused.
        _ = engine.apply(Self.standard)
        let again = engine.apply(Self.surface(["45000"], ["0.6"], at: Self.t1 + 5, source: Self.t1))
        #expect(again.first { $0.kind == .rejected }?["field"] == .text("source_time"))
    }

    /// The slice enters the state hash, survives Codable (the snapshot's conformances) and restore,
    /// and the command round-trips through the scenario decoder and the canonical encoding.
    @Test func stateHashSnapshotRestoreAndEncoding() throws {
        var engine = try OptionBook.engine()
        let before = engine.stateHash()
        _ = engine.apply(Self.standard)
        #expect(engine.state.optionMarks?.surfaces?.count == 1)
        #expect(engine.stateHash() != before)
        var other = try OptionBook.engine()
        _ = other.apply(Self.surface(["45000", "55000", "65000"], ["0.70", "0.60", "0.66"]))
        #expect(other.stateHash() != engine.stateHash())  // one vol differs
        let data = try JSONEncoder().encode(engine.state)
        let decoded = try JSONDecoder().decode(EngineState.self, from: data)
        let restored = Engine(restoring: decoded)
        #expect(restored.stateHash() == engine.stateHash())
        #expect(restored.state.optionMarks?.surfaces == engine.state.optionMarks?.surfaces)
        let bytes = Self.standard.canonicalJSON
        let back = try SolventEngine.Scenario.decodeCommand(JSONReader(JSONParser.parse(bytes), path: "c"), assetIndex: [:], defaultTime: 0)
        #expect(back.command == Self.standard.command && back.time == Self.standard.time)
        #expect(String(decoding: bytes, as: UTF8.self).contains("\"vol_surface\""))
    }
}
