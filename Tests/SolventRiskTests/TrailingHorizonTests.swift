import Foundation
import SolventCore
import SolventRisk
import SolventTestSupport
import Testing

/// The larger brackets' liquidation horizons come from a trailing, walk-forward median of the
/// traded notional per bar (docs/dynamic-margin.md, "Horizon in time"): 30 days ending at the bar.
@Suite struct TrailingHorizonTests {
    private static let day: Int64 = 86_400_000

    private static func policy() -> DynamicMargin.Policy {
        var policy = DynamicMargin.Policy().withoutAPC
        policy.trainingBars = 20
        policy.participation = 0.1
        return policy
    }

    /// Hand-computed: daily bars at a constant price 100, volume 1 for bars 0–29 and 4 from bar 30
    /// (notional per bar 100, then 400). Bracket 1 starts at 1,000, participation 10 %:
    /// with a median of 100, h = 1 + 1,000 / (0.1 · 100) = 101 bars; with 400, h = 1 + 1,000 / 40 = 26.
    /// At bar t ≥ 30 the 30-day window holds bars t−29 … t: 59 − t at 100 and t − 29 at 400; the
    /// (upper) median is the 16th smallest (index 15), 400 once 59 − t ≤ 15, i.e. from t = 44.
    @Test func horizonFallsAfterVolumeStep() {
        let count = 60
        let times = (0..<count).map { Int64($0) * Self.day }
        let prices = [Double](repeating: 100, count: count)
        let volumes = (0..<count).map { $0 < 30 ? 1.0 : 4.0 }
        let model = DynamicMargin(times: times, prices: prices, volumes: volumes, bracketFloors: [0, 1_000], policy: Self.policy())
        var checked = 0
        for step in model.steps {
            let t = Int(step.time / Self.day)
            let expected = t < 44 ? 101.0 : 26.0
            #expect(abs(step.horizons[1] - expected) < 1e-9, "bar \(t): \(step.horizons[1])")
            #expect(step.horizons[0] == 1)
            #expect(step.medianNotional == (t < 44 ? 100 : 400))
            checked += 1
        }
        #expect(checked == count - 1)
        // The proposal's horizon is the one as of the last bar: the deeper market's.
        #expect(abs(model.horizons[1] - 26) < 1e-9)
        #expect(abs(model.horizonSeconds[1] - 26 * 86_400) < 1e-6)
    }

    /// Refreshed once a day: on hourly bars the median is recomputed every 24 bars and held between.
    @Test func medianRefreshedOncePerDay() {
        let times = (0..<100).map { Int64($0) * 3_600_000 }
        let prices = [Double](repeating: 10, count: 100)
        let volumes = (0..<100).map { Double($0 + 1) }  // notional 10, 20, …, 1,000
        let depth = DynamicMargin.trailingMedianNotional(times: times, prices: prices, volumes: volumes,
                                                         windowMs: 30 * Self.day, refreshBars: 24)
        // Bar 0: {10}; bar 24: bars 0–24, index 12 → 130; bar 48: index 24 of 49 → 250; held in between.
        #expect(depth[0] == 10 && depth[23] == 10)
        #expect(depth[24] == 130 && depth[47] == 130)
        #expect(depth[48] == 250)
        // A 1-day window drops bars older than 24 hours: at bar 96, bars 73–96 → index 12 → 860.
        let short = DynamicMargin.trailingMedianNotional(times: times, prices: prices, volumes: volumes, windowMs: Self.day, refreshBars: 24)
        #expect(short[96] == 860)
    }

    /// No look-ahead: changing every bar after T (prices and volumes) leaves every step up to T
    /// unchanged, horizons and rates included (T after the training bars, which seed volatility).
    @Test func noRateUsesALaterBar() {
        var rng = SplitMix64(seed: 42)
        let count = 1_500, cut = 900
        var prices = [30_000.0]
        for _ in 1..<count { prices.append(prices[prices.count - 1] * (1 + Double.random(in: -0.01...0.01, using: &rng))) }
        let times = (0..<count).map { Int64($0) * 3_600_000 }
        let volumes: [Double] = (0..<count).map { (t: Int) -> Double in
            let wiggle = Double(t % 7)
            return t < 600 ? 10 + wiggle : 80 + wiggle
        }
        var policy = Self.policy()
        policy.trainingBars = 200
        let floors: [Double] = [0, 50_000, 1_000_000]
        let model = DynamicMargin(times: times, prices: prices, volumes: volumes, bracketFloors: floors, policy: policy)
        var laterPrices = prices, laterVolumes = volumes
        for t in (cut + 1)..<count {
            laterPrices[t] *= 1 + Double.random(in: -0.2...0.2, using: &rng)
            laterVolumes[t] *= 50
        }
        let other = DynamicMargin(times: times, prices: laterPrices, volumes: laterVolumes, bracketFloors: floors, policy: policy)
        var compared = 0
        for j in 0..<cut {  // steps[j] is bar j + 1
            #expect(model.steps[j] == other.steps[j], "step at bar \(j + 1)")
            compared += 1
        }
        #expect(compared == cut)
        // And the later bars did change the later horizons (the test would notice a frozen median).
        #expect(model.steps[count - 2].horizons[2] != other.steps[count - 2].horizons[2])
        // The volume step at bar 600 shortens the largest bracket's horizon within the month.
        #expect(model.steps[count - 2].horizons[2] < model.steps[598].horizons[2] / 3)
    }
}
