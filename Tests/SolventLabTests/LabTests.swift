import Foundation
import SolventCore
import SolventEngine
@testable import SolventLab
import SolventRisk
import Testing

private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Two weeks of the shipped crash window around 2020-03-12 (336 hourly bars).
private let crashBars: [Bar] = {
    let text = try! String(contentsOf: root.appendingPathComponent("Examples/data/BTCUSDT-1h-2020-03-crash.csv"), encoding: .utf8)
    let bars = try! PriceHistory.parse(text)
    let from = Timestamp.parseISO8601("2020-03-05T00:00:00Z")!, to = Timestamp.parseISO8601("2020-03-19T00:00:00Z")!
    return bars.filter { $0.time >= from && $0.time < to }
}()

private func config(accounts: Int = 300, seed: UInt64 = 7) -> BacktestConfig {
    var c = BacktestConfig()
    c.accounts = accounts
    c.seed = seed
    return c
}

@Suite struct BacktestTests {
    /// The same history, configuration and seed give the same engine state and numbers; another
    /// seed gives another book. Money is conserved to the last unit.
    @Test func deterministicAndConserving() {
        let a = Backtest.run(bars: crashBars, model: .staticTiers, config: config())
        let b = Backtest.run(bars: crashBars, model: .staticTiers, config: config())
        #expect(a.stateHash == b.stateHash)
        #expect(a.liquidations == b.liquidations && a.totalShortfall == b.totalShortfall && a.days.map(\.fund) == b.days.map(\.fund))
        let c = Backtest.run(bars: crashBars, model: .staticTiers, config: config(seed: 8))
        #expect(c.stateHash != a.stateHash)
        for result in [a, c] { #expect(result.conservationGaps.allSatisfy { $0.isZero }) }
    }

    /// Black Thursday liquidates a large share of a 0.4 %-maintenance book and leaves a shortfall;
    /// the counters are consistent with each other.
    @Test func crashLiquidatesStaticBook() {
        let r = Backtest.run(bars: crashBars, model: .staticTiers, config: config())
        #expect(r.traded + r.rejectedOpens == 300)
        #expect(r.liquidations > 20)
        #expect(r.liquidatedAccounts <= r.liquidations)
        #expect(r.cleanLiquidations <= r.liquidatedAccounts)
        #expect(r.coverage >= 0 && r.coverage <= 1)
        #expect(r.cures <= r.calls)
        #expect(r.totalShortfall > 0)
        #expect(abs(r.totalShortfall - r.days.map(\.shortfall).reduce(0, +)) < 1e-6 * max(1, r.totalShortfall))
        #expect(r.worstFall > 0.4)  // 2020-03-12/13 fell more than 40 % within 24 hours
        #expect(r.days.count == 14)
    }

    /// Dynamic margin follows the crash: a higher mean rate than the static 0.4 %, fewer
    /// liquidations ending in a shortfall; both dynamic models conserve money.
    @Test func dynamicModelsRaiseMarginInTheCrash() {
        let fixed = Backtest.run(bars: crashBars, model: .staticTiers, config: config())
        let dynamic = Backtest.run(bars: crashBars, model: .dynamic, config: config())
        let raw = Backtest.run(bars: crashBars, model: .dynamicRaw, config: config())
        #expect(dynamic.meanMaintenanceRate > fixed.meanMaintenanceRate)
        #expect(dynamic.meanMaintenanceRate >= raw.meanMaintenanceRate)
        #expect(dynamic.coverage > fixed.coverage)
        for r in [dynamic, raw] { #expect(r.conservationGaps.allSatisfy { $0.isZero }) }
    }

    /// A dynamic table keeps the static floors, rounds rates up to 0.0001 %, keeps them
    /// non-decreasing and caps leverage at 1 / (2·MMR).
    @Test func dynamicTable() {
        let table = MarginModel.table(static: Backtest.staticTiers, rates: [0.0123451, 0.01, 0.02, 0.03, 0.04, 0.9])
        #expect(table.brackets.map(\.notionalFloor) == Backtest.staticTiers.brackets.map(\.notionalFloor))
        #expect(table.brackets[0].maintenanceMarginRate == FixedDecimal("0.012346"))
        #expect(table.brackets[1].maintenanceMarginRate == FixedDecimal("0.012346"))  // never below the previous tier
        #expect(table.brackets[5].maintenanceMarginRate == FixedDecimal("0.5"))
        #expect(table.brackets[0].maxLeverage == FixedDecimal(40))  // 1 / (2 × 0.012346) = 40.499 → 40
        #expect(table.brackets[5].maxLeverage == FixedDecimal(1))
    }

    /// Fund sizing by hand: daily shortfalls 0, 5, 10, 0 … → worst day 10, worst 30 days 15;
    /// the recommendation is the larger of that and Cover-2.
    @Test func insuranceFundSizing() {
        var result = BacktestResult(model: .staticTiers, bars: 0, accounts: 0, traded: 0)
        let shortfalls: [Double] = [0, 5, 10] + [Double](repeating: 0, count: 40) + [1, 1]
        result.days = shortfalls.enumerated().map { k, s in
            BacktestDay(time: Int64(k) * 86_400_000, close: 1, low: 1, high: 1, liquidations: 0, calls: 0, cures: 0, shortfall: s, fund: 0,
                        maintenanceRate: 0, openAccounts: 0, medianRatio: 0, p90Ratio: 0)
        }
        result.cover2 = 12
        let sizing = InsuranceFundSizing(result: result, confidence: 0.99)
        #expect(sizing.worstDay == 10)
        #expect(sizing.worst30Days == 15)
        #expect(sizing.dailyQuantile == 10)  // ⌈45 × 0.99⌉ = 45th of 45 sorted values
        #expect(sizing.recommended == 15)
        result.cover2 = 40
        #expect(InsuranceFundSizing(result: result).recommended == 40)
    }
}

@Suite struct CascadeTests {
    private func setup(_ accounts: Int = 300) -> (Engine, Cascade.Config) {
        var config = Cascade.Config()
        config.accounts = accounts
        config.depth = 10
        config.insuranceFund = FixedDecimal(20_000)
        return (Cascade.book(config), config)
    }

    /// Without controls a bigger shock never liquidates less, and the cascade carries the price
    /// at least as far as the shock (amplification ≥ 1).
    @Test func biggerShocksCascadeMore() {
        let (book, config) = setup()
        let outcomes = [0.02, 0.05, 0.1, 0.15].map { Cascade.run(book, shock: $0, controls: .none, config: config) }
        for (a, b) in zip(outcomes, outcomes.dropFirst()) { #expect(b.liquidations >= a.liquidations) }
        for o in outcomes where o.liquidations > 0 { #expect(o.amplification >= 1) }
        #expect(outcomes.last!.liquidations > 0)
    }

    /// A price band stops fills far from the index: the mark moves less than without controls,
    /// and the accounts it could not liquidate stay queued, visibly.
    @Test func bandContainsTheCascade() {
        let (book, config) = setup()
        let free = Cascade.run(book, shock: 0.1, controls: .none, config: config)
        let banded = Cascade.run(book, shock: 0.1, controls: .band, config: config)
        #expect(banded.finalMove >= free.finalMove)
        #expect(banded.liquidatedNotional <= free.liquidatedNotional)
        #expect(banded.backlog > 0 || banded.liquidatedNotional == free.liquidatedNotional)
    }

    /// The book is a value: runs do not change it, and the same run twice gives the same outcome.
    @Test func runsAreIndependent() {
        let (book, config) = setup(120)
        let hash = book.stateHash()
        let a = Cascade.run(book, shock: 0.08, controls: .all, config: config)
        let b = Cascade.run(book, shock: 0.08, controls: .all, config: config)
        #expect(a == b)
        #expect(book.stateHash() == hash)
    }
}

@Suite struct ReportTests {
    /// Round ticks by hand: 0…97 → 0, 20, …, 100; 0.0012…0.0048 in steps of 0.001.
    @Test func niceTicks() {
        #expect(SVGChart.niceTicks(0, 97) == [0, 20, 40, 60, 80, 100])
        let small = SVGChart.niceTicks(0.0012, 0.0048)
        #expect(small.count >= 4 && small.count <= 7)
        #expect(abs(small[1] - small[0] - 0.001) < 1e-12)
        #expect(SVGChart.compact(1_234_567) == "1.23M")
        #expect(SVGChart.compact(0.004512) == "0.0045")
    }

    /// The report is one self-contained HTML document with every plot, the comparison table and
    /// the test results; it references no external asset.
    @Test func selfContainedWithPlots() {
        var c = config(accounts: 120)
        c.sampleRatios = true
        let results = MarginModel.allCases.map { Backtest.run(bars: crashBars, model: $0, config: c) }
        let times = crashBars.map(\.time), prices = crashBars.map { DoubleBoundary.double($0.close) }
        var policy = DynamicMargin.Policy()
        policy.trainingBars = 100
        let calibration = DynamicMargin(times: times, prices: prices, volumes: crashBars.map { DoubleBoundary.double($0.volume) },
                                        bracketFloors: Backtest.staticTiers.brackets.map { DoubleBoundary.double($0.notionalFloor) }, policy: policy)
        var cascadeConfig = Cascade.Config()
        cascadeConfig.accounts = 60
        let book = Cascade.book(cascadeConfig)
        let cascade = [0.05, 0.1].map { Cascade.run(book, shock: $0, controls: .none, config: cascadeConfig) }
        let html = RiskReport.html(RiskReportInput(
            dataName: "crash <window>", bars: crashBars, accounts: 120, seed: 7, results: results, sizings: results.map { InsuranceFundSizing(result: $0) },
            calibration: calibration, staticRates: Backtest.staticTiers.brackets.map { DoubleBoundary.double($0.maintenanceMarginRate) }, coverage: 0.995,
            dynamicExceedances: calibration.exceedances(times: times, prices: prices), staticExceedances: calibration.exceedances(times: times, prices: prices, staticRate: 0.004),
            cascade: cascade, cascadeAccounts: 60))
        for plot in ["price", "margin-ratio-median", "margin-ratio-p90", "liquidations", "fund", "maintenance-rate", "calibration", "cascade"] {
            #expect(html.contains("data-plot=\"\(plot)\""), "missing plot \(plot)")
        }
        #expect(html.components(separatedBy: "<svg").count - 1 == 8)
        #expect(html.contains("Kupiec") && html.contains("Christoffersen") && html.contains("Cover-2"))
        #expect(!html.contains("http://") || !html.contains("src=\"http"))
        #expect(!html.contains("<script") && !html.contains("<link"))
        #expect(html.contains("crash &lt;window&gt;"))
        #expect(html.hasPrefix("<!DOCTYPE html>"))
    }
}
