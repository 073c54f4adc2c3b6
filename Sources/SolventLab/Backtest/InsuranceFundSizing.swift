/// How big the insurance fund must be, from a backtest's shortfalls (docs/lab.md).
public struct InsuranceFundSizing: Sendable, Hashable {
    /// Confidence of the daily quantile, e.g. 0.99.
    public var confidence: Double
    /// The `confidence` quantile of daily shortfalls (USDT).
    public var dailyQuantile: Double
    /// The worst single day.
    public var worstDay: Double
    /// The worst 30 consecutive days (the fund must survive a bad month without refills).
    public var worst30Days: Double
    /// Cover-2: the two largest accounts defaulting in the history's worst 24-hour move.
    public var cover2: Double
    /// The recommendation: `max(worst30Days, cover2)`.
    public var recommended: Double { max(worst30Days, cover2) }

    public init(result: BacktestResult, confidence: Double = 0.99) {
        precondition(confidence > 0 && confidence < 1, "a confidence in (0, 1)")
        self.confidence = confidence
        let daily = result.days.map(\.shortfall)
        let sorted = daily.sorted()
        dailyQuantile = sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((Double(sorted.count) * confidence).rounded(.up)) - 1)]
        worstDay = sorted.last ?? 0
        var worst = 0.0, running = 0.0
        for (k, value) in daily.enumerated() {
            running += value
            if k >= 30 { running -= daily[k - 30] }
            worst = max(worst, running)
        }
        worst30Days = worst
        cover2 = result.cover2
    }
}
