import ArgumentParser
import Foundation
import SolventCore
import SolventLab
import SolventRisk

struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Propose maintenance rates per bracket for a target coverage from a price history, and backtest them (Kupiec, Christoffersen).",
        discussion: """
            The model (docs/dynamic-margin.md): EWMA or GARCH(1,1) volatility, a normal or empirical \
            quantile of the absolute horizon move, a liquidation horizon per bracket from market depth, \
            and anti-procyclicality (stressed weight, buffer, floor, speed limits). The backtest runs \
            out of sample, after the training bars, against the same history; the static table is \
            backtested alongside for comparison.
            """)

    @Option(name: .long, help: "CSV file: timestamp,open,high,low,close,volume (gzip when it ends in .gz).") var data: String
    @Option(name: .long, help: "Coverage of the absolute horizon move.") var coverage: Double = 0.995
    @Option(name: .long, help: "Volatility model: ewma or garch.") var model: String = "ewma"
    @Option(name: .long, help: "Liquidation horizon of the first bracket, in bars.") var horizonBars: Double = 1
    @Option(name: .long, help: "Bars used for fitting (GARCH, empirical quantile, depth); the backtest runs after them.") var trainingBars: Int = 8_760
    @Option(name: .long, help: "EWMA decay λ.") var lambda: Double = 0.94
    @Option(name: .long, help: "Weight of the stressed-period rate (anti-procyclicality).") var stressedWeight: Double = 0.25
    @Option(name: .long, help: "Quantile of the volatility history taken as the stressed volatility.") var stressQuantile: Double = 0.95
    @Option(name: .long, help: "Buffer on top of the rate in calm markets.") var buffer: Double = 0.25
    @Option(name: .long, help: "Largest relative rise of a rate per day.") var maxRisePerDay: Double = 1.0
    @Option(name: .long, help: "Largest relative fall of a rate per day.") var maxFallPerDay: Double = 0.1
    @Option(name: .long, help: "Smallest maintenance rate.") var floor: Double = 0.004
    @Option(name: .long, help: "Share of a bar's traded notional a liquidation may take.") var participation: Double = 0.1
    @Option(name: .long, help: "Bracket notional floors, comma-separated, from 0.") var brackets: String = "0,50000,600000,3000000,12000000,70000000"
    @Option(name: .long, help: "The static table's maintenance rates, one per bracket (Binance-like BTCUSDT defaults).") var staticRates: String = "0.004,0.005,0.0065,0.01,0.02,0.05"
    @Option(name: .long, help: "Write the dynamic first bracket's exceedance flags (0/1, one a line) to this file.") var exceedancesOut: String?
    @Option(name: .long, help: "Write the rate path (CSV: time, volatility, rate per bracket) to this file.") var pathOut: String?

    func run() throws {
        guard coverage > 0.5 && coverage < 1 else { ProcessIO.fail("--coverage: must be in (0.5, 1), got \(coverage)", status: 2) }
        guard let kind = DynamicMargin.Model(rawValue: model) else { ProcessIO.fail("--model: must be ewma or garch, got \(model)", status: 2) }
        guard horizonBars >= 1 else { ProcessIO.fail("--horizon-bars: must be at least 1", status: 2) }
        guard lambda > 0 && lambda < 1 else { ProcessIO.fail("--lambda: must be in (0, 1)", status: 2) }
        guard (0...1).contains(stressedWeight) else { ProcessIO.fail("--stressed-weight: must be in [0, 1]", status: 2) }
        guard buffer >= 0, maxRisePerDay > 0, (0..<1).contains(maxFallPerDay), floor >= 0, participation > 0 else {
            ProcessIO.fail("--buffer, --floor ≥ 0; --max-rise-per-day, --participation > 0; --max-fall-per-day in [0, 1)", status: 2)
        }
        let floors = brackets.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        let statics = staticRates.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !floors.isEmpty, floors[0] == 0, zip(floors, floors.dropFirst()).allSatisfy({ $0 < $1 }) else {
            ProcessIO.fail("--brackets: ascending notional floors starting at 0", status: 2)
        }
        guard statics.count == floors.count, statics.allSatisfy({ $0 > 0 && $0 < 1 }) else {
            ProcessIO.fail("--static-rates: one rate in (0, 1) per bracket (\(floors.count))", status: 2)
        }
        let text: String
        do { text = try VolatilityCommand.readText(data) } catch { ProcessIO.fail("--data: \(error)", status: 2) }
        let bars: [Bar]
        do { bars = try PriceHistory.parse(text) } catch { ProcessIO.fail("\(data): \(error.description)", status: 2) }
        guard bars.count > trainingBars + 50, trainingBars >= 20 else {
            ProcessIO.fail("--training-bars: \(trainingBars) leaves fewer than 50 bars to backtest (the file has \(bars.count))", status: 2)
        }
        var policy = DynamicMargin.Policy()
        policy.coverage = coverage
        policy.model = kind
        policy.horizonBars = horizonBars
        policy.trainingBars = trainingBars
        policy.lambda = lambda
        policy.stressedWeight = stressedWeight
        policy.buffer = buffer
        guard stressQuantile > 0 && stressQuantile < 1 else { ProcessIO.fail("--stress-quantile: must be in (0, 1)", status: 2) }
        policy.stressQuantile = stressQuantile
        policy.maxRisePerDay = maxRisePerDay
        policy.maxFallPerDay = maxFallPerDay
        policy.floor = floor
        policy.participation = participation
        let times = bars.map(\.time)
        let prices = bars.map { DoubleBoundary.double($0.close) }
        let result = DynamicMargin(times: times, prices: prices, volumes: bars.map { DoubleBoundary.double($0.volume) },
                                   bracketFloors: floors, policy: policy)
        let dynamic = result.exceedances(times: times, prices: prices)
        let fixed = result.exceedances(times: times, prices: prices, staticRate: statics[0])
        if let exceedancesOut {
            let lines = dynamic.map { $0 ? "1" : "0" }.joined(separator: "\n") + "\n"
            guard FileManager.default.createFile(atPath: exceedancesOut, contents: Data(lines.utf8)) else { ProcessIO.fail("cannot write \(exceedancesOut)", status: 1) }
        }
        if let pathOut {
            var csv = "time,volatility," + floors.indices.map { "rate_\($0)" }.joined(separator: ",") + "\n"
            for step in result.steps {
                csv += Timestamp.formatISO8601(step.time) + "," + DoubleBoundary.text(step.volatility) + "," + step.rates.map { DoubleBoundary.text($0) }.joined(separator: ",") + "\n"
            }
            guard FileManager.default.createFile(atPath: pathOut, contents: Data(csv.utf8)) else { ProcessIO.fail("cannot write \(pathOut)", status: 1) }
        }
        let last = result.steps[result.steps.count - 1]
        let backtestStart = result.steps[min(trainingBars, result.steps.count - 1)].time
        var w = JSONWriter()
        w.beginObject()
        w.member("data", data)
        w.key("bars"); w.integer(bars.count)
        w.member("model", kind.rawValue)
        w.member("coverage", DoubleBoundary.text(coverage))
        w.member("z_normal", DoubleBoundary.text(result.zNormal))
        w.member("z_empirical", DoubleBoundary.text(result.zEmpirical))
        w.member("z", DoubleBoundary.text(result.z))
        w.key("training_bars"); w.integer(trainingBars)
        if let g = result.garch {
            w.key("garch"); w.beginObject()
            w.member("omega", DoubleBoundary.text(g.omega)); w.member("alpha", DoubleBoundary.text(g.alpha)); w.member("beta", DoubleBoundary.text(g.beta))
            w.endObject()
        }
        w.member("as_of", Timestamp.formatISO8601(last.time))
        w.member("volatility_per_bar", DoubleBoundary.text(last.volatility))
        w.key("proposal"); w.beginArray()
        for i in floors.indices {
            w.beginObject()
            w.member("notional_floor", DoubleBoundary.text(floors[i]))
            w.member("horizon_bars", DoubleBoundary.text((result.horizons[i] * 100).rounded() / 100))
            w.member("mmr", Self.rate(last.rates[i]))
            w.member("raw_mmr", Self.rate(last.raw[i]))
            w.member("static_mmr", DoubleBoundary.text(statics[i]))
            w.endObject()
        }
        w.endArray()
        w.key("backtest"); w.beginObject()
        w.member("from", Timestamp.formatISO8601(backtestStart))
        Self.write("dynamic", dynamic, coverage: coverage, meanRate: mean(result.steps.dropFirst(trainingBars - 1).map { $0.rates[0] }), into: &w)
        Self.write("static", fixed, coverage: coverage, meanRate: statics[0], into: &w)
        w.endObject()
        w.endObject()
        ProcessIO.writeStdout(w.string + "\n")
    }

    func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }

    /// A proposed rate, rounded up to 1e-6 (a margin is never rounded down).
    static func rate(_ value: Double) -> String { DoubleBoundary.text((value * 1e6).rounded(.up) / 1e6) }

    static func write(_ name: String, _ series: [Bool], coverage: Double, meanRate: Double, into w: inout JSONWriter) {
        let exceedances = series.filter { $0 }.count
        w.key(name); w.beginObject()
        w.key("observations"); w.integer(series.count)
        w.key("exceedances"); w.integer(exceedances)
        w.member("exceedance_rate", DoubleBoundary.text(series.isEmpty ? 0 : Double(exceedances) / Double(series.count)))
        w.member("expected_rate", DoubleBoundary.text(1 - coverage))
        w.member("mean_mmr", DoubleBoundary.text(meanRate))
        for (key, test) in [("kupiec", BacktestStatistics.kupiec(observations: series.count, exceedances: exceedances, coverage: coverage)),
                            ("christoffersen", BacktestStatistics.christoffersenIndependence(series)),
                            ("conditional_coverage", BacktestStatistics.conditionalCoverage(series, coverage: coverage))] {
            w.key(key); w.beginObject()
            w.member("statistic", DoubleBoundary.text(test.statistic))
            w.member("p_value", DoubleBoundary.text(test.pValue))
            w.endObject()
        }
        w.endObject()
    }
}
