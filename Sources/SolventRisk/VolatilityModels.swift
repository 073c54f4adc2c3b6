import RealModule

/// Volatility estimates from a return series, for dynamic margin (statistics in `Double`).
/// Returns are log returns in percent (`100·ln(P_t/P_{t−1})`), the scale the arch package
/// is usually run at, so fitted parameters compare one to one.
public enum VolatilityModels {
    /// Log returns in percent of a price series.
    public static func percentLogReturns(_ prices: [Double]) -> [Double] {
        zip(prices, prices.dropFirst()).map { 100 * Double.log($1 / $0) }
    }

    /// RiskMetrics EWMA variance after the whole series: `σ²_t = λ·σ²_{t−1} + (1−λ)·r²_{t−1}`,
    /// seeded with the first 75 returns' exponentially weighted mean square (as arch backcasts).
    public static func ewmaVariance(_ returns: [Double], lambda: Double = 0.94) -> Double {
        precondition(lambda > 0 && lambda < 1, "lambda must be in (0, 1)")
        var variance = backcast(returns)
        for r in returns { variance = lambda * variance + (1 - lambda) * r * r }
        return variance
    }

    /// arch's backcast: the first min(75, n) squared returns weighted by 0.94^i, normalized.
    public static func backcast(_ returns: [Double]) -> Double {
        let tau = min(75, returns.count)
        guard tau > 0 else { return 0 }
        var weighted = 0.0, total = 0.0, w = 1.0
        for i in 0..<tau {
            weighted += w * returns[i] * returns[i]
            total += w
            w *= 0.94
        }
        return weighted / total
    }

    /// A GARCH(1,1) with zero mean: `σ²_t = ω + α·r²_{t−1} + β·σ²_{t−1}`.
    public struct Garch: Sendable, Hashable {
        public var omega: Double
        public var alpha: Double
        public var beta: Double
        /// Gaussian log-likelihood at these parameters.
        public var logLikelihood: Double
        /// `α + β`.
        public var persistence: Double { alpha + beta }
        /// Unconditional variance `ω / (1 − α − β)` (percent² per period).
        public var longRunVariance: Double { omega / (1 - alpha - beta) }
    }

    /// Gaussian log-likelihood of GARCH(1,1), recursion started from the backcast (arch's convention:
    /// `σ²_0 = ω + (α + β)·backcast`).
    public static func garchLogLikelihood(_ returns: [Double], omega: Double, alpha: Double, beta: Double) -> Double {
        let start = backcast(returns)
        var variance = omega + (alpha + beta) * start
        var sum = 0.0
        let log2pi = Double.log(2 * Double.pi)
        for (t, r) in returns.enumerated() {
            if t > 0 { variance = omega + alpha * returns[t - 1] * returns[t - 1] + beta * variance }
            guard variance > 0 else { return -.infinity }
            sum += log2pi + Double.log(variance) + r * r / variance
        }
        return -0.5 * sum
    }

    /// Maximum-likelihood GARCH(1,1) by Nelder–Mead on an unconstrained reparametrization
    /// (`ω = e^a`, `α + β = 0.9999·logistic(b)`, `α = (α+β)·logistic(c)`), from a grid of starts.
    public static func fitGarch(_ returns: [Double]) -> Garch {
        precondition(returns.count >= 20, "GARCH needs at least 20 returns")
        let variance = returns.reduce(0) { $0 + $1 * $1 } / Double(returns.count)
        func logistic(_ x: Double) -> Double { 1 / (1 + Double.exp(-x)) }
        func logit(_ p: Double) -> Double { Double.log(p / (1 - p)) }
        func parameters(_ x: [Double]) -> (Double, Double, Double) {
            let persistence = 0.9999 * logistic(x[1])
            let alpha = persistence * logistic(x[2])
            return (Double.exp(x[0]), alpha, persistence - alpha)
        }
        func objective(_ x: [Double]) -> Double {
            let (omega, alpha, beta) = parameters(x)
            let value = -garchLogLikelihood(returns, omega: omega, alpha: alpha, beta: beta)
            return value.isFinite ? value : .greatestFiniteMagnitude
        }
        var best: (x: [Double], f: Double)? = nil
        for (alpha, beta) in [(0.05, 0.90), (0.10, 0.85), (0.03, 0.96), (0.2, 0.7)] {
            let start = [Double.log(variance * (1 - alpha - beta)), logit((alpha + beta) / 0.9999), logit(alpha / (alpha + beta))]
            let result = nelderMead(objective, start: start)
            if best == nil || result.f < best!.f { best = result }
        }
        // A final polish from the best point.
        let polished = nelderMead(objective, start: best!.x)
        let (omega, alpha, beta) = parameters(polished.x)
        return Garch(omega: omega, alpha: alpha, beta: beta, logLikelihood: -polished.f)
    }

    /// Nelder–Mead minimization (standard coefficients), with restarts until the simplex stops improving.
    static func nelderMead(_ f: ([Double]) -> Double, start: [Double], iterations: Int = 4000) -> (x: [Double], f: Double) {
        let n = start.count
        var simplex: [[Double]] = [start]
        for i in 0..<n {
            var point = start
            point[i] += 0.5
            simplex.append(point)
        }
        var values = simplex.map(f)
        for _ in 0..<iterations {
            let order = values.indices.sorted { values[$0] < values[$1] }
            simplex = order.map { simplex[$0] }
            values = order.map { values[$0] }
            if abs(values[n] - values[0]) <= 1e-12 * (abs(values[0]) + 1e-12) { break }
            var centroid = [Double](repeating: 0, count: n)
            for point in simplex.dropLast() { for i in 0..<n { centroid[i] += point[i] / Double(n) } }
            func along(_ t: Double) -> [Double] { (0..<n).map { centroid[$0] + t * (simplex[n][$0] - centroid[$0]) } }
            let reflected = along(-1), fr = f(reflected)
            if fr < values[0] {
                let expanded = along(-2), fe = f(expanded)
                if fe < fr { simplex[n] = expanded; values[n] = fe } else { simplex[n] = reflected; values[n] = fr }
            } else if fr < values[n - 1] {
                simplex[n] = reflected; values[n] = fr
            } else {
                let contracted = fr < values[n] ? along(-0.5) : along(0.5)
                let fc = f(contracted)
                if fc < min(fr, values[n]) {
                    simplex[n] = contracted; values[n] = fc
                } else {
                    for k in 1...n {
                        simplex[k] = (0..<n).map { simplex[0][$0] + 0.5 * (simplex[k][$0] - simplex[0][$0]) }
                        values[k] = f(simplex[k])
                    }
                }
            }
        }
        let k = values.indices.min { values[$0] < values[$1] }!
        return (simplex[k], values[k])
    }
}
