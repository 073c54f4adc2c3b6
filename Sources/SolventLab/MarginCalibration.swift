import RealModule
public import SolventRisk

/// Calibrated, not only conservative (docs/dynamic-margin.md): the lowest first-bracket rate that
/// meets the coverage target without either backtest rejecting it, chosen walk-forward.
///
/// A rate is `m_t = e^{k·σ_t·√h} − 1`; on a window of past moves with standardized size
/// `u_t = ln(1 + loss_t) / (σ_t·√h)` (exceedance iff `u_t > k`), the multiplier `k` is the smallest
/// one such that (1) the exceedance rate is at most `1 − c`, (2) Kupiec's two-sided test does not
/// reject at `significance` (over-covering is a failure too), (3) Christoffersen's independence
/// test does not reject. When no `k` meets (3) on the window, the smallest meeting (1) and (2) is
/// kept; when none meets (2) either (a window too short for the test), the smallest meeting (1).
/// Re-chosen every `stepBars` from the last `windowBars` moves already seen, so every rate is out
/// of sample.
public enum MarginCalibration {
    /// What the search found on one window.
    public struct Choice: Sendable, Hashable {
        public var multiplier: Double
        public var observations: Int
        public var exceedances: Int
        public var kupiecP: Double
        public var christoffersenP: Double
        /// Which criteria the choice meets: 3 = all, 2 = rate and Kupiec, 1 = rate only.
        public var criteriaMet: Int
    }

    /// The lowest multiplier `k` on standardized moves `u` (in time order) meeting the criteria.
    public static func lowestMultiplier(_ u: [Double], coverage: Double, significance: Double = 0.05) -> Choice {
        precondition(!u.isEmpty, "needs at least one move")
        let n = u.count, p = 1 - coverage
        let sorted = u.sorted(by: >)
        let most = min(n - 1, Int((Double(n) * p + 1e-9).rounded(.down)))
        var fallback: Choice? = nil, rateOnly: Choice? = nil
        // Candidates from the lowest k (most exceedances allowed) upwards; k = the (x+1)-th largest
        // move, the infimum of every threshold giving the same exceedance set.
        var x = most
        while x >= 0 {
            let k = sorted[x]
            let flags = u.map { $0 > k }
            let count = flags.lazy.filter { $0 }.count
            let kupiec = BacktestStatistics.kupiec(observations: n, exceedances: count, coverage: coverage)
            let independence = n >= 2 ? BacktestStatistics.christoffersenIndependence(flags) : BacktestStatistics.Test(statistic: 0, degreesOfFreedom: 1, pValue: 1)
            let choice = Choice(multiplier: k, observations: n, exceedances: count, kupiecP: kupiec.pValue, christoffersenP: independence.pValue, criteriaMet: 1)
            if rateOnly == nil { rateOnly = choice }
            if kupiec.pValue >= significance {
                if independence.pValue >= significance { return Choice(multiplier: k, observations: n, exceedances: count, kupiecP: kupiec.pValue, christoffersenP: independence.pValue, criteriaMet: 3) }
                if fallback == nil { fallback = Choice(multiplier: k, observations: n, exceedances: count, kupiecP: kupiec.pValue, christoffersenP: independence.pValue, criteriaMet: 2) }
            } else if Double(count) < Double(n) * p {
                // Fewer exceedances only make Kupiec reject harder from here on.
                break
            }
            // Next candidate: the next distinct larger value.
            var next = x - 1
            while next >= 0 && sorted[next] == k { next -= 1 }
            x = next
        }
        return fallback ?? rateOnly!
    }

    /// One refit of the walk-forward.
    public struct Refit: Sendable, Hashable {
        public var time: Int64
        public var bar: Int
        public var choice: Choice
    }

    /// The calibrated model, its APC add-on and the refits.
    public struct Result: Sendable {
        /// The calibrated model (no anti-procyclicality), multipliers chosen walk-forward.
        public var calibrated: DynamicMargin
        /// The same multipliers with the anti-procyclicality add-on of the given policy.
        public var withAPC: DynamicMargin
        public var refits: [Refit]
        /// Multiplier in force at each bar.
        public var multipliers: [Double]
    }

    /// Walk-forward defaults from the bar size: a window of `max(7 days, 2,000 bars)` (enough moves
    /// for a 99.5 % test to have power), refit once a day (at least every bar).
    public static func defaultWindow(barMs: Int64) -> (window: Int, step: Int) {
        let perDay = max(1, Int(86_400_000 / max(barMs, 1)))
        return (max(7 * perDay, 2_000), perDay)
    }

    /// Runs the walk-forward calibration of the first bracket; the model's volatility and horizon
    /// come from `policy` (its APC settings are used only for `withAPC`).
    public static func run(times: [Int64], prices: [Double], volumes: [Double], bracketFloors: [Double], policy: DynamicMargin.Policy,
                           opens: [Double]? = nil, highs: [Double]? = nil, lows: [Double]? = nil,
                           windowBars: Int? = nil, stepBars: Int? = nil, significance: Double = 0.05) -> Result {
        let rawPolicy = policy.withoutAPC
        let base = DynamicMargin(times: times, prices: prices, volumes: volumes, bracketFloors: bracketFloors, policy: rawPolicy,
                                 opens: opens, highs: highs, lows: lows)
        let defaults = defaultWindow(barMs: base.barMs)
        let window = max(20, windowBars ?? defaults.window), step = max(1, stepBars ?? defaults.step)
        var multipliers = [Double](repeating: base.z, count: prices.count)
        var refits: [Refit] = []
        let moves = base.windows(times: times, prices: prices, bracket: 0, from: 1)
        if !moves.isEmpty {
            let root = base.horizons[0].squareRoot()
            let h = max(1, Int((base.horizons[0] - 1e-9).rounded(.up)))
            let u = moves.map { m in base.sigma[m.t] > 0 ? Double.log(onePlus: m.loss) / (base.sigma[m.t] * root) : 0 }
            let start = min(max(policy.trainingBars, 20), prices.count - 1)
            var s = start
            var lo = 0
            var k = base.z
            while s < prices.count {
                // Moves fully seen by the close of bar s: t + h ≤ s, t ≥ s − window.
                while lo < moves.count && moves[lo].t < s - window { lo += 1 }
                var hi = lo
                while hi < moves.count && moves[hi].t + h <= s { hi += 1 }
                if hi > lo {
                    let choice = lowestMultiplier(Array(u[lo..<hi]), coverage: policy.coverage, significance: significance)
                    k = choice.multiplier
                    refits.append(Refit(time: times[s], bar: s, choice: choice))
                }
                let end = min(prices.count, s + step)
                // Bars before the first refit (training, in sample) take the first choice.
                for t in (refits.count == 1 ? 0 : s)..<end { multipliers[t] = k }
                s = end
            }
        }
        let calibrated = DynamicMargin(times: times, prices: prices, volumes: volumes, bracketFloors: bracketFloors, policy: rawPolicy,
                                       opens: opens, highs: highs, lows: lows, multipliers: multipliers)
        let withAPC = DynamicMargin(times: times, prices: prices, volumes: volumes, bracketFloors: bracketFloors, policy: policy,
                                    opens: opens, highs: highs, lows: lows, multipliers: multipliers)
        return Result(calibrated: calibrated, withAPC: withAPC, refits: refits, multipliers: multipliers)
    }
}
