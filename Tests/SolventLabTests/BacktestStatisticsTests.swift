import SolventLab
import Testing

@Suite struct BacktestStatisticsTests {
    /// Kupiec POF, worked by hand: n = 1000, x = 12, coverage 99.5% (expected 5):
    /// null = 988·ln 0.995 + 12·ln 0.005 = −68.5322, alternative = 988·ln 0.988 + 12·ln 0.012 = −65.0019,
    /// LR = 7.0606, p = erfc(√(LR/2)) = 0.00788 (Kupiec 1995).
    @Test func kupiecByHand() {
        let test = BacktestStatistics.kupiec(observations: 1000, exceedances: 12, coverage: 0.995)
        #expect(abs(test.statistic - 7.0606) < 1e-4)
        #expect(abs(test.pValue - 0.00788) < 1e-5)
        // Exactly the expected count: LR = 0, p = 1.
        let exact = BacktestStatistics.kupiec(observations: 1000, exceedances: 5, coverage: 0.995)
        #expect(exact.statistic < 1e-12 && abs(exact.pValue - 1) < 1e-9)
        // No exceedances at all is still defined (0·ln 0 = 0).
        #expect(BacktestStatistics.kupiec(observations: 250, exceedances: 0, coverage: 0.99).statistic > 0)
    }

    /// Christoffersen independence, by hand: 0 1 1 0 0 0 1 0 has n00 = 2, n01 = 2, n10 = 2, n11 = 1.
    @Test func christoffersenByHand() {
        let series = [false, true, true, false, false, false, true, false]
        let t = BacktestStatistics.transitions(series)
        #expect(t.n00 == 2 && t.n01 == 2 && t.n10 == 2 && t.n11 == 1)
        // π0 = 1/2, π1 = 1/3, π = 3/7: LR = −2[(4 ln 4/7 + 3 ln 3/7) − (2 ln ½ + 2 ln ½ + 2 ln ⅔ + ln ⅓)] = 0.19645.
        let test = BacktestStatistics.christoffersenIndependence(series)
        #expect(abs(test.statistic - 0.1964510115581639) < 1e-12)
        // Clustered exceedances are rejected, spread ones are not.
        let clustered = Array(repeating: false, count: 200) + Array(repeating: true, count: 10) + Array(repeating: false, count: 200)
        #expect(BacktestStatistics.christoffersenIndependence(clustered).pValue < 0.001)
        let spread = (0..<410).map { $0 % 41 == 20 }
        #expect(BacktestStatistics.christoffersenIndependence(spread).pValue > 0.3)
    }

    /// χ² survival for 1 and 2 degrees of freedom at known quantiles: 3.841459 → 0.05 (1 dof), 5.991465 → 0.05 (2 dof).
    @Test func chiSquaredQuantiles() {
        #expect(abs(BacktestStatistics.chiSquaredSurvival(3.841458820694124, degreesOfFreedom: 1) - 0.05) < 1e-12)
        #expect(abs(BacktestStatistics.chiSquaredSurvival(5.991464547107979, degreesOfFreedom: 2) - 0.05) < 1e-12)
    }
}
