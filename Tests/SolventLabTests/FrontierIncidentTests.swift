import Foundation
import SolventCore
@testable import SolventLab
import SolventRisk
import Testing

@Suite struct FrontierTests {
    /// By hand: (1, 5) (2, 3) (3, 3) (4, 1) (2, 6) (1, 5): (3, 3) is dominated by (2, 3), (2, 6) by
    /// (1, 5); the two equal (1, 5) do not dominate each other.
    @Test func paretoByHand() {
        let flags = Frontier.pareto([(1, 5), (2, 3), (3, 3), (4, 1), (2, 6), (1, 5)])
        #expect(flags == [true, true, false, true, false, true])
    }

    /// The Pareto property on random clouds: a marked point is dominated by no point; an unmarked
    /// one is dominated by some marked point; marked points do not dominate each other.
    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6, 7, 8])
    func paretoProperty(seed: UInt64) {
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double((state >> 33) % 20)  // coarse values: ties happen
        }
        let pairs = (0..<40).map { _ in (next(), next()) }
        let flags = Frontier.pareto(pairs)
        func dominates(_ a: (Double, Double), _ b: (Double, Double)) -> Bool { a.0 <= b.0 && a.1 <= b.1 && (a.0 < b.0 || a.1 < b.1) }
        #expect(flags.contains(true))
        for i in pairs.indices {
            let dominated = pairs.indices.contains { j in dominates(pairs[j], pairs[i]) }
            #expect(flags[i] == !dominated)
            if !flags[i] { #expect(pairs.indices.contains { j in flags[j] && dominates(pairs[j], pairs[i]) }) }
        }
    }

    /// The recommendation is the lowest-rate frontier point whose shortfall fits in half the fund.
    @Test func recommendation() {
        func point(_ label: String, _ rate: Double, _ shortfall: Double) -> Frontier.Point {
            Frontier.Point(variant: .init(label: label, family: "static", model: .staticTiers), meanRate: rate, peakRate: rate, maxLeverage: 10,
                           shortfall: shortfall, fundDraws: shortfall, adl: 0, adlEvents: 0, socialized: 0, badDebt: 0, liquidations: 1)
        }
        let points = Frontier.mark([point("a", 0.004, 90_000), point("b", 0.01, 30_000), point("c", 0.05, 0), point("d", 0.02, 40_000)])
        #expect(points.map(\.onFrontier) == [true, true, true, false])
        #expect(Frontier.recommend(points, fund: 200_000)?.variant.label == "a")
        #expect(Frontier.recommend(points, fund: 100_000)?.variant.label == "b")
        #expect(Frontier.recommend(points, fund: 10_000)?.variant.label == "c")
    }
}

@Suite struct IncidentTests {
    private func config() -> Incidents.Config {
        var c = Incidents.Config()
        c.accounts = 50
        c.insuranceFund = FixedDecimal(2_500)
        return c
    }

    /// The synthetic oracle manipulation replays identically (same engine state, same numbers),
    /// squeezes shorts (liquidations, the fund used) and trips the breaker against the index.
    @Test func syntheticReplaysAreDeterministic() {
        let mango = Incidents.library.first { $0.id == "mango-kind" }!
        let (all, fullIndex) = Incidents.syntheticBars(mango)
        #expect(all.count == 432)
        // From hour 14 (four hours before the pump) on, to keep the test fast.
        let bars = Array(all.dropFirst(168)), index = Array(fullIndex.dropFirst(168))
        let a = Incidents.replay(mango, bars: bars, dataName: "synthetic", index: index, config: config())
        let b = Incidents.replay(mango, bars: bars, dataName: "synthetic", index: index, config: config())
        #expect(a.stateHash == b.stateHash)
        #expect(a.liquidations == b.liquidations && a.fundUsed == b.fundUsed && a.adlEvents == b.adlEvents && a.socialized == b.socialized)
        #expect(a.liquidations > 0 && a.fundUsed > 0)
        #expect(a.breakersTripped >= 1)
        #expect(abs(a.worstMove - 1.3) < 0.05)
    }

