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
        guard let calibrationMethod = CalibrationRequest.Method(rawValue: method) else { ProcessIO.fail("--method: calibrated or fixed, got \(method)", status: 2) }
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
        guard stressQuantile > 0 && stressQuantile < 1 else { ProcessIO.fail("--stress-quantile: must be in (0, 1)", status: 2) }
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
        policy.stressQuantile = stressQuantile
        policy.maxRisePerDay = maxRisePerDay
        policy.maxFallPerDay = maxFallPerDay
        policy.floor = floor
        policy.participation = participation
        let request = CalibrationRequest(dataName: data, fineDataName: minuteData, method: calibrationMethod, policy: policy, bracketFloors: floors,
                                         staticRates: statics, windowBars: windowBars, refitBars: refitBars, industryRate: industryRate)
        let report = CalibrationReport.run(bars: bars, fine: minuteData.map(Self.loadBars), request: request)
        if let exceedancesOut {
            guard FileManager.default.createFile(atPath: exceedancesOut, contents: Data(report.exceedanceLines.utf8)) else { ProcessIO.fail("cannot write \(exceedancesOut)", status: 1) }
        }
        if let pathOut {
            guard FileManager.default.createFile(atPath: pathOut, contents: Data(report.pathCSV.utf8)) else { ProcessIO.fail("cannot write \(pathOut)", status: 1) }
        }
        output.print(json: report.json, table: report.summary)
    }

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
}
