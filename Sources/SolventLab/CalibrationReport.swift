import Foundation
public import SolventCore
public import SolventRisk

/// What `solvent calibrate` computes, as a function of typed inputs (the command only parses
/// its flags, reads the bars and writes the outputs): the proposed maintenance rates per
/// bracket, the out-of-sample backtest of the dynamic and the static table (Kupiec,
/// Christoffersen; docs/dynamic-margin.md) and, with finer bars, the sub-bar validation.
public struct CalibrationRequest: Sendable {
    /// `calibrated`: the walk-forward lowest passing multiplier; `fixed`: the training-quantile model.
    public enum Method: String, Sendable, Hashable { case calibrated, fixed }
    /// The data as named on the command line (shown in the report).
    public var dataName: String
    /// The finer bars' name, when they validate a sub-bar horizon.
    public var fineDataName: String?
    public var method: Method
    /// The model's parameters (coverage, volatility model, horizon, training bars, APC add-on).
    public var policy: DynamicMargin.Policy
    /// Bracket notional floors, ascending from 0.
    public var bracketFloors: [Double]
    /// The static table's maintenance rates, one per bracket.
    public var staticRates: [Double]
    /// Walk-forward window and refit interval in bars (nil: the defaults of `MarginCalibration.run`).
    public var windowBars: Int?
    public var refitBars: Int?
    /// The industry's first-bracket rate, printed alongside.
    public var industryRate: Double

    public init(dataName: String, fineDataName: String?, method: Method, policy: DynamicMargin.Policy, bracketFloors: [Double], staticRates: [Double],
                windowBars: Int?, refitBars: Int?, industryRate: Double) {
        self.dataName = dataName
        self.fineDataName = fineDataName
        self.method = method
        self.policy = policy
        self.bracketFloors = bracketFloors
        self.staticRates = staticRates
        self.windowBars = windowBars
        self.refitBars = refitBars
        self.industryRate = industryRate
    }
}

/// The calibration's results and their renderings (the command's JSON document and table line,
/// the exceedance flags and the rate path).
public struct CalibrationReport: Sendable {
    /// The fitted model (its steps are the rate path) and its bracket floors.
    public let model: DynamicMargin
    public let bracketFloors: [Double]
    /// Out-of-sample exceedances of the dynamic first bracket (one flag per backtested bar).
    public let exceedances: [Bool]
    /// The JSON document of `solvent calibrate --json`.
    public let json: String
    /// The one-line summary (and validation line) of `solvent calibrate --table`.
    public let summary: String

    /// The exceedance flags, `0`/`1` one a line.
    public var exceedanceLines: String { exceedances.map { $0 ? "1" : "0" }.joined(separator: "\n") + "\n" }

    /// The rate path: CSV of time, volatility, the rate of each bracket.
    public var pathCSV: String {
        var csv = "time,volatility," + bracketFloors.indices.map { "rate_\($0)" }.joined(separator: ",") + "\n"
        for step in model.steps {
            csv += Timestamp.formatISO8601(step.time) + "," + DoubleBoundary.shortestText(step.volatility) + ","
                + step.rates.map { DoubleBoundary.shortestText($0) }.joined(separator: ",") + "\n"
        }
        return csv
    }

