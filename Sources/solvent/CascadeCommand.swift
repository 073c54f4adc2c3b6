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
        let table = Self.table(outcomes)
        var w = JSONWriter()
        w.beginObject()
        w.key("accounts"); w.integer(accounts)
        w.key("seed"); w.integer(seed)
        w.member("depth", DoubleBoundary.shortestText(depth))
        w.member("insurance_fund", f)
        w.key("fund_breaks_at"); w.beginObject()
        for kind in kinds {
            w.key(kind.rawValue)
            if let first = outcomes.first(where: { $0.controls == kind && $0.fundBroke }) { w.string(DoubleBoundary.shortestText(first.shock)) } else { w.null() }
        }
        w.endObject()
        w.key("outcomes"); w.beginArray()
        for o in outcomes { Self.write(o, into: &w) }
        w.endArray()
        w.endObject()
        output.print(json: w.string, table: table)
    }

    static func write(_ o: Cascade.Outcome, into w: inout JSONWriter) {
        func number(_ key: String, _ v: Double) { w.member(key, DoubleBoundary.shortestText((v * 1e6).rounded() / 1e6)) }
        w.beginObject()
        number("shock", o.shock)
        w.member("controls", o.controls.rawValue)
        w.key("liquidations"); w.integer(o.liquidations)
        number("liquidated_notional", o.liquidatedNotional)
        number("final_move", o.finalMove)
        number("amplification", o.amplification)
        w.key("rounds"); w.integer(o.rounds)
        number("fund_used", o.fundUsed)
        number("fund_left", o.fundLeft)
        w.key("adl_events"); w.integer(o.adlEvents)
        number("socialized_loss", o.socialized)
        number("bad_debt", o.badDebt)
        w.key("backlog"); w.integer(o.backlog)
        w.key("fund_broke"); w.bool(o.fundBroke)
        w.endObject()
    }

    static func table(_ outcomes: [Cascade.Outcome]) -> String {
        var lines = ["controls  shock  liquidations  notional      final move  amplification  fund used  ADL  backlog"]
        for o in outcomes {
            let cells = [o.controls.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0),
                         String(format: "%5.1f%%", o.shock * 100), String(format: "%12d", o.liquidations),
                         String(format: "%12.0f", o.liquidatedNotional), String(format: "%10.2f%%", o.finalMove * 100),
                         String(format: "%13.2f", o.amplification), String(format: "%9.0f", o.fundUsed),
                         String(format: "%4d", o.adlEvents), String(format: "%8d", o.backlog)]
            lines.append(cells.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }
}
