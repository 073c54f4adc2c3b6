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
            The model (docs/dynamic-margin.md): EWMA (slow and fast, the larger) or GARCH(1,1) volatility, \
            a liquidation horizon in time per bracket (--horizon 1m for the first; larger brackets from \
            market depth), and the quantile multiplier chosen walk-forward (--method calibrated): the \
            lowest meeting the coverage target with neither Kupiec (two-sided) nor Christoffersen \
            rejecting at 5 %. Anti-procyclicality (stressed weight, buffer, floor, speed limits) is an \
            add-on reported separately (dynamic_apc). --method fixed keeps the training-quantile model. \
            Below one bar (1m on hourly bars) volatility comes from the bars' ranges with a fat-tailed \
            quantile; --minute-data validates it against minute bars. The backtest runs out of sample, \
            after the training bars; the static table is backtested alongside.
            """)

    @OptionGroup var output: OutputOptions
    @Option(name: .long, help: "CSV file: timestamp,open,high,low,close,volume (gzip when it ends in .gz); several, comma-separated, are joined in time order (gaps are never bridged).") var data: String
    @Option(name: .long, help: "Liquidation horizon of the first bracket in time: 30s, 1m, 2m, 5m, 1h … (default: --horizon-bars).") var horizon: String?
    @Option(name: .long, help: "calibrated (walk-forward lowest passing multiplier) or fixed (training quantile, APC in the headline).") var method: String = "calibrated"
    @Option(name: .long, help: "Faster EWMA decay; σ = max(σ_λ, σ_fast). 0: none.") var fastLambda: Double = 0.7
    @Option(name: .long, help: "Walk-forward window, in bars (default max(7 days, 2000 bars)).") var windowBars: Int?
    @Option(name: .long, help: "Walk-forward refit interval, in bars (default one day).") var refitBars: Int?
    @Option(name: .long, help: "Range estimator for sub-bar horizons: parkinson, garman-klass, rogers-satchell.") var rangeEstimator: String = "parkinson"
    @Option(name: .long, help: "Minute (or any finer) bars to validate a sub-bar horizon against (CSV, .gz).") var minuteData: String?
    @Option(name: .long, help: "The industry's first-bracket rate, printed alongside.") var industryRate: Double = 0.004
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
        guard horizonBars > 0 else { ProcessIO.fail("--horizon-bars: must be positive", status: 2) }
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
        guard method == "calibrated" || method == "fixed" else { ProcessIO.fail("--method: calibrated or fixed, got \(method)", status: 2) }
        guard fastLambda == 0 || (fastLambda > 0 && fastLambda < 1) else { ProcessIO.fail("--fast-lambda: 0 or in (0, 1)", status: 2) }
        guard let estimator = RangeVolatility.Estimator(rawValue: rangeEstimator) else { ProcessIO.fail("--range-estimator: parkinson, garman-klass or rogers-satchell", status: 2) }
        var horizonSeconds: Double? = nil
        if let horizon {
            guard let seconds = RangeVolatility.parseHorizon(horizon) else { ProcessIO.fail("--horizon: a number and a unit (30s, 1m, 5m, 1h), got \(horizon)", status: 2) }
            horizonSeconds = seconds
        }
        let bars = Self.loadBars(data)
        guard bars.count > trainingBars + 50, trainingBars >= 20 else {
            ProcessIO.fail("--training-bars: \(trainingBars) leaves fewer than 50 bars to backtest (the file has \(bars.count))", status: 2)
        }
        var policy = DynamicMargin.Policy()
        policy.coverage = coverage
        policy.model = kind
        policy.horizonBars = horizonBars
        policy.horizonSeconds = horizonSeconds
        policy.fastLambda = fastLambda == 0 ? nil : fastLambda
        policy.rangeEstimator = estimator
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
        let volumes = bars.map { DoubleBoundary.double($0.volume) }
        let opens = bars.map { DoubleBoundary.double($0.open) }, highs = bars.map { DoubleBoundary.double($0.high) }, lows = bars.map { DoubleBoundary.double($0.low) }
        let calibrated = method == "calibrated"
        let walk: MarginCalibration.Result? = calibrated
            ? MarginCalibration.run(times: times, prices: prices, volumes: volumes, bracketFloors: floors, policy: policy,
                                    opens: opens, highs: highs, lows: lows, windowBars: windowBars, stepBars: refitBars)
            : nil
        let result = walk?.calibrated ?? DynamicMargin(times: times, prices: prices, volumes: volumes, bracketFloors: floors, policy: policy,
                                                       opens: opens, highs: highs, lows: lows)
        let dynamic = result.exceedances(times: times, prices: prices)
        let withAPC = walk.map { $0.withAPC.exceedances(times: times, prices: prices) }
        let fixed = result.exceedances(times: times, prices: prices, staticRate: statics[0])
        if let exceedancesOut {
            let lines = dynamic.map { $0 ? "1" : "0" }.joined(separator: "\n") + "\n"
            guard FileManager.default.createFile(atPath: exceedancesOut, contents: Data(lines.utf8)) else { ProcessIO.fail("cannot write \(exceedancesOut)", status: 1) }
        }
        if let pathOut {
            var csv = "time,volatility," + floors.indices.map { "rate_\($0)" }.joined(separator: ",") + "\n"
            for step in result.steps {
                csv += Timestamp.formatISO8601(step.time) + "," + DoubleBoundary.shortestText(step.volatility) + "," + step.rates.map { DoubleBoundary.shortestText($0) }.joined(separator: ",") + "\n"
            }
            guard FileManager.default.createFile(atPath: pathOut, contents: Data(csv.utf8)) else { ProcessIO.fail("cannot write \(pathOut)", status: 1) }
        }
        let last = result.steps[result.steps.count - 1]
        let backtestStart = result.steps[min(trainingBars, result.steps.count - 1)].time
        var w = JSONWriter()
        w.beginObject()
        w.member("data", data)
        w.key("bars"); w.integer(bars.count)
        w.member("bar", RangeVolatility.formatHorizon(Double(result.barMs) / 1000))
        w.member("model", kind.rawValue)
        w.member("method", method)
        w.member("horizon", RangeVolatility.formatHorizon(result.horizonSeconds[0]))
        w.key("sub_bar"); w.bool(result.subBar)
        if result.subBar { w.member("range_estimator", estimator.rawValue) }
        if let f = policy.fastLambda { w.member("fast_lambda", DoubleBoundary.shortestText(f)) }
        w.member("coverage", DoubleBoundary.shortestText(coverage))
        w.member("z_normal", DoubleBoundary.shortestText(result.zNormal))
        w.member("z_empirical", DoubleBoundary.shortestText(result.zEmpirical))
        w.member("z", DoubleBoundary.shortestText(result.z))
        w.key("training_bars"); w.integer(trainingBars)
        if let g = result.garch {
            w.key("garch"); w.beginObject()
            w.member("omega", DoubleBoundary.shortestText(g.omega)); w.member("alpha", DoubleBoundary.shortestText(g.alpha)); w.member("beta", DoubleBoundary.shortestText(g.beta))
            w.endObject()
        }
        w.member("as_of", Timestamp.formatISO8601(last.time))
        w.member("volatility_per_bar", DoubleBoundary.shortestText(last.volatility))
        w.key("proposal"); w.beginArray()
        for i in floors.indices {
            w.beginObject()
            w.member("notional_floor", DoubleBoundary.shortestText(floors[i]))
            w.member("horizon_bars", DoubleBoundary.shortestText((result.horizons[i] * 100).rounded() / 100))
            w.member("horizon_seconds", DoubleBoundary.shortestText((result.horizonSeconds[i] * 100).rounded() / 100))
            w.member("mmr", Self.rate(last.rates[i]))
            w.member("raw_mmr", Self.rate(last.raw[i]))
            w.member("static_mmr", DoubleBoundary.shortestText(statics[i]))
            w.endObject()
        }
        w.endArray()
        let outOfSample = result.steps.dropFirst(trainingBars - 1)
        let meanRate = mean(outOfSample.map { $0.rates[0] })
        let peakRate = outOfSample.map { $0.rates[0] }.max() ?? 0
        if let walk {
            w.key("walk_forward"); w.beginObject()
            w.key("refits"); w.integer(walk.refits.count)
            let ks = walk.refits.map(\.choice.multiplier)
            w.member("multiplier_min", DoubleBoundary.shortestText(ks.min() ?? result.z))
            w.member("multiplier_max", DoubleBoundary.shortestText(ks.max() ?? result.z))
            w.key("refits_meeting_all_criteria"); w.integer(walk.refits.filter { $0.choice.criteriaMet == 3 }.count)
            w.endObject()
        }
        w.member("industry_mmr", DoubleBoundary.shortestText(industryRate))
        w.key("backtest"); w.beginObject()
        if dynamic.isEmpty {
            w.member("note", result.subBar ? "a horizon below one bar cannot be backtested on these bars: see validation (--minute-data)" : "no window after training")
        }
        w.member("from", Timestamp.formatISO8601(backtestStart))
        Self.write("dynamic", dynamic, coverage: coverage, meanRate: meanRate, peakRate: peakRate, into: &w)
        if let walk, let withAPC {
            let apcRates = walk.withAPC.steps.dropFirst(trainingBars - 1).map { $0.rates[0] }
            Self.write("dynamic_apc", withAPC, coverage: coverage, meanRate: mean(apcRates), peakRate: apcRates.max() ?? 0, into: &w)
            w.member("apc_cost_mean_mmr", DoubleBoundary.shortestText(mean(apcRates) - meanRate))
        }
        Self.write("static", fixed, coverage: coverage, meanRate: statics[0], peakRate: statics[0], into: &w)
        w.endObject()
        var validationLine = ""
        if let minuteData {
            let fine = Self.loadBars(minuteData)
            let v = SubBarValidation.run(coarse: bars, fine: fine, model: result, coverage: coverage)
            w.key("validation"); w.beginObject()
            w.member("fine_data", minuteData)
            w.key("moves"); w.integer(v.moves)
            w.key("exceedances"); w.integer(v.exceedances)
            w.member("exceedance_rate", DoubleBoundary.shortestText(v.rate))
            w.member("predicted_z", DoubleBoundary.shortestText(v.predictedZ))
            w.member("realized_z", DoubleBoundary.shortestText(v.realizedZ))
            let k = BacktestStatistics.kupiec(observations: max(1, v.moves), exceedances: v.exceedances, coverage: coverage)
            w.member("kupiec_p", DoubleBoundary.shortestText(k.pValue))
            w.endObject()
            validationLine = String(format: "\nvalidation on %@: %d of %d moves exceed (%.3f %%), realized z %.3f against predicted %.3f", minuteData, v.exceedances, v.moves, 100 * v.rate, v.realizedZ, v.predictedZ)
        }
        w.endObject()
        let json = w.string
        let x = dynamic.filter { $0 }.count
        let summary: String
        if dynamic.isEmpty {
            summary = String(format: "first bracket %@ on %@ bars: mean rate %.4f %% (industry %.2f %%), now %.4f %%; sub-bar, not backtestable on these bars", RangeVolatility.formatHorizon(result.horizonSeconds[0]), RangeVolatility.formatHorizon(Double(result.barMs) / 1000), 100 * meanRate, 100 * industryRate, 100 * last.rates[0])
        } else {
            let kp = BacktestStatistics.kupiec(observations: dynamic.count, exceedances: x, coverage: coverage).pValue
            let cp = BacktestStatistics.christoffersenIndependence(dynamic).pValue
            summary = String(format: "first bracket %@ (%@ bars), coverage %.2f %%: mean rate %.4f %% (industry %.2f %%), peak %.3f %%; %d exceedances in %d (%.3f %%); Kupiec p %.3g, Christoffersen p %.3g", RangeVolatility.formatHorizon(result.horizonSeconds[0]), RangeVolatility.formatHorizon(Double(result.barMs) / 1000), 100 * coverage, 100 * meanRate, 100 * industryRate, 100 * peakRate, x, dynamic.count, 100 * Double(x) / Double(dynamic.count), kp, cp)
        }
        output.print(json: json, table: summary + validationLine)
    }

    func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }

    /// A proposed rate, rounded up to 1e-6 (a margin is never rounded down).
    static func rate(_ value: Double) -> String { DoubleBoundary.shortestText((value * 1e6).rounded(.up) / 1e6) }

    /// Bars of one file, or of several comma-separated files joined in time order.
    static func loadBars(_ data: String) -> [Bar] {
        var all: [Bar] = []
        for path in data.split(separator: ",").map(String.init) {
            let text: String
            do { text = try VolatilityCommand.readText(path) } catch { ProcessIO.fail("--data: \(error)", status: 2) }
            do { all += try PriceHistory.parse(text) } catch { ProcessIO.fail("\(path): \(error.description)", status: 2) }
        }
        all.sort { $0.time < $1.time }
        for (a, b) in zip(all, all.dropFirst()) where a.time == b.time { ProcessIO.fail("--data: two bars at \(Timestamp.formatISO8601(a.time))", status: 2) }
        return all
    }

    static func write(_ name: String, _ series: [Bool], coverage: Double, meanRate: Double, peakRate: Double, into w: inout JSONWriter) {
        let exceedances = series.filter { $0 }.count
        w.key(name); w.beginObject()
        w.key("observations"); w.integer(series.count)
        w.key("exceedances"); w.integer(exceedances)
        w.member("exceedance_rate", DoubleBoundary.shortestText(series.isEmpty ? 0 : Double(exceedances) / Double(series.count)))
        w.member("expected_rate", DoubleBoundary.shortestText(1 - coverage))
        w.member("mean_mmr", DoubleBoundary.shortestText(meanRate))
        w.member("peak_mmr", DoubleBoundary.shortestText(peakRate))
        guard series.count >= 2 else { w.endObject(); return }
        for (key, test) in [("kupiec", BacktestStatistics.kupiec(observations: series.count, exceedances: exceedances, coverage: coverage)),
                            ("christoffersen", BacktestStatistics.christoffersenIndependence(series)),
                            ("conditional_coverage", BacktestStatistics.conditionalCoverage(series, coverage: coverage))] {
            w.key(key); w.beginObject()
            w.member("statistic", DoubleBoundary.shortestText(test.statistic))
            w.member("p_value", DoubleBoundary.shortestText(test.pValue))
            w.endObject()
        }
        w.endObject()
    }
}
