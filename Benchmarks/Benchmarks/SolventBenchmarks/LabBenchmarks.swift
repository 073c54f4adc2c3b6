import Benchmark
import Foundation
import SolventCore
import SolventLab

/// Backtest throughput: the shipped 2020-03 crash window (1,440 hourly bars, 4 marks each)
/// through the engine with 10,000 synthetic traders, static tiers, daily margin-ratio sampling
/// on. Throughput in price steps × accounts per second = 5,760 × 10,000 / wall clock.
func labBenchmarks() {
    Benchmark("backtest, 2020-03 crash window, 10000 accounts, static",
              configuration: .init(metrics: [.wallClock, .mallocCountTotal, .peakMemoryResident], maxDuration: .seconds(60), maxIterations: 3)) { benchmark in
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Examples/data/BTCUSDT-1h-2020-03-crash.csv")
        let bars = try! PriceHistory.parse(String(contentsOf: url, encoding: .utf8))
        var config = BacktestConfig()
        config.accounts = 10_000
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(Backtest.run(bars: bars, model: .staticTiers, config: config)) }
        benchmark.stopMeasurement()
    }
}
