import ArgumentParser
import SolventCore
import SolventRisk

struct OptionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "option",
        abstract: "Black-76 price and greeks of a European option on a forward; with --price, the implied volatility.",
        discussion: """
            Prints a table on a terminal; with --json, or when standard output is not a terminal, \
            {"price","delta","gamma","vega","theta"[,"implied_vol"]} as decimal strings. Vega is per 1.00 of volatility, theta per year.

            Exit status: 0 printed; 2 bad input (the message names the flag).
            """)

    @Option(name: .long, help: "Forward (or future) price, > 0.") var forward: String
    @Option(name: .long, help: "Strike, > 0.") var strike: String
    @Option(name: .long, help: "Time to expiry in years, > 0.") var years: String
    @Option(name: .long, help: "Implied volatility per √year (0.6 = 60%), > 0.") var vol: String
    @Option(name: .long, help: "Continuously compounded rate (0.05 = 5%).") var rate: String = "0"
    @Option(name: .long, help: "call or put.") var right: String
    @Option(name: .long, help: "An observed premium: also print the implied volatility.") var price: String?
    @OptionGroup var output: OutputOptions

    func run() throws {
        // These flags are in the floating-point domain (Black-76 runs on Double): any float text,
        // with 17+ significant digits or an exponent, is read as Swift's `Double(_:)` reads it.
        func number(_ text: String, _ name: String, positive: Bool) -> Double {
            guard let value = Double(text), value.isFinite else {
                ProcessIO.fail("--\(name): not a finite number: \"\(text)\"", status: 2)
            }
            if positive && !(value > 0) { ProcessIO.fail("--\(name): must be positive, got \(text)", status: 2) }
            return value
        }
        guard right == "call" || right == "put" else { ProcessIO.fail("--right: must be call or put, got \"\(right)\"", status: 2) }
        let model = Black76(forward: number(forward, "forward", positive: true), strike: number(strike, "strike", positive: true),
                            years: number(years, "years", positive: true), volatility: number(vol, "vol", positive: true),
                            rate: number(rate, "rate", positive: false), isCall: right == "call")
        var writer = JSONWriter()
        writer.beginObject()
        var rows: [(String, String)] = []
        for (name, value, label) in [("price", model.price, "price"), ("delta", model.delta, "delta"), ("gamma", model.gamma, "gamma"),
                                     ("vega", model.vega, "vega (per 1.00 of vol)"), ("theta", model.theta, "theta (per year)")] {
            writer.member(name, DoubleBoundary.shortestText(value))
            rows.append((label, DoubleBoundary.shortestText(value)))
        }
        if let price {
            let observed = number(price, "price", positive: true)
            let implied = Black76.impliedVolatility(price: observed, forward: model.forward, strike: model.strike, years: model.years,
                                                    rate: model.rate, isCall: model.isCall)
            writer.key("implied_vol")
            if let implied { writer.string(DoubleBoundary.shortestText(implied)) } else { writer.null() }
            rows.append(("implied vol (premium \(price))", implied.map(DoubleBoundary.shortestText) ?? "none"))
        }
        writer.endObject()
        output.print(json: writer.string, title: "Black-76 \(right), forward \(forward), strike \(strike), \(years) y, vol \(vol), rate \(rate)", rows: rows)
    }
}
