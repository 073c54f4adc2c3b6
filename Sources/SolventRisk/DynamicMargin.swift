import RealModule

/// Maintenance rates that follow volatility, with anti-procyclicality (docs/dynamic-margin.md).
///
/// At every bar `t` (using only bars up to `t`):
/// 1. volatility `σ_t` of one-bar log returns: EWMA (`λ`) or GARCH(1,1) fitted on the training bars;
/// 2. the quantile `z = max(Φ⁻¹(1 − (1−c)/2), q_c(|ε|))`: normal, or the empirical quantile of the
///    standardized training residuals `|ε| = |r/σ|` when tails are fatter (filtered historical
///    simulation); coverage `c` is of the absolute move, so longs and shorts are both covered;
/// 3. per bracket `i`, a liquidation horizon `h_i(t) = h₀ + floor_i / (participation · D_t)` bars,
///    `D_t` the **trailing** median traded notional per bar over the `depthWindowDays` (30) days
///    ending at the close of bar `t` (refreshed once a day, at least every bar; only bars up to `t`,
///    never a later one), and the raw rate `m_i = e^{z·σ_t·√h_i(t)} − 1` (the larger of the long
///    and the short loss);
/// 4. anti-procyclicality (EMIR RTS 153/2013 art. 28 in spirit): a stressed rate from a high
///    quantile of the `σ` history so far weighs `stressed_weight` (`m = max(m, w·m_stress + (1−w)·m)`); a `buffer` on top,
///    released while the market is stressed (`σ_t ≥ release·σ_stress`); a floor; and limits on how
///    fast the rate may rise and fall per day.
public struct DynamicMargin: Sendable {
    public enum Model: String, Sendable, Hashable { case ewma, garch }

    public struct Policy: Sendable, Hashable {
        /// Coverage of the absolute horizon move, e.g. 0.995.
        public var coverage = 0.995
        /// Liquidation horizon of the first bracket, in bars (used when `horizonSeconds` is nil).
        public var horizonBars = 1.0
        /// Liquidation horizon of the first bracket in time (seconds), for any bar size. Below one
        /// bar, volatility comes from the bars' ranges (`rangeEstimator`) scaled by `√(h/bar)`, and
        /// the quantile is the fat-tailed `RangeVolatility.fatTailZ`.
        public var horizonSeconds: Double? = nil
        /// Range estimator of the per-bar variance for sub-bar horizons.
        public var rangeEstimator = RangeVolatility.Estimator.parkinson
        /// A second, faster EWMA decay: `σ = max(σ_λ, σ_fast)` (reacts within a few bars after a
        /// shock, which keeps exceedances from clustering). nil: the single EWMA.
        public var fastLambda: Double? = nil
        public var model = Model.ewma
        /// EWMA decay.
        public var lambda = 0.94
        /// Bars used to fit GARCH and the empirical quantile (the backtest runs after them).
        public var trainingBars = 8_760
        /// Weight of the stressed rate, in [0, 1].
        public var stressedWeight = 0.25
        /// Quantile of the daily-sampled volatility history taken as the stressed volatility.
        public var stressQuantile = 0.95
        /// Buffer on top of the rate in calm markets, ≥ 0.
        public var buffer = 0.25
        /// The buffer is released while `σ_t ≥ release · σ_stress`.
        public var release = 0.8
        /// Largest relative rise of the rate per day (0.5 = +50 %/day), > 0; 1,000,000 or more: no speed limits.
        public var maxRisePerDay = 1.0
        /// Largest relative fall per day (0.05 = −5 %/day), in [0, 1).
        public var maxFallPerDay = 0.1
        /// Smallest rate of the first bracket.
        public var floor = 0.004
        /// Share of a bar's traded notional a liquidation may take.
        public var participation = 0.1
        /// Days of bars (ending at the bar the rate is set on) whose median traded notional per bar
        /// sets the larger brackets' horizons, > 0. Trailing, so a market whose volume grew gets
        /// the shorter horizons of its deeper market; a month smooths out single quiet or frantic
        /// days (weekends, one crash day) without lagging a lasting change by more than weeks.
        public var depthWindowDays = 30.0

        public init() {}

