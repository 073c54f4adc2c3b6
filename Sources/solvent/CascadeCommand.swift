import ArgumentParser
import Foundation
import SolventCore
import SolventLab
import SolventRisk

struct CascadeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate-cascade",
        abstract: "Liquidation cascades: an initial shock, liquidations selling into a thin book, more liquidations; with and without throttles, price bands and circuit breakers.",
        discussion: "Prints a table on a terminal (--table) and one JSON document otherwise (--json): per shock and controls, the cascade's size, its amplification of the shock, and where the insurance fund breaks (docs/lab.md).")

    @Option(name: .long, help: "Synthetic traders.") var accounts: Int = 5_000
    @Option(name: .long, help: "Seed of the trader population.") var seed: UInt64 = 1
    @Option(name: .long, help: "Pre-shock price.") var price: String = "10000"
    @Option(name: .long, help: "Book depth within ±2 % of the mark, per side (BTC).") var depth: Double = 150
    @Option(name: .long, help: "Share of the consumed depth restored each round.") var resilience: Double = 0.2
    @Option(name: .long, help: "Opening insurance fund (USDT).") var fund: String = "250000"
    @Option(name: .long, help: "Initial shocks (fractions), comma-separated.") var shocks: String = "0.01,0.02,0.03,0.05,0.08,0.1,0.15,0.2"
    @Option(name: .long, help: "Controls to compare, comma-separated (none, throttle, band, breaker, all).") var controls: String = "none,throttle,band,breaker,all"
    @OptionGroup var output: OutputOptions

    func run() throws {
        guard accounts >= 1 && accounts <= 200_000 else { ProcessIO.fail("--accounts: must be in 1...200000", status: 2) }
        guard let p = FixedDecimal(price), p.isPositive else { ProcessIO.fail("--price: a positive decimal", status: 2) }
        guard let f = FixedDecimal(fund), !f.isNegative else { ProcessIO.fail("--fund: a decimal ≥ 0", status: 2) }
        guard depth > 0, (0...1).contains(resilience) else { ProcessIO.fail("--depth > 0 and --resilience in [0, 1]", status: 2) }
        let shockList = shocks.split(separator: ",").compactMap { Double($0) }
        guard !shockList.isEmpty, shockList.allSatisfy({ $0 > 0 && $0 < 0.9 }) else { ProcessIO.fail("--shocks: fractions in (0, 0.9)", status: 2) }
        var kinds: [Cascade.Controls] = []
        for name in controls.split(separator: ",") {
            guard let kind = Cascade.Controls(rawValue: String(name)) else { ProcessIO.fail("--controls: unknown \"\(name)\"", status: 2) }
            kinds.append(kind)
        }
        var config = Cascade.Config()
        config.accounts = accounts
        config.seed = seed
        config.price = p
        config.depth = depth
        config.resilience = resilience
        config.insuranceFund = f
        let start = Cascade.book(config)
        var outcomes: [Cascade.Outcome] = []
        for kind in kinds { for shock in shockList { outcomes.append(Cascade.run(start, shock: shock, controls: kind, config: config)) } }
        output.print(json: CascadeReport.json(config: config, controls: kinds, outcomes: outcomes), table: CascadeReport.table(outcomes))
    }
}
