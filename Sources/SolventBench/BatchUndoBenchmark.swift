public import SolventCore
public import SolventEngine

extension EngineBenchmarks {
    /// What a cluster node pays to keep the engine as it was before each batch (EngineService:
    /// `keepsStateBeforeBatch`, docs/cluster.md "Fencing"): `batches` one-deposit batches on an
    /// engine of `accounts` accounts, each timed with and without a copy of the engine held across
    /// it. The copy itself is O(1) (the state's arrays and dictionaries are copy-on-write), but the
    /// batch's first write to each shared buffer copies that whole buffer: the accounts array and
    /// whatever else the command touches. → `plain_us_p50`, `kept_us_p50`, `copy_us_p50` (the
    /// difference of the medians), `kept_us_max`.
    public static func batchUndo(accounts: Int, batches: Int, progress: BenchProgress? = nil) -> BenchResult {
        progress?.report("building \(accounts) accounts")
        var engine = BenchBook.engine(accounts: accounts, progress: progress)
        var time: Int64 = 1_000
        _ = engine.apply(TimedCommand(time: time, command: .markPrice(symbol: "BTCUSDT", price: BenchBook.mark, sourceTime: time)))
        func deposit(_ n: Int) -> TimedCommand {
            time += 1
            return TimedCommand(time: time, command: .deposit(account: "a\((n * 7_919) % accounts)", asset: "USDT", amount: FixedDecimal(10), settle: nil))
        }
        var plain: [UInt64] = [], kept: [UInt64] = []
        var events = 0
        progress?.report("applying \(batches) batches with and without a kept copy")
        for n in 0..<batches {
            let command = deposit(2 * n)
            let start = BenchClock.now()
            events &+= engine.apply(command).count
            plain.append(BenchClock.now() - start)

            let other = deposit(2 * n + 1)
            let keptStart = BenchClock.now()
            let before = engine
            events &+= engine.apply(other).count
            kept.append(BenchClock.now() - keptStart)
            withExtendedLifetime(before) {}
        }
        precondition(events > 0)
        func median(_ values: [UInt64]) -> Double { Double(values.sorted()[values.count / 2]) / 1_000 }
        return BenchResult(title: "batch undo: \(batches) one-deposit batches on \(accounts) accounts, with and without the engine kept as before the batch",
                           members: [
                               ("accounts", "accounts", .integer(accounts)),
                               ("plain_us_p50", "batch without a kept copy, median µs", .number(median(plain))),
                               ("kept_us_p50", "batch with the engine kept, median µs", .number(median(kept))),
                               ("copy_us_p50", "cost of keeping it, median µs", .number(median(kept) - median(plain))),
                               ("kept_us_max", "batch with the engine kept, max µs", .number(Double(kept.max() ?? 0) / 1_000)),
                           ])
    }
}
