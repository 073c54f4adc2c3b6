import RealModule
public import SolventCore

/// One synthetic trader of a backtest: when they open and close, which side, how big, how
/// leveraged, and whether they answer margin calls.
public struct SyntheticTrader: Sendable, Hashable {
    public var id: String
    /// Bar index of the opening fill (at that bar's open).
    public var openBar: Int
    /// Bar index of the closing fill (at that bar's close), if still open then.
    public var closeBar: Int
    /// +1 long, −1 short.
    public var side: Int
    /// Chosen leverage (the position's IM is notional / leverage).
    public var leverage: Int
    /// Position notional at the opening price (settle units).
    public var notional: Double
    /// Collateral deposited = IM × (1 + buffer).
    public var buffer: Double
    /// Answers a margin call by depositing the call amount (+10 %) after `cureDelayMs`.
    public var responsive: Bool
    public var cureDelayMs: Int64
}

/// A seeded population of traders with realistic shapes (documented in docs/lab.md):
/// leverage mostly 5–25×, some at 50–125×; notional log-normal (median 5,000, σ 1.5, capped at
/// 5M); 55 % long; holding time exponential (mean 72 hours); half answer margin calls, after a
/// uniform delay of up to twice the grace period (so about half of those cure in time).
public enum TraderPopulation {
    public static let leverageWeights: [(leverage: Int, weight: Double)] = [
        (2, 0.04), (3, 0.05), (5, 0.13), (10, 0.25), (20, 0.24), (25, 0.10), (50, 0.11), (75, 0.04), (100, 0.03), (125, 0.01),
    ]

    public static func generate(count: Int, bars: Int, barMs: Int64, gracePeriodMs: Int64, seed: UInt64,
                                responsiveShare: Double = 0.5, meanHoldingHours: Double = 72) -> [SyntheticTrader] {
        precondition(bars >= 2, "a backtest needs at least two bars")
        var rng = SplitMix64(seed: seed)
        let totalWeight = leverageWeights.reduce(0) { $0 + $1.weight }
        return (0..<count).map { k in
            let openBar = Int.random(in: 0..<(bars - 1), using: &rng)
            let holdBars = max(1, Int((-Double.log(Double.random(in: Double.ulpOfOne..<1, using: &rng)) * meanHoldingHours * 3_600_000 / Double(barMs)).rounded()))
            var pick = Double.random(in: 0..<totalWeight, using: &rng)
            var leverage = leverageWeights[leverageWeights.count - 1].leverage
            for (l, w) in leverageWeights {
                if pick < w { leverage = l; break }
                pick -= w
            }
            // Log-normal notional by Box–Muller.
            let u = Double.random(in: Double.ulpOfOne..<1, using: &rng), v = Double.random(in: 0..<1, using: &rng)
            let gaussian = (-2 * Double.log(u)).squareRoot() * Double.cos(2 * Double.pi * v)
            let notional = min(5_000_000, max(100, 5_000 * Double.exp(1.5 * gaussian)))
            return SyntheticTrader(
                id: "t\(k)", openBar: openBar, closeBar: min(bars - 1, openBar + holdBars),
                side: Double.random(in: 0..<1, using: &rng) < 0.55 ? 1 : -1, leverage: leverage, notional: notional,
                buffer: Double.random(in: 0.05...0.6, using: &rng),
                responsive: Double.random(in: 0..<1, using: &rng) < responsiveShare,
                cureDelayMs: Int64(Double.random(in: 0...2, using: &rng) * Double(max(gracePeriodMs, 60_000))))
        }
    }
}
