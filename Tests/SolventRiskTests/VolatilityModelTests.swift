import RealModule
import SolventCore
import SolventRisk
import SolventTestSupport
import Testing

@Suite struct VolatilityModelTests {
    /// EWMA by hand: returns 1, −2 with λ = 0.5 from backcast (1 + 0.94·4)/(1.94) = 2.4536…
    @Test func ewmaByHand() {
        let start = (1.0 + 0.94 * 4) / 1.94
        var expected = 0.5 * start + 0.5 * 1
        expected = 0.5 * expected + 0.5 * 4
        #expect(abs(VolatilityModels.ewmaVariance([1, -2], lambda: 0.5) - expected) < 1e-12)
    }

    /// A simulated GARCH(1,1) path (ω 0.05, α 0.08, β 0.9; 20,000 steps, seeded) is fitted back
    /// close to its true parameters, and the fit's likelihood beats the truth's.
    @Test func recoversSimulatedParameters() {
        var rng = SplitMix64(seed: 42)
        func normal() -> Double {
            let u1 = Double(rng.next() >> 11) / Double(1 << 53) + 1e-300, u2 = Double(rng.next() >> 11) / Double(1 << 53)
            return (-2 * Double.log(u1)).squareRoot() * Double.cos(2 * Double.pi * u2)
        }
        var variance = 0.05 / (1 - 0.98), previous = 0.0
        var returns: [Double] = []
        for _ in 0..<20_000 {
            variance = 0.05 + 0.08 * previous * previous + 0.9 * variance
            previous = variance.squareRoot() * normal()
            returns.append(previous)
        }
        let fit = VolatilityModels.fitGarch(returns)
        #expect(abs(fit.alpha - 0.08) < 0.02, "alpha \(fit.alpha)")
        #expect(abs(fit.beta - 0.9) < 0.03, "beta \(fit.beta)")
        #expect(fit.persistence < 1)
        #expect(fit.logLikelihood >= VolatilityModels.garchLogLikelihood(returns, omega: 0.05, alpha: 0.08, beta: 0.9))
    }

    /// Percent log returns of a price series.
    @Test func percentReturns() {
        let returns = VolatilityModels.percentLogReturns([100, 110, 99])
        #expect(abs(returns[0] - 100 * Double.log(1.1)) < 1e-12)
        #expect(abs(returns[1] - 100 * Double.log(0.9)) < 1e-12)
    }
}
