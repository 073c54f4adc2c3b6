import Foundation
import Benchmark
import SolventCore
import SolventRisk
import SolventTestSupport

/// Scenario margin on options: the book of scripts/peers/options_grid.py (1,000 European
/// options, seeded: forward 30,000–70,000, strikes 0.5–1.5× forward, 1–365 days, vols 0.3–1.2,
/// calls and puts, rate 0) revalued under the default 41 scenarios. One iteration = 41,000
/// revaluations; revaluations/s = 41,000 / wall clock.
func optionsBenchmarks() {
    struct Option { var forward: Double; var strike: Double; var years: Double; var vol: Double; var isCall: Bool }
    func book() -> [Option] {
        var rng = SplitMix64(seed: 2024)
        return (0..<1_000).map { _ in
            let forward = Double.random(in: 30_000...70_000, using: &rng)
            return Option(forward: forward, strike: forward * Double.random(in: 0.5...1.5, using: &rng),
                          years: Double.random(in: 1...365, using: &rng) / 365, vol: Double.random(in: 0.3...1.2, using: &rng),
                          isCall: Bool.random(using: &rng))
        }
    }
    let policy = PortfolioPolicy()
    let scenarios = policy.scenarios(range: policy.priceRange)

    // The grid pricer alone (what QuantLib and numpy compute in scripts/bench-peers).
    Benchmark("options scenario grid, 1000 options x 41 scenarios",
              configuration: .init(metrics: [.wallClock, .mallocCountTotal, .throughput], maxDuration: .seconds(10), maxIterations: 2_000)) { benchmark in
        let options = book()
        let moves = scenarios.map { 1 + DoubleBoundary.double($0.move) }
        let logs = moves.map { $0 > 0 ? log($0) : -Double.infinity }
        let shocks = scenarios.map(\.volShock)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var total = 0.0
            for option in options {
                let grid = OptionGrid(forward: option.forward, strike: option.strike, years: option.years, rate: 0, isCall: option.isCall)
                let shock = policy.volShockSize(years: option.years)
                let vols = (max(0.01, option.vol * (1 - shock)), option.vol, option.vol * (1 + shock))
                for s in 0..<moves.count {
                    let vol = shocks[s] == .down ? vols.0 : (shocks[s] == .none ? vols.1 : vols.2)
                    total += grid.value(growth: moves[s], logGrowth: logs[s], vol: vol)
                }
            }
            blackHole(total)
        }
        benchmark.stopMeasurement()
    }

    // Whole scenario margin of one portfolio account holding the 1,000 options (decimal
    // accumulation, worst case, credits), through the evaluate contract's code path.
    Benchmark("portfolio margin, 1 account x 1000 options x 41 scenarios",
              configuration: .init(metrics: [.wallClock, .mallocCountTotal], maxDuration: .seconds(10), maxIterations: 2_000)) { benchmark in
        let options = book()
        let brackets = try! BracketTable(rows: [BracketTable.Row(floor: .zero, cap: FixedDecimal(1_000_000_000), maxLeverage: FixedDecimal(10), mmr: FixedDecimal("0.05")!, amount: nil)])
        var instruments: [Instrument] = []
        var vols: [Int: FixedDecimal] = [:]
        let now: Int64 = 1_700_000_000_000
        for (k, option) in options.enumerated() {
            instruments.append(Instrument(symbol: "O\(k)", kind: .option(right: option.isCall ? .call : .put, strike: DoubleBoundary.decimal(option.strike.rounded())!,
                                                                         expiry: now + Int64(option.years * 31_536_000_000), underlying: "BTC"),
                                          base: "BTC", settle: "USDT", contractSize: .one, brackets: brackets))
            vols[k] = DoubleBoundary.decimal((option.vol * 1000).rounded() / 1000)!
        }
        let market = Market(assets: [Asset(symbol: "USDT", price: .one, haircut: .zero), Asset(symbol: "BTC", price: FixedDecimal(50_000), haircut: .zero)],
                            instruments: instruments, marks: [FixedDecimal?](repeating: nil, count: instruments.count))
        let account = Account(id: "book", settle: 0, collateral: [CollateralBalance(asset: 0, amount: FixedDecimal(10_000_000))],
                              positions: instruments.indices.map { Position(instrument: $0, quantity: $0 % 2 == 0 ? .one : -FixedDecimal.one, entryPrice: FixedDecimal(1_000), leverage: nil, marginMode: .cross) })
        let margin = PortfolioMargin(market: market, policy: .standard, portfolio: policy, options: OptionInputs(valuationTime: now, impliedVols: vols))
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(margin.evaluate(account)) }
        benchmark.stopMeasurement()
    }
}
