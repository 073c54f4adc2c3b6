import Foundation
import SolventCore
import SolventRisk
import SolventTestSupport
import Testing

/// Prices with hourly times from log returns.
private func path(_ returns: [Double], start: Double = 50_000) -> (times: [Int64], prices: [Double]) {
    var prices = [start]
    for r in returns { prices.append(prices[prices.count - 1] * Foundation.exp(r)) }
    return (prices.indices.map { Int64($0) * 3_600_000 }, prices)
}

/// Seeded standard normals (Box–Muller).
private func normals(_ count: Int, seed: UInt64) -> [Double] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in
        let u = Double.random(in: Double.ulpOfOne..<1, using: &rng), v = Double.random(in: 0..<1, using: &rng)
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v)
    }
}

@Suite struct DynamicMarginTests {
    /// Φ⁻¹ against published values (Abramowitz–Stegun tables / scipy.stats.norm.ppf), and Φ(Φ⁻¹(p)) = p.
    @Test func normalQuantile() {
        #expect(abs(NormalDistribution.quantile(0.975) - 1.959963984540054) < 1e-14)
        #expect(abs(NormalDistribution.quantile(0.995) - 2.5758293035489004) < 1e-14)
        #expect(abs(NormalDistribution.quantile(0.9975) - 2.8070337683438042) < 1e-13)
        #expect(abs(NormalDistribution.quantile(1e-10) + 6.361340902404056) < 1e-12)
        for p in stride(from: 0.0005, to: 1, by: 0.0137) {
            #expect(abs(NormalDistribution.cdf(NormalDistribution.quantile(p)) - p) < 1e-15 + 1e-13 * p)
        }
    }

    /// Returns alternating ±1 %: EWMA σ is 1 % per bar, every standardized residual is 1, so the
    /// normal quantile rules: rate = e^{2.807·0.01} − 1 = 0.028468 (hand-computed) for a 1-bar
    /// horizon, ×√4 in the exponent for a 4-bar bracket.
    @Test func constantVolatilityRate() {
        let (times, prices) = path((0..<3_000).map { $0 % 2 == 0 ? 0.01 : -0.01 })
        var policy = DynamicMargin.Policy()
        policy.trainingBars = 500
        policy.stressedWeight = 0
        policy.buffer = 0
        policy.floor = 0
        policy.participation = 1
        let volumes = [Double](repeating: 1, count: prices.count)  // 1 unit/bar ≈ 50,000 notional
        let model = DynamicMargin(times: times, prices: prices, volumes: volumes, bracketFloors: [0, 150_000], policy: policy)
        #expect(model.zEmpirical <= model.zNormal)
        let last = model.steps[model.steps.count - 1]
        #expect(abs(last.volatility - 0.01) < 1e-9)
        #expect(abs(last.raw[0] - (Foundation.exp(2.8070337683438042 * 0.01) - 1)) < 1e-9)
        // Bracket 1 starts at 150,000: horizon 1 + 150,000 / (1 × ~50,000) bars.
        let horizon = model.horizons[1]
        #expect(horizon > 3.9 && horizon < 4.1)
        #expect(abs(last.raw[1] - (Foundation.exp(2.8070337683438042 * 0.01 * horizon.squareRoot()) - 1)) < 1e-9)
    }

    /// On Gaussian returns with constant volatility, the raw model (no APC) covers its target:
    /// the exceedance rate is near 0.5 % and Kupiec does not reject at 1 %.
    @Test func coverageOnGaussianReturns() throws {
        let (times, prices) = path(normals(40_000, seed: 99).map { 0.008 * $0 })
        var policy = DynamicMargin.Policy()
        policy.trainingBars = 5_000
        policy.stressedWeight = 0
        policy.buffer = 0
        policy.floor = 0
        policy.maxRisePerDay = 1_000
        policy.maxFallPerDay = 0.999
        let model = DynamicMargin(times: times, prices: prices, volumes: [Double](repeating: 1_000, count: prices.count), bracketFloors: [0], policy: policy)
        let series = model.exceedances(times: times, prices: prices)
        let rate = Double(series.filter { $0 }.count) / Double(series.count)
        #expect(rate > 0.003 && rate < 0.008, "exceedance rate \(rate)")
    }

    /// Anti-procyclicality: after a volatility shock the rate rises no faster than the daily
    /// limit and falls no faster than its limit; brackets stay ordered; the floor holds.
    @Test func antiProcyclicalLimits() {
        var returns = normals(6_000, seed: 7).map { 0.004 * $0 }
        for t in 3_000..<3_048 { returns[t] *= 8 }  // two days of crash volatility
        let (times, prices) = path(returns)
        var policy = DynamicMargin.Policy()
        policy.trainingBars = 1_000
        let model = DynamicMargin(times: times, prices: prices, volumes: [Double](repeating: 100, count: prices.count),
                                  bracketFloors: [0, 1_000_000, 10_000_000], policy: policy)
        let rise = Foundation.pow(1 + policy.maxRisePerDay, 1.0 / 24), fall = Foundation.pow(1 - policy.maxFallPerDay, 1.0 / 24)
        for (a, b) in zip(model.steps, model.steps.dropFirst()) {
            for i in a.rates.indices {
                #expect(b.rates[i] <= a.rates[i] * rise * (1 + 1e-12))
                #expect(b.rates[i] >= a.rates[i] * fall * (1 - 1e-12))
            }
            #expect(b.rates[0] >= policy.floor * fall)
            #expect(b.rates[0] <= b.rates[1] && b.rates[1] <= b.rates[2])
        }
        // The crash raised the raw rate more than the smoothed one moved in the same hour.
        let jump = model.steps[3_010]
        #expect(jump.raw[0] > model.steps[2_990].raw[0] * 2)
    }

    /// A gap in the data (a missing month) is neither a return nor a move: a price jump across
    /// it changes no volatility and counts as no exceedance.
    @Test func gapsAreNotReturns() {
        let calm = normals(3_000, seed: 3).map { 0.003 * $0 }
        var (times, flat) = path(calm)
        for k in 1_500..<times.count { times[k] += 30 * 86_400_000 }  // a month missing before bar 1,500
        var prices = flat
        for k in 1_500..<prices.count { prices[k] *= 1.5 }             // and +50 % across it
        var policy = DynamicMargin.Policy()
        policy.trainingBars = 500
        let volumes = [Double](repeating: 10, count: prices.count)
        let gapped = DynamicMargin(times: times, prices: prices, volumes: volumes, bracketFloors: [0], policy: policy)
        let noJump = DynamicMargin(times: times, prices: flat, volumes: volumes, bracketFloors: [0], policy: policy)
        let difference = zip(gapped.steps, noJump.steps).map { abs($0.volatility - $1.volatility) / $1.volatility }.max() ?? 0
        #expect(difference < 1e-12)
        #expect(gapped.exceedances(times: times, prices: prices) == noJump.exceedances(times: times, prices: flat))
        let (plainTimes, plainPrices) = path(calm)
        let plain = DynamicMargin(times: plainTimes, prices: plainPrices, volumes: volumes, bracketFloors: [0], policy: policy)
        #expect(gapped.exceedances(times: times, prices: prices).count == plain.exceedances(times: plainTimes, prices: plainPrices).count - 1)
    }
}