    /// Fits, backtests and reports. `bars` must hold more than `policy.trainingBars + 50` bars;
    /// `fine` (with `request.fineDataName`) validates a sub-bar horizon.
    public static func run(bars: [Bar], fine: [Bar]?, request: CalibrationRequest) -> CalibrationReport {
        let policy = request.policy, floors = request.bracketFloors, statics = request.staticRates
        let coverage = policy.coverage, trainingBars = policy.trainingBars
        let times = bars.map(\.time)
        let prices = bars.map { DoubleBoundary.double($0.close) }
        let volumes = bars.map { DoubleBoundary.double($0.volume) }
        let opens = bars.map { DoubleBoundary.double($0.open) }, highs = bars.map { DoubleBoundary.double($0.high) }, lows = bars.map { DoubleBoundary.double($0.low) }
        let walk: MarginCalibration.Result? = request.method == .calibrated
            ? MarginCalibration.run(times: times, prices: prices, volumes: volumes, bracketFloors: floors, policy: policy,
                                    opens: opens, highs: highs, lows: lows, windowBars: request.windowBars, stepBars: request.refitBars)
            : nil
        let result = walk?.calibrated ?? DynamicMargin(times: times, prices: prices, volumes: volumes, bracketFloors: floors, policy: policy,
                                                       opens: opens, highs: highs, lows: lows)
        let dynamic = result.exceedances(times: times, prices: prices)
        let withAPC = walk.map { $0.withAPC.exceedances(times: times, prices: prices) }
        let fixed = result.exceedances(times: times, prices: prices, staticRate: statics[0])
        let last = result.steps[result.steps.count - 1]
        let backtestStart = result.steps[min(trainingBars, result.steps.count - 1)].time
        var w = JSONWriter()
        w.beginObject()
        w.member("data", request.dataName)
        w.key("bars"); w.integer(bars.count)
        w.member("bar", RangeVolatility.formatHorizon(Double(result.barMs) / 1000))
        w.member("model", policy.model.rawValue)
        w.member("method", request.method.rawValue)
        w.member("horizon", RangeVolatility.formatHorizon(result.horizonSeconds[0]))
        w.key("sub_bar"); w.bool(result.subBar)
        if result.subBar { w.member("range_estimator", policy.rangeEstimator.rawValue) }
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
            w.member("mmr", rate(last.rates[i]))
            w.member("raw_mmr", rate(last.raw[i]))
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
        w.member("industry_mmr", DoubleBoundary.shortestText(request.industryRate))
        w.key("backtest"); w.beginObject()
        if dynamic.isEmpty {
            w.member("note", result.subBar ? "a horizon below one bar cannot be backtested on these bars: see validation (--minute-data)" : "no window after training")
        }
        w.member("from", Timestamp.formatISO8601(backtestStart))
        write("dynamic", dynamic, coverage: coverage, meanRate: meanRate, peakRate: peakRate, into: &w)
        if let walk, let withAPC {
            let apcRates = walk.withAPC.steps.dropFirst(trainingBars - 1).map { $0.rates[0] }
            write("dynamic_apc", withAPC, coverage: coverage, meanRate: mean(apcRates), peakRate: apcRates.max() ?? 0, into: &w)
            w.member("apc_cost_mean_mmr", DoubleBoundary.shortestText(mean(apcRates) - meanRate))
        }
        write("static", fixed, coverage: coverage, meanRate: statics[0], peakRate: statics[0], into: &w)
        w.endObject()
        var validationLine = ""
        if let fine, let fineName = request.fineDataName {
            let v = SubBarValidation.run(coarse: bars, fine: fine, model: result, coverage: coverage)
            w.key("validation"); w.beginObject()
            w.member("fine_data", fineName)
            w.key("moves"); w.integer(v.moves)
            w.key("exceedances"); w.integer(v.exceedances)
            w.member("exceedance_rate", DoubleBoundary.shortestText(v.rate))
            w.member("predicted_z", DoubleBoundary.shortestText(v.predictedZ))
            w.member("realized_z", DoubleBoundary.shortestText(v.realizedZ))
            let k = BacktestStatistics.kupiec(observations: max(1, v.moves), exceedances: v.exceedances, coverage: coverage)
            w.member("kupiec_p", DoubleBoundary.shortestText(k.pValue))
            w.endObject()
            validationLine = String(format: "\nvalidation on %@: %d of %d moves exceed (%.3f %%), realized z %.3f against predicted %.3f",
                                    fineName, v.exceedances, v.moves, 100 * v.rate, v.realizedZ, v.predictedZ)
        }
        w.endObject()
        let x = dynamic.filter { $0 }.count
        let horizon = RangeVolatility.formatHorizon(result.horizonSeconds[0]), bar = RangeVolatility.formatHorizon(Double(result.barMs) / 1000)
        let summary: String
        if dynamic.isEmpty {
            summary = String(format: "first bracket %@ on %@ bars: mean rate %.4f %% (industry %.2f %%), now %.4f %%; sub-bar, not backtestable on these bars",
                             horizon, bar, 100 * meanRate, 100 * request.industryRate, 100 * last.rates[0])
        } else {
            let kp = BacktestStatistics.kupiec(observations: dynamic.count, exceedances: x, coverage: coverage).pValue
            let cp = BacktestStatistics.christoffersenIndependence(dynamic).pValue
            summary = String(format: "first bracket %@ (%@ bars), coverage %.2f %%: mean rate %.4f %% (industry %.2f %%), peak %.3f %%; %d exceedances in %d (%.3f %%); Kupiec p %.3g, Christoffersen p %.3g",
                             horizon, bar, 100 * coverage, 100 * meanRate, 100 * request.industryRate, 100 * peakRate, x, dynamic.count,
                             100 * Double(x) / Double(dynamic.count), kp, cp)
        }
        return CalibrationReport(model: result, bracketFloors: floors, exceedances: dynamic, json: w.string, summary: summary + validationLine)
    }

    static func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }

    /// A proposed rate, rounded up to 1e-6 (a margin is never rounded down).
    static func rate(_ value: Double) -> String { DoubleBoundary.shortestText((value * 1e6).rounded(.up) / 1e6) }

    /// One backtested series: observations, exceedances, their rate against the expected one,
    /// mean and peak rate, and (from two observations) Kupiec, Christoffersen and conditional coverage.
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
