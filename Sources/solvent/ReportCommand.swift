import ArgumentParser
import Foundation
import SolventCore
import SolventLab
import SolventRisk

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML risk report: backtests of the margin models, the capital-against-shortfall frontier, calibration with Kupiec and Christoffersen tests, insurance-fund sizing, liquidation cascades and the incident library.",
        discussion: "Runs on the shipped 2020-03 crash window by default; any CSV of data/ works (--data). SVG plots, no external assets.")

    @OptionGroup var history: HistoryOptions
    @Option(name: .long, help: "Where to write the HTML file.") var out: String = "solvent-report.html"
    @Option(name: .long, help: "Synthetic traders in the backtests.") var accounts: Int = 2_000
    @Option(name: .long, help: "Seed of the trader population.") var seed: UInt64 = 1
    @Option(name: .long, help: "Traders in the cascade simulations.") var cascadeAccounts: Int = 500
    @Option(name: .long, help: "Coverage target of the calibration.") var coverage: Double = 0.995
    @Option(name: .long, help: "Insurance fund of the backtests and the frontier (USDT); the recommendation is read for it.") var fund: String = "1000000"
    @Option(name: .long, help: "Traders in the frontier's backtests (default: --accounts).") var frontierAccounts: Int?
    @Option(name: .long, help: "Traders per incident replay (0: no incident section).") var incidentAccounts: Int = 300
    @OptionGroup var root: DataRootOption
    @Flag(name: .long, help: "Show progress bars even when stderr is not a terminal.") var progress = false

    func run() throws {
        guard accounts >= 1 && accounts <= 1_000_000, cascadeAccounts >= 0 && cascadeAccounts <= 200_000 else {
            ProcessIO.fail("--accounts in 1...1000000, --cascade-accounts in 0...200000", status: 2)
        }
        guard coverage > 0.5 && coverage < 1 else { ProcessIO.fail("--coverage: must be in (0.5, 1)", status: 2) }
        let bars = history.bars()
        guard let fundAmount = FixedDecimal(fund), !fundAmount.isNegative else { ProcessIO.fail("--fund: a decimal ≥ 0", status: 2) }
        guard (frontierAccounts ?? 1) >= 1, incidentAccounts >= 0 else { ProcessIO.fail("--frontier-accounts ≥ 1, --incident-accounts ≥ 0", status: 2) }
        var config = BacktestConfig()
        config.accounts = accounts
        config.seed = seed
        config.insuranceFund = fundAmount
        var results: [BacktestResult] = []
        for model in MarginModel.allCases {
            var bar = ProgressBar(label: "backtest \(model.rawValue)", force: progress)
            results.append(Backtest.run(bars: bars, model: model, config: config) { bar.update($0) })
        }
        let sizings = results.map { InsuranceFundSizing(result: $0) }
        // Calibration on the same history (training: a third of it, at most a year).
        var policy = DynamicMargin.Policy()
        policy.coverage = coverage
        policy.trainingBars = min(policy.trainingBars, max(20, bars.count / 3))
        let times = bars.map(\.time)
        let prices = bars.map { DoubleBoundary.double($0.close) }
        let table = Backtest.staticTiers
        policy.fastLambda = 0.7
        let walk = MarginCalibration.run(times: times, prices: prices, volumes: bars.map { DoubleBoundary.double($0.volume) },
                                         bracketFloors: table.brackets.map { DoubleBoundary.double($0.notionalFloor) }, policy: policy,
                                         opens: bars.map { DoubleBoundary.double($0.open) }, highs: bars.map { DoubleBoundary.double($0.high) },
                                         lows: bars.map { DoubleBoundary.double($0.low) })
        let calibration = walk.calibrated
        let staticRates = table.brackets.map { DoubleBoundary.double($0.maintenanceMarginRate) }
        var cascade: [Cascade.Outcome] = []
        if cascadeAccounts > 0 {
            var cascadeConfig = Cascade.Config()
            cascadeConfig.accounts = cascadeAccounts
            cascadeConfig.seed = seed
            cascadeConfig.price = bars[bars.count - 1].close
            cascadeConfig.depth = 150 * Double(cascadeAccounts) / 5_000
            cascadeConfig.insuranceFund = FixedDecimal(Int(50 * cascadeAccounts))
            let start = Cascade.book(cascadeConfig)
            var bar = ProgressBar(label: "cascades", force: progress)
            let shocks = [0.02, 0.05, 0.08, 0.12, 0.16, 0.2]
            for (k, controls) in Cascade.Controls.allCases.enumerated() {
                for shock in shocks { cascade.append(Cascade.run(start, shock: shock, controls: controls, config: cascadeConfig)) }
                bar.update(Double(k + 1) / Double(Cascade.Controls.allCases.count))
            }
        }
        var frontierConfig = config
        frontierConfig.accounts = frontierAccounts ?? accounts
        frontierConfig.sampleRatios = false
        var frontierBar = ProgressBar(label: "frontier", force: progress)
        let frontier = Frontier.run(bars: bars, variants: Frontier.defaultVariants(barMs: DynamicMargin.barInterval(times)), config: frontierConfig) { frontierBar.update($0) }
        var incidents: [Incidents.Outcome] = []
        if incidentAccounts > 0 {
            var incidentConfig = Incidents.Config()
            incidentConfig.accounts = incidentAccounts
            incidentConfig.seed = seed
            incidentConfig.insuranceFund = FixedDecimal(50 * incidentAccounts)
            incidents = IncidentsCommand.replayAll(root: root.path, config: incidentConfig)
        }
        var input = RiskReportInput(
            dataName: history.data, bars: bars, accounts: accounts, seed: seed, results: results, sizings: sizings, calibration: calibration,
            staticRates: staticRates, coverage: coverage, dynamicExceedances: calibration.exceedances(times: times, prices: prices),
            staticExceedances: calibration.exceedances(times: times, prices: prices, staticRate: staticRates[0]),
            cascade: cascade, cascadeAccounts: cascadeAccounts)
        input.withAPC = walk.withAPC
        input.apcExceedances = walk.withAPC.exceedances(times: times, prices: prices)
        input.frontier = frontier
        input.fund = DoubleBoundary.double(fundAmount)
        input.incidents = incidents
        guard FileManager.default.createFile(atPath: out, contents: Data(RiskReport.html(input).utf8)) else { ProcessIO.fail("cannot write \(out)", status: 1) }
        ProcessIO.writeStderr(BacktestTable.render(results).trimmingCharacters(in: .newlines))
        if !incidents.isEmpty { ProcessIO.writeStderr(Incidents.table(incidents).trimmingCharacters(in: .newlines)) }
        ProcessIO.writeStdout("{\"report\":\"\(out)\",\"bars\":\(bars.count),\"models\":\(results.count),\"frontier\":\(frontier.count),\"incidents\":\(incidents.count),\"cascades\":\(cascade.count)}\n")
    }
}