    /// 2025-10-10 on the shipped five-minute perpetual bars (the afternoon and evening of the
    /// crash, to keep the test fast): deterministic, the crash liquidates.
    @Test func realIncidentOnShippedBars() {
        let incident = Incidents.library.first { $0.id == "2025-10-10" }!
        let from = Timestamp.parseISO8601("2025-10-10T12:00:00Z")!, to = Timestamp.parseISO8601("2025-10-11T00:00:00Z")!
        let bars = shippedFiveMinute.filter { $0.time >= from && $0.time < to }
        #expect(bars.count == 144)
        let a = Incidents.replay(incident, bars: bars, dataName: "shipped", config: config())
        let b = Incidents.replay(incident, bars: bars, dataName: "shipped", config: config())
        #expect(a.stateHash == b.stateHash && a.liquidations == b.liquidations && a.fundUsed == b.fundUsed)
        #expect(a.liquidations > 0)
        #expect(a.worstMove > 0.12)  // 12:00 close near 121,000 → 101,516.5 at 21:20
        #expect(Incidents.table([a]).contains("2025-10-10"))
        // The JSON carries the replay note the table and the report print.
        #expect(!a.notes.isEmpty)
        let json = IncidentsReport.json(dataRoot: "data", config: config(), outcomes: [a])
        let document = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let incidents = document?["incidents"] as? [[String: Any]] ?? []
        #expect(incidents.count == 1)
        #expect(incidents.first?["replay_note"] as? String == a.notes)
    }

    /// Every incident names its venue account and a public source with its address (the pages
    /// checked, docs/lab.md); 2025-10-10 twice (de-peg at the venue's book price, and at redemption value).
    @Test func libraryIsDocumented() {
        #expect(Incidents.library.count == 8)
        #expect(Incidents.library.filter(\.synthetic).count == 2)
        #expect(Incidents.library.filter { $0.id.hasPrefix("2025-10-10") }.count == 2)
        for incident in Incidents.library {
            #expect(!incident.account.isEmpty && !incident.source.isEmpty)
            #expect(incident.source.contains("https://"))
            #expect(incident.synthetic == incident.files.isEmpty)
            #expect(Timestamp.parseISO8601(incident.from)! < Timestamp.parseISO8601(incident.to)!)
        }
    }
}

@Suite struct MinutePathTests {
    private func bar(_ minute: Int64, _ o: Int, _ h: Int, _ l: Int, _ c: Int) -> Bar {
        Bar(time: minute * 60_000, open: FixedDecimal(o), high: FixedDecimal(h), low: FixedDecimal(l), close: FixedDecimal(c), volume: FixedDecimal(1))
    }

    /// A two-minute bar covered by two one-minute bars is replayed along them (8 marks, 15 s
    /// apart); a one-minute engine step sees only each minute's close; a 45 s step sees the
    /// latest point at 44.999 s and 89.999 s, then the close.
    @Test func pathFromFineBarsAndLatency() {
        let coarse = bar(0, 100, 110, 90, 95)
        let fine = [bar(0, 100, 110, 98, 105), bar(1, 105, 106, 90, 95)]
        let full = Backtest.path(bar: coarse, barMs: 120_000, fine: fine, fineMs: 60_000, stepMs: nil)
        #expect(full.map(\.0) == [0, 15_000, 30_000, 45_000, 60_000, 75_000, 90_000, 105_000])
        #expect(full.map(\.1) == [100, 98, 110, 105, 105, 106, 90, 95].map { FixedDecimal($0) })
        let minute = Backtest.path(bar: coarse, barMs: 120_000, fine: fine, fineMs: 60_000, stepMs: 60_000)
        #expect(minute.map(\.0) == [59_999, 119_999] && minute.map(\.1) == [FixedDecimal(105), FixedDecimal(95)])
        let slow = Backtest.path(bar: coarse, barMs: 120_000, fine: fine, fineMs: 60_000, stepMs: 45_000)
        #expect(slow.map(\.0) == [44_999, 89_999, 119_999])
        #expect(slow.map(\.1) == [FixedDecimal(110), FixedDecimal(106), FixedDecimal(95)])
        // Without fine bars: the four synthetic marks of the coarse bar (down bar: high first).
        let four = Backtest.path(bar: coarse, barMs: 120_000, fine: nil, fineMs: 60_000, stepMs: nil)
        #expect(four.map(\.1) == [100, 110, 90, 95].map { FixedDecimal($0) })
    }
}