        /// The same policy without anti-procyclicality: no stressed weight, no buffer, no floor,
        /// no speed limits (the calibrated model; APC is an add-on on top of it).
        public var withoutAPC: Policy {
            var raw = self
            raw.stressedWeight = 0
            raw.buffer = 0
            raw.floor = 0
            raw.maxRisePerDay = 1_000_000
            raw.maxFallPerDay = 0.999_999
            return raw
        }
    }

    /// The rates of every bracket at one bar.
    public struct Step: Sendable, Hashable {
        public var time: Int64
        public var volatility: Double
        /// Rates per bracket before anti-procyclicality.
        public var raw: [Double]
        /// Rates per bracket as proposed (after APC, floor and speed limits).
        public var rates: [Double]
        /// Liquidation horizon per bracket in bars at this bar (from the trailing median notional).
        public var horizons: [Double] = []
        /// The trailing median traded notional per bar (settle units) the horizons came from.
        public var medianNotional: Double = 0
    }

    public let policy: Policy
    /// Bracket notional floors (settle units), ascending from 0.
    public let bracketFloors: [Double]
    public let z: Double
    public let zNormal: Double
    public let zEmpirical: Double
    /// Horizon in bars per bracket as of the last bar (each step carries its own: `Step.horizons`).
    public let horizons: [Double]
    /// Bar interval (ms) of the history.
    public let barMs: Int64
    /// Whether the first bracket's horizon is shorter than one bar (range-based volatility).
    public let subBar: Bool
    /// `sigma[t]`: volatility per bar known at the close of bar `t` (forecast of the next bar).
    public let sigma: [Double]
    /// Horizon per bracket in seconds.
    public var horizonSeconds: [Double] { horizons.map { $0 * Double(barMs) / 1000 } }
    public let garch: VolatilityModels.Garch?
    /// One step per bar after the first (the rate known at the close of that bar).
    public let steps: [Step]

