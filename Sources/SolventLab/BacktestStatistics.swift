import RealModule

/// Likelihood-ratio tests of a margin model's exceedances (days the loss exceeded the
/// margin), as used to backtest VaR-like coverage (Basel traffic light; Kupiec 1995;
/// Christoffersen 1998). Statistics in `Double` (DESIGN.md principle 1).
public enum BacktestStatistics {
    /// Result of a likelihood-ratio test.
    public struct Test: Sendable, Hashable {
        /// The LR statistic (≥ 0).
        public var statistic: Double
        /// Degrees of freedom of its χ² distribution under the null.
        public var degreesOfFreedom: Int
        /// `P(χ² ≥ statistic)`.
        public var pValue: Double
    }

    /// Survival function of χ² with 1 or 2 degrees of freedom: `erfc(√(x/2))` and `e^(−x/2)`.
    public static func chiSquaredSurvival(_ x: Double, degreesOfFreedom: Int) -> Double {
        precondition(degreesOfFreedom == 1 || degreesOfFreedom == 2, "only 1 or 2 degrees of freedom are needed here")
        guard x > 0 else { return 1 }
        return degreesOfFreedom == 1 ? Double.erfc((x / 2).squareRoot()) : Double.exp(-x / 2)
    }

    /// `k·ln(p)` with the convention `0·ln(0) = 0`.
    static func xlogy(_ k: Double, _ p: Double) -> Double { k == 0 ? 0 : k * Double.log(p) }

    /// Kupiec proportion-of-failures test: `x` exceedances in `n` observations against an
    /// expected rate `1 − coverage`. `LR = −2·ln[(1−p)^(n−x)·p^x] + 2·ln[(1−x/n)^(n−x)·(x/n)^x]`, χ²(1).
    public static func kupiec(observations n: Int, exceedances x: Int, coverage: Double) -> Test {
        precondition(n > 0 && x >= 0 && x <= n, "need 0 ≤ exceedances ≤ observations, observations > 0")
        precondition(coverage > 0 && coverage < 1, "coverage must be in (0, 1)")
        let p = 1 - coverage
        let observed = Double(x) / Double(n)
        let null = xlogy(Double(n - x), 1 - p) + xlogy(Double(x), p)
        let alternative = xlogy(Double(n - x), 1 - observed) + xlogy(Double(x), observed)
        let statistic = max(0, -2 * (null - alternative))
        return Test(statistic: statistic, degreesOfFreedom: 1, pValue: chiSquaredSurvival(statistic, degreesOfFreedom: 1))
    }

    /// Transition counts of a 0/1 series: `n[i][j]` = number of times `j` follows `i`.
    public static func transitions(_ series: [Bool]) -> (n00: Int, n01: Int, n10: Int, n11: Int) {
        var n = (0, 0, 0, 0)
        for (a, b) in zip(series, series.dropFirst()) {
            switch (a, b) {
            case (false, false): n.0 += 1
            case (false, true): n.1 += 1
            case (true, false): n.2 += 1
            case (true, true): n.3 += 1
            }
        }
        return n
    }

    /// Christoffersen independence test: do exceedances cluster? With transition counts
    /// `n_ij`, `π0 = n01/(n00+n01)`, `π1 = n11/(n10+n11)`, `π = (n01+n11)/Σn`:
    /// `LR = −2·ln[(1−π)^(n00+n10)·π^(n01+n11)] + 2·ln[(1−π0)^n00·π0^n01·(1−π1)^n10·π1^n11]`, χ²(1).
    public static func christoffersenIndependence(_ series: [Bool]) -> Test {
        precondition(series.count >= 2, "need at least two observations")
        let t = transitions(series)
        let (n00, n01, n10, n11) = (Double(t.n00), Double(t.n01), Double(t.n10), Double(t.n11))
        let pi0 = n00 + n01 > 0 ? n01 / (n00 + n01) : 0
        let pi1 = n10 + n11 > 0 ? n11 / (n10 + n11) : 0
        let pi = (n01 + n11) / (n00 + n01 + n10 + n11)
        let null = xlogy(n00 + n10, 1 - pi) + xlogy(n01 + n11, pi)
        let alternative = xlogy(n00, 1 - pi0) + xlogy(n01, pi0) + xlogy(n10, 1 - pi1) + xlogy(n11, pi1)
        let statistic = max(0, -2 * (null - alternative))
        return Test(statistic: statistic, degreesOfFreedom: 1, pValue: chiSquaredSurvival(statistic, degreesOfFreedom: 1))
    }

    /// Conditional coverage: Kupiec + independence, χ²(2).
    public static func conditionalCoverage(_ series: [Bool], coverage: Double) -> Test {
        let pof = kupiec(observations: series.count, exceedances: series.filter { $0 }.count, coverage: coverage)
        let independence = christoffersenIndependence(series)
        let statistic = pof.statistic + independence.statistic
        return Test(statistic: statistic, degreesOfFreedom: 2, pValue: chiSquaredSurvival(statistic, degreesOfFreedom: 2))
    }
}
