import SolventCore
import SolventEngine
import SolventRisk
import Testing

/// The greeks of inverse contracts share Deribit's coin units (docs/options.md "Greeks"): an
/// inverse perpetual's delta is `F·∂V/∂F = q·cs/F` coins of underlying (its USD notional over the
/// mark) and its gamma `−q·cs/F²` per USD, the units of a coin-settled option's `Δ − v`, so the
/// total per pool and underlying is the pool's coin delta (`Engine.coinPoolDelta`, which sums
/// `s·Q/F` for the perpetual) before that one's 10⁻⁸ quantization.
@Suite struct InverseGreeksUnitsTests {
    @Test func inversePerpetualDeltaIsCoinsOfUnderlying() throws {
        var engine = try InverseOptionBook.engine()
        let t0 = InverseOptionBook.startTime
        // 100 contracts of 10 USD long at a mark of 50,000: 1,000 USD = 0.02 BTC of exposure.
        _ = engine.apply(at(t0, .fill(account: "s", symbol: "BTC-PERP", quantity: dec("100"), price: dec("50000"), fee: .zero, orderID: nil)))
        _ = engine.apply(at(t0 + 1, .fill(account: "s", symbol: "BTC-60000-C", quantity: dec("-2"), price: dec("0.02"), fee: .zero, orderID: nil)))
        let greeks = try #require(engine.greeks(of: "s"))
        let perp = try #require(greeks.positions.first { $0.symbol == "BTC-PERP" })
        // Computed in Double across the boundary (as every greek): equal to ~1e-15 relative.
        #expect(abs(DoubleBoundary.double(perp.delta ?? .max) - 0.02) <= 1e-15, "1,000 USD / 50,000 = 0.02 BTC, got \(String(describing: perp.delta))")
        #expect(abs(DoubleBoundary.double(perp.gamma ?? .max) + 4e-7) <= 1e-20, "−1,000 / 50,000² = −4e-7 BTC per USD")
        let call = try #require(greeks.positions.first { $0.symbol == "BTC-60000-C" })
        // The call's coin delta (InverseOptionsEngineTests.greeksInCoin, scipy): Δ − v = 0.15109544418653406 per BTC.
        #expect(abs(DoubleBoundary.double(call.delta ?? .max) + 2 * 0.15109544418653406) <= 1e-9)
        let total = try #require(greeks.totals.first { $0.underlying == "BTC-PERP" })
        #expect(total.delta == (perp.delta ?? .max) + (call.delta ?? .max), "one total over the perpetual and the option")
        let pool = engine.coinPoolDelta(try #require(engine.state.accounts.first { $0.id == "s" }), base: "BTC")
        #expect(abs(DoubleBoundary.double(pool - total.delta)) <= 2e-8, "the total is the pool's coin delta: \(pool) vs \(total.delta)")
        #expect(greeks.totals.count == 1)
    }
}