    /// Runs the model over closes (`prices`, at `times`, ms) with bar `volumes` in base units.
    /// `highs`, `lows`, `opens` (one per bar) feed the range estimator of sub-bar horizons (without
    /// them the range is the close-to-close move). `multipliers`, one per bar, replaces the quantile
    /// `z` at each bar (the walk-forward calibration's choice; `MarginCalibration`).
    public init(times: [Int64], prices: [Double], volumes: [Double], bracketFloors: [Double], policy: Policy,
                opens: [Double]? = nil, highs: [Double]? = nil, lows: [Double]? = nil, multipliers: [Double]? = nil) {
        precondition(prices.count == times.count && volumes.count == prices.count, "one time and volume per price")
        precondition(prices.count >= 3, "needs at least three prices")
        precondition(!bracketFloors.isEmpty && bracketFloors[0] == 0, "brackets start at 0")
        self.policy = policy
        self.bracketFloors = bracketFloors
        // A return across a gap in the data (a missing bar) is not a one-bar return: it is left
        // out (no volatility update, no residual), never interpolated.
        let barMs = Self.barInterval(times)
        let valid = (0..<(prices.count - 1)).map { times[$0 + 1] - times[$0] == barMs }
        let returns = zip(prices, prices.dropFirst()).map { Double.log($1 / $0) }
        let training = min(max(policy.trainingBars, 20), returns.count)
        let trainingReturns = (0..<training).filter { valid[$0] }.map { returns[$0] }
        // Volatility path: σ[t] is the forecast for return t, known at the close of bar t.
        var sigma = [Double](repeating: 0, count: returns.count + 1)
        let seed = VolatilityModels.backcast(trainingReturns)
        var fitted: VolatilityModels.Garch? = nil
        let horizon0 = policy.horizonSeconds.map { $0 * 1000 / Double(barMs) } ?? policy.horizonBars
        let isSubBar = horizon0 < 1 - 1e-9
        self.barMs = barMs
        subBar = isSubBar
        if isSubBar {
            // Sub-bar horizon: EWMA of each bar's range variance, σ[t] includes bar t.
            let ranges = prices.indices.map { i -> Double in
                let close = prices[i], previous = i > 0 ? prices[i - 1] : prices[i]
                let open = opens?[i] ?? previous
                let high = highs?[i] ?? max(open, close), low = lows?[i] ?? min(open, close)
                return RangeVolatility.variance(policy.rangeEstimator, open: open, high: high, low: low, close: close)
            }
            let warm = ranges.prefix(min(75, max(1, training)))
            var v = warm.reduce(0, +) / Double(warm.count)
            var fast = v
            for i in prices.indices {
                v = policy.lambda * v + (1 - policy.lambda) * ranges[i]
                if let f = policy.fastLambda { fast = f * fast + (1 - f) * ranges[i] } else { fast = v }
                sigma[i] = max(v, fast).squareRoot()
            }
        } else if policy.model == .garch {
            let percent = trainingReturns.map { 100 * $0 }
            let g = VolatilityModels.fitGarch(Array(percent))
            fitted = g
            var v = seed * 10_000
            for (t, r) in returns.enumerated() {
                sigma[t] = v.squareRoot() / 100
                if valid[t] { v = g.omega + g.alpha * (100 * r) * (100 * r) + g.beta * v }
            }
            sigma[returns.count] = v.squareRoot() / 100
        } else {
            var v = seed, fast = seed
            for (t, r) in returns.enumerated() {
                sigma[t] = policy.fastLambda == nil ? v.squareRoot() : max(v, fast).squareRoot()
                if valid[t] {
                    v = policy.lambda * v + (1 - policy.lambda) * r * r
                    if let f = policy.fastLambda { fast = f * fast + (1 - f) * r * r }
                }
            }
            sigma[returns.count] = policy.fastLambda == nil ? v.squareRoot() : max(v, fast).squareRoot()
        }
        garch = fitted
        self.sigma = sigma
        zNormal = NormalDistribution.quantile(1 - (1 - policy.coverage) / 2)
        if isSubBar {
            // Bar residuals say nothing of the tails inside a bar: the fat-tailed quantile instead.
            zEmpirical = RangeVolatility.fatTailZ(coverage: policy.coverage)
        } else {
            var standardized = (0..<training).compactMap { t in valid[t] && sigma[t] > 0 ? abs(returns[t]) / sigma[t] : nil }
            standardized.sort()
            zEmpirical = standardized.isEmpty ? 0 : standardized[min(standardized.count - 1, Int((Double(standardized.count) * policy.coverage).rounded(.up)) - 1)]
        }
        let zValue = max(zNormal, zEmpirical)
        z = zValue
        let weight = policy.stressedWeight, buffer = policy.buffer

        let perDay = 86_400_000 / Double(barMs)
        // Liquidation horizon per bracket from the trailing median traded notional per bar
        // (walk-forward: at bar t only bars in (times[t] − window, times[t]]).
        let depth = Self.trailingMedianNotional(times: times, prices: prices, volumes: volumes,
                                                windowMs: Int64((policy.depthWindowDays * 86_400_000).rounded()),
                                                refreshBars: max(1, Int(perDay.rounded())))
        let horizonsAt = { (t: Int) -> [Double] in
            let perBar = max(policy.participation * depth[t], 1e-9)
            return bracketFloors.map { horizon0 + $0 / perBar }
        }
        horizons = horizonsAt(returns.count)
        let rise = Double.pow(1 + policy.maxRisePerDay, 1 / perDay)
        let fall = Double.pow(1 - policy.maxFallPerDay, 1 / perDay)
        var steps: [Step] = []
        steps.reserveCapacity(returns.count)
        // The stressed volatility: a high quantile of the daily-sampled σ seen so far (a sorted
        // sample; one insertion per day keeps it cheap), never the single worst hour.
        var sample: [Double] = []
        var stressed = 0.0
        var previous: [Double]? = nil
        let sampleEvery = max(1, Int(perDay.rounded()))
        for t in 1...returns.count {
            let s = sigma[t]
            if t % sampleEvery == 1 || sampleEvery == 1 || sample.isEmpty {
                let k = sample.firstIndex { $0 > s } ?? sample.count
                sample.insert(s, at: k)
                stressed = sample[min(sample.count - 1, Int(Double(sample.count) * policy.stressQuantile))]
            }
            stressed = max(stressed, 0)
            let worst = stressed
            let zt = multipliers?[t] ?? zValue
            let horizonList = horizonsAt(t)
            let raw = horizonList.map { Double.exp(zt * s * $0.squareRoot()) - 1 }
            let stress = horizonList.map { Double.exp(zt * worst * $0.squareRoot()) - 1 }
            let calm = s < policy.release * stressed
            var rates = zip(raw, stress).map { m, ms in max(m, weight * ms + (1 - weight) * m) * (calm ? 1 + buffer : 1) }
            rates[0] = max(rates[0], policy.floor)
            for i in rates.indices.dropFirst() { rates[i] = max(rates[i], rates[i - 1], policy.floor) }
            if let previous, policy.maxRisePerDay < 1_000_000 {
                for i in rates.indices { rates[i] = min(max(rates[i], previous[i] * fall), previous[i] * rise) }
            }
            previous = rates
            steps.append(Step(time: times[t], volatility: s, raw: raw, rates: rates, horizons: horizonList, medianNotional: depth[t]))
        }
        self.steps = steps
    }

