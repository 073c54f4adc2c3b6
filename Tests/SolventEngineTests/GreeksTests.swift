import SolventCore
import SolventEngine
import SolventRisk
import Testing

/// Greeks on request (Engine+Greeks.swift, docs/options.md "Greeks"): per position and the
/// totals per pool and underlying, in the documented units.
@Suite struct GreeksTests {
    /// Standard account `s` holds +2 BTC-60000-C (σ 0.60), −3 BTC-40000-P (σ 0.70) and +1
    /// BTCUSDT; F = 50,000, T = 30/365 (the valuation time is the start), rate 0. Expected values
    /// from QuantLib 1.x `BlackCalculator` (deltaForward, gammaForward, vega(T); theta from the
    /// Black PDE −½σ²F²Γ), independent of this code: per unit, call Δ 0.1650502606467712,
    /// Γ 2.8867535361669323e-05, ∂V/∂σ 3559.011208972928, θ/yr −12990.390912751196; put Δ
    /// −0.11270677892478387, Γ 1.906842249306202e-05, ∂V/∂σ 2742.71830379659, θ/yr
    /// −11679.408777000486. Position greeks: × q·cs, vega / 100 (per vol point), theta / 365.
    @Test func standardAccountGreeksMatchQuantLib() throws {
        var engine = try OptionBook.engine()
        let t = OptionBook.startTime + 1_000
        for (symbol, quantity, price) in [("BTC-60000-C", "2", "1000"), ("BTC-40000-P", "-3", "500"), ("BTCUSDT", "1", "50000")] {
            let events = engine.apply(at(t, .fill(account: "s", symbol: symbol, quantity: dec(quantity), price: dec(price), fee: .zero, orderID: nil)))
            #expect(!events.contains { $0.kind == .rejected }, "\(events.map(\.json))")
        }
        let greeks = try #require(engine.greeks(of: "s"))
        #expect(greeks.valuationTime == OptionBook.startTime)
        func close(_ value: FixedDecimal?, _ expected: Double) -> Bool {  // a position greek is nil only beyond the range
            guard let value else { return false }
            return abs(DoubleBoundary.double(value) - expected) <= 1e-9 * max(1, abs(expected))
        }
        let expected: [String: (Double, Double, Double, Double)] = [
            "BTC-60000-C": (0.3301005212935424, 5.7735070723338646e-05, 71.18022417945856, -71.1802241794586),
            "BTC-40000-P": (0.3381203367743516, -5.720526747918606e-05, -82.28154911389771, 95.99514063288072),
            "BTCUSDT": (1, 0, 0, 0),
        ]
        var checked = 0
        for p in greeks.positions {
            let e = try #require(expected[p.symbol])
            #expect(close(p.delta, e.0) && close(p.gamma, e.1) && close(p.vega, e.2) && close(p.theta, e.3), "\(p)")
            #expect(p.pool == "cross" && p.underlying == "BTCUSDT")
            checked += 1
        }
        #expect(checked == 3)
        #expect(greeks.totals.count == 1)
        let total = try #require(greeks.totals.first)
        #expect(close(total.delta, 1.6682208580678939) && close(total.gamma, 5.298032441525827e-07)
                && close(total.vega, -11.101324934439145) && close(total.theta, 24.814916453422104), "\(total)")
        #expect(greeks.json.contains("\"totals\":[{\"pool\":\"cross\",\"underlying\":\"BTCUSDT\""))
        #expect(!total.saturated && greeks.json.contains("\"saturated\":false"))
        #expect(engine.greeks(of: "nobody") == nil)
    }

    /// A portfolio account's positions are in the `portfolio` pool; the greeks agree with the
    /// delta scenario margin reports (`PortfolioMargin`'s option valuation, the same inputs).
    @Test func portfolioAccountDeltaAgreesWithScenarioMargin() throws {
        var engine = try OptionBook.engine()
        let t = OptionBook.startTime + 1_000
        _ = engine.apply(at(t, .fill(account: "p", symbol: "BTC-60000-C", quantity: dec("-5"), price: dec("1000"), fee: .zero, orderID: nil)))
        let greeks = try #require(engine.greeks(of: "p"))
        let evaluation = try #require(engine.portfolioEvaluation(of: "p"))
        let option = try #require(evaluation.positions.first?.option)
        #expect(greeks.positions.count == 1 && greeks.positions[0].pool == "portfolio")
        #expect(abs(DoubleBoundary.double(try #require(greeks.positions[0].delta)) - (-5 * option.delta)) < 1e-12)
        #expect(greeks.positions[0].vega?.isNegative == true && greeks.positions[0].theta?.isPositive == true)  // short an option
    }
}
