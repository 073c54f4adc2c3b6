import ArgumentParser
import Foundation
import SolventCore
import SolventLab
import SolventRisk

/// Options shared by the lab commands that read a price history.
struct HistoryOptions: ParsableArguments {
    @Option(name: .long, help: "CSV file: timestamp,open,high,low,close,volume (gzip when it ends in .gz). Default: the shipped 2020-03 crash window.")
    var data: String = "Examples/data/BTCUSDT-1h-2020-03-crash.csv"

    @Option(name: .long, help: "Use bars from this time on (ISO 8601).") var from: String?
    @Option(name: .long, help: "Use bars before this time (ISO 8601).") var to: String?

    func bars() -> [Bar] { Self.load(path: data, from: from, to: to) }

    /// The bars of `path` within [from, to); exits 2 with the reason on bad input.
    static func load(path data: String, from: String?, to: String?) -> [Bar] {
        let text: String
        do { text = try VolatilityCommand.readText(data) } catch { ProcessIO.fail("--data: \(error)", status: 2) }
        var bars: [Bar]
        do { bars = try PriceHistory.parse(text) } catch { ProcessIO.fail("\(data): \(error.description)", status: 2) }
        if let from {
            guard let t = Timestamp.parseISO8601(from) else { ProcessIO.fail("--from: not an ISO 8601 UTC time: \(from)", status: 2) }
            bars = bars.filter { $0.time >= t }
        }
        if let to {
            guard let t = Timestamp.parseISO8601(to) else { ProcessIO.fail("--to: not an ISO 8601 UTC time: \(to)", status: 2) }
            bars = bars.filter { $0.time < t }
        }
        guard bars.count >= 48 else { ProcessIO.fail("--data: needs at least 48 bars in the window, found \(bars.count)", status: 2) }
        return bars
    }
}

/// A progress bar on standard error (only when it is a terminal, or when asked).
struct ProgressBar {
    let label: String
    let enabled: Bool
    var last = -1

    init(label: String, force: Bool) {
        self.label = label
        enabled = force || isatty(2) != 0
    }

    mutating func update(_ fraction: Double) {
        guard enabled else { return }
        let percent = Int((fraction * 100).rounded(.down))
        guard percent != last else { return }
        last = percent
        let filled = percent * 30 / 100
        let line = "\r\(label) [" + String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled) + "] \(percent)%"
        FileHandle.standardError.write(Data((line + (percent >= 100 ? "\n" : "")).utf8))
    }
}

struct BacktestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract: "Replay a price history through the engine with a synthetic book of traders, under several margin models, and compare them.",
        discussion: """
            Models: static (Binance-like tiers), dynamic (EWMA volatility margin with anti-procyclicality), \
            dynamic_raw (the same without anti-procyclicality), calibrated (walk-forward calibrated, --horizon). \
            --minute-data replays every bar the finer bars cover along their own path; --step-seconds sets the \
            liquidation engine's latency (it sees the mark once per step). Prints the comparison table on a terminal (--table), else \
            one JSON document (--json; --days adds the daily series). Deterministic for a given seed (docs/lab.md).
            """)

    @OptionGroup var history: HistoryOptions
    @Option(name: .long, help: "Synthetic traders.") var accounts: Int = 2_000
    @Option(name: .long, help: "Seed of the trader population.") var seed: UInt64 = 1
    @Option(name: .long, help: "Models to run, comma-separated (static, dynamic, dynamic_raw, calibrated).") var models: String = "static,dynamic,dynamic_raw"
    @Option(name: .long, help: "Finer bars of the same market (CSV, .gz; comma-separated files joined): the bars they cover are replayed along their path.") var minuteData: String?
    @Option(name: .long, help: "Liquidation engine latency: it sees the mark and acts once every N seconds (default: at every point of the path).") var stepSeconds: Double?
    @Option(name: .long, help: "Liquidation horizon of the dynamic models' first bracket (1m, 5m, 1h; default one bar).") var horizon: String?
    @Option(name: .long, help: "Opening insurance fund (USDT).") var fund: String = "1000000"
    @Option(name: .long, help: "Grace period of a margin call, in minutes.") var graceMinutes: Int = 30
    @Option(name: .long, help: "Book depth within ±2 % as a fraction of the bar's volume.") var depth: Double = 0.02
    @Option(name: .long, help: "Share of traders who answer margin calls.") var responsive: Double = 0.5
    @Option(name: .long, help: "Confidence of the insurance-fund daily quantile.") var confidence: Double = 0.99
    @Flag(name: .long, help: "Include the daily series in the JSON.") var days = false
    @Flag(name: .long, help: "Show the progress bar even when stderr is not a terminal.") var progress = false
    @OptionGroup var output: OutputOptions

    func run() throws {
        guard accounts >= 1 && accounts <= 1_000_000 else { ProcessIO.fail("--accounts: must be in 1...1000000", status: 2) }
        guard let fundAmount = FixedDecimal(fund), !fundAmount.isNegative else { ProcessIO.fail("--fund: a decimal ≥ 0", status: 2) }
        guard graceMinutes >= 0, depth > 0, (0...1).contains(responsive), confidence > 0 && confidence < 1 else {
            ProcessIO.fail("--grace-minutes ≥ 0, --depth > 0, --responsive in [0, 1], --confidence in (0, 1)", status: 2)
        }
        var kinds: [MarginModel] = []
        for name in models.split(separator: ",") {
            guard let kind = MarginModel(rawValue: String(name)) else { ProcessIO.fail("--models: unknown model \"\(name)\" (static, dynamic, dynamic_raw, calibrated)", status: 2) }
            kinds.append(kind)
        }
        let bars = history.bars()
        var config = BacktestConfig()
        config.accounts = accounts
        config.seed = seed
        config.insuranceFund = fundAmount
        config.gracePeriodMs = Int64(graceMinutes) * 60_000
        config.depthFraction = depth
        config.responsiveShare = responsive
        if let minuteData { config.fineBars = CalibrateCommand.loadBars(minuteData) }
        if let stepSeconds {
            guard stepSeconds >= 0.001 else { ProcessIO.fail("--step-seconds: must be at least 0.001", status: 2) }
            config.stepMs = Int64((stepSeconds * 1000).rounded())
        }
        if let horizon {
            guard let seconds = RangeVolatility.parseHorizon(horizon) else { ProcessIO.fail("--horizon: a number and a unit (30s, 1m, 5m, 1h), got \(horizon)", status: 2) }
            config.dynamicPolicy.horizonSeconds = seconds
        }
        var results: [BacktestResult] = []
        for kind in kinds {
            var bar = ProgressBar(label: "backtest \(kind.rawValue)", force: progress)
            results.append(Backtest.run(bars: bars, model: kind, config: config) { bar.update($0) })
        }
        let json = BacktestDocument.json(dataName: history.data, bars: bars, seed: seed, minuteData: minuteData, stepSeconds: stepSeconds,
                                         results: results, confidence: confidence, days: days)
        output.print(json: json, table: BacktestTable.render(results))
    }
}
