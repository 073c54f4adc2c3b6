import PropertyBased
import SolventCore
import RealModule
import SolventRisk
import Testing

@Suite struct Black76Tests {
    /// At the money, r = 0, σ = 20%, T = 1: d1 = 0.1, d2 = −0.1, so price = F·(2N(0.1) − 1),
    /// delta = N(0.1), vega = F·n(0.1), gamma = n(0.1)/(F·σ). (Hull, "Options, Futures and
    /// Other Derivatives", Black's model.)
    @Test func atTheMoney() {
        let model = Black76(forward: 100, strike: 100, years: 1, volatility: 0.2, rate: 0, isCall: true)
        #expect(abs(model.price - 7.965567455405798) < 1e-12)
        #expect(abs(model.delta - 0.539827837277029) < 1e-14)
        #expect(abs(model.vega - 39.69525474770118) < 1e-11)
        #expect(abs(model.gamma - 0.01984762737385059) < 1e-15)
        // Theta from the Black PDE with r = 0: −½σ²F²Γ.
        #expect(abs(model.theta - (-0.5 * 0.04 * 10_000 * 0.01984762737385059)) < 1e-11)
    }

    /// Put–call parity: C − P = DF·(F − K); call delta − put delta = DF.
    @Test func putCallParity() async {
        await propertyCheck(count: 300, input: Gen.double(in: 0.5...1.8), Gen.double(in: 0.01...3), Gen.double(in: 0.05...2), Gen.double(in: 0...0.1)) { moneyness, years, vol, rate in
            let call = Black76(forward: 65_000, strike: 65_000 * moneyness, years: years, volatility: vol, rate: rate, isCall: true)
            var put = call
            put.isCall = false
            let df = Double.exp(-rate * years)
            #expect(abs((call.price - put.price) - df * (call.forward - call.strike)) < 1e-9 * call.forward)
            #expect(abs((call.delta - put.delta) - df) < 1e-12)
            #expect(abs(call.gamma - put.gamma) < 1e-15)
        }
    }

    /// The implied volatility of a model price is the model's volatility.
    @Test func impliedVolatilityRoundTrip() async {
        var checked = 0  // cases with enough vega to invert: a property that skips every case fails
        await propertyCheck(count: 300, input: Gen.double(in: 0.6...1.6), Gen.double(in: 0.02...2), Gen.double(in: 0.1...1.8), Gen.bool()) { moneyness, years, vol, isCall in
            let model = Black76(forward: 3_200, strike: 3_200 * moneyness, years: years, volatility: vol, rate: 0.03, isCall: isCall)
            guard model.vega > 1e-3 else { return }
            let implied = Black76.impliedVolatility(price: model.price, forward: model.forward, strike: model.strike,
                                                    years: years, rate: 0.03, isCall: isCall)
            #expect(implied.map { abs($0 - vol) <= 1e-9 * vol + 8 * model.price.ulp / model.vega } == true, "vol \(vol) implied \(String(describing: implied))")
            checked += 1
        }
        #expect(checked >= 200, "only \(checked) of 300 cases had vega enough to check")
    }

    /// Prices outside the no-arbitrage range have no implied volatility.
    @Test func impliedVolatilityOutOfRange() {
        #expect(Black76.impliedVolatility(price: 0.5, forward: 100, strike: 90, years: 1, rate: 0, isCall: true) == nil)  // below intrinsic 10
        #expect(Black76.impliedVolatility(price: 101, forward: 100, strike: 90, years: 1, rate: 0, isCall: true) == nil)  // above F
    }

    /// Doubles cross into decimals at one boundary, written without exponents.
    @Test func boundaryText() {
        #expect(DoubleBoundary.text(1.5e-7) == "0.00000015")
        #expect(DoubleBoundary.text(2.5e21) == "2500000000000000000000")
        #expect(DoubleBoundary.text(-3.25) == "-3.25")
        #expect(DoubleBoundary.text(42.0) == "42")
        #expect(DoubleBoundary.decimal(0.1) == FixedDecimal("0.1"))
        #expect(DoubleBoundary.double(FixedDecimal("65000.5")!) == 65000.5)
        #expect(DoubleBoundary.decimal(.infinity) == nil)
    }
}