    /// `D_t` per bar: the median traded notional per bar (`price × volume`, the upper median of an
    /// even count) over the bars with `times[t] − windowMs < time ≤ times[t]`, recomputed every
    /// `refreshBars` bars (and at bar 0) and held in between, so `D_t` never uses a bar after `t`.
    public static func trailingMedianNotional(times: [Int64], prices: [Double], volumes: [Double], windowMs: Int64, refreshBars: Int) -> [Double] {
        var out = [Double](repeating: 0, count: prices.count)
        var lo = 0, current = 0.0
        for t in prices.indices {
            if t % max(1, refreshBars) == 0 {
                while lo < t && times[lo] <= times[t] - windowMs { lo += 1 }
                let window = (lo...t).map { prices[$0] * volumes[$0] }.sorted()
                current = window[window.count / 2]
            }
            out[t] = current
        }
        return out
    }

    /// The bar interval: the most frequent difference between consecutive times (ms, ≥ 1).
    public static func barInterval(_ times: [Int64]) -> Int64 {
        var counts: [Int64: Int] = [:]
        for (a, b) in zip(times, times.dropFirst()) { counts[b - a, default: 0] += 1 }
        return max(1, counts.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key ?? 1)
    }

    /// The exceedance series of bracket `bracket` over the bars after training: at the close of
    /// bar `t` the rate is `m_t`; the next `h` bars' move breaches it when the long's loss
    /// `1 − P_{t+h}/P_t` or the short's loss `P_{t+h}/P_t − 1` exceeds `m_t` (`h` = the bracket's
    /// horizon known at bar `t`, `Step.horizons`, rounded up, at least 1). `rates` overrides the model's (e.g. a static table).
    /// Windows that span a gap in the data are left out; with `h > 1` the windows are taken every
    /// `h` bars (non-overlapping, so one move is not counted `h` times and the independence test
    /// stays meaningful). Empty for a sub-bar horizon (it cannot be backtested on these bars).
    public func exceedances(times: [Int64], prices: [Double], bracket: Int = 0, staticRate: Double? = nil, useRaw: Bool = false) -> [Bool] {
        windows(times: times, prices: prices, bracket: bracket).map { t, loss in
            loss > (staticRate ?? (useRaw ? steps[t - 1].raw[bracket] : steps[t - 1].rates[bracket]))
        }
    }

    /// The backtest windows of `bracket` after training: `(t, loss)` with `loss` the larger of the
    /// long's and the short's loss over the next `h` bars from the close of bar `t`.
    public func windows(times: [Int64], prices: [Double], bracket: Int = 0, from: Int? = nil) -> [(t: Int, loss: Double)] {
        guard !subBar || bracket > 0 || horizons[bracket] >= 1 - 1e-9 else { return [] }
        // The horizon known at the close of bar t (steps[t − 1]); bracket 0's is constant.
        // Capped at the history's length (a window that long never fits; no overflow on a huge horizon).
        let hAt = { (t: Int) -> Int in
            let bars = t >= 1 ? self.steps[t - 1].horizons[bracket] : self.horizons[bracket]
            return max(1, Int(min(Double(prices.count), (bars - 1e-9).rounded(.up))))
        }
        let start = from ?? min(max(policy.trainingBars, 20), prices.count - 1)
        guard start >= 1 else { return [] }
        var out: [(t: Int, loss: Double)] = []
        var t = start
        while t < prices.count - hAt(t) {
            let h = hAt(t)
            if times[t + h] - times[t] == Int64(h) * barMs {
                let ratio = prices[t + h] / prices[t]
                out.append((t, max(1 - ratio, ratio - 1)))
                t += h
            } else {
                t += 1
            }
        }
        return out
    }
}
