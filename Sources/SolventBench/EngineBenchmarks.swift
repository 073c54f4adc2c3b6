public import SolventCore
public import SolventEngine
public import SolventRisk
import SolventJournal
import Foundation  // ProcessInfo (the A/B switch of `tick`)

/// The measurements behind `solvent bench` (docs: BENCHMARKS.md, "solvent bench"). Every
/// function builds its own input, times only the operation named, and returns the issue's
/// JSON members. Timing is wall clock (monotonic), one thread.
public enum EngineBenchmarks {
    /// Full margin evaluation of a decoded evaluate-contract book, `repeats` times (decoding
    /// is not timed; one untimed warm-up pass). `prices: false` computes pool numbers and
    /// statuses only; true adds the liquidation and bankruptcy prices. → `positions`,
    /// `positions_per_second` (over the median pass).
    public static func rescan(_ input: EvaluateInput, repeats: Int, prices: Bool, progress: BenchProgress? = nil) -> BenchResult {
        let evaluator = MarginEvaluator(market: input.market, policy: input.policy)
        let positions = input.accounts.reduce(0) { $0 + $1.positions.count }
        var checksum = 0
        // One untimed pass warms caches and the allocator.
        for account in input.accounts { checksum &+= evaluator.evaluate(account, prices: prices).pools.count }
        var passes: [UInt64] = []
        for r in 0..<repeats {
            progress?.report("pass \(r + 1) of \(repeats)")
            let start = BenchClock.now()
            for account in input.accounts { checksum &+= evaluator.evaluate(account, prices: prices).pools.count }
            passes.append(BenchClock.now() - start)
        }
        precondition(checksum != 0 || input.accounts.isEmpty)
        let median = Percentiles(passes).value(at: 50)  // the median pass, as the numpy peer reports its own
        let rate = Double(positions) / (Double(max(median, 1)) / 1e9)
        return BenchResult(title: "rescan: \(positions) positions, \(prices ? "with" : "without") liquidation prices, median of \(repeats) passes", members: [
            ("positions", "positions", .integer(positions)),
            ("positions_per_second", "positions per second", .number(rate)),
        ])
    }

    /// Mark ticks on an engine of `accounts` one-position accounts, alternating between a move
    /// down that takes about `crossFraction` of the accounts across a threshold and the move
    /// back, `ticks` ticks in all, each timed on its own (closed loop). → `accounts`,
    /// `crossing` (accounts with an event on the first move down), `tick_ms_p50`,
    /// `tick_ms_max`, `events` (mean events per tick).
    public static func tick(accounts: Int, crossFraction: Double, ticks: Int, progress: BenchProgress? = nil) -> BenchResult {
        progress?.report("building \(accounts) accounts")
        var engine = BenchBook.engine(accounts: accounts, progress: progress)
        // The backlog ranked by fresh evaluations on every command (the drain before issue 18's memo), for an A/B run in one build.
        if ProcessInfo.processInfo.environment["SOLVENT_BENCH_FRESH_SEVERITIES"] != nil { engine.keepsBacklogSeverities = false }
        let mark = BenchBook.mark
        let down = crossingPrice(engine, fraction: crossFraction)
        var time: Int64 = 1_000
        _ = engine.apply(TimedCommand(time: time, command: .markPrice(symbol: "BTCUSDT", price: mark, sourceTime: time)))
        var durations: [UInt64] = []
        var events = 0
        var crossing = 0
        for n in 0..<ticks {
            progress?.report("tick \(n + 1) of \(ticks)")
            time += 1
            let price = n % 2 == 0 ? down : mark
            let start = BenchClock.now()
            let emitted = engine.apply(TimedCommand(time: time, command: .markPrice(symbol: "BTCUSDT", price: price, sourceTime: time)))
            durations.append(BenchClock.now() - start)
            events += emitted.count
            if n == 0 { crossing = Set(emitted.compactMap(\.account)).count }
        }
        let p = Percentiles(durations)
        return BenchResult(title: "tick: \(accounts) accounts, \(crossing) cross on the move down (\(down)), \(ticks) ticks", members: [
            ("accounts", "accounts", .integer(accounts)),
            ("crossing", "accounts crossing", .integer(crossing)),
            ("tick_ms_p50", "tick p50 (ms)", .number(Double(p.value(at: 50)) / 1e6)),
            ("tick_ms_max", "tick max (ms)", .number(Double(p.max) / 1e6)),
            ("events", "events per tick", .integer(ticks == 0 ? 0 : (events + ticks / 2) / ticks)),
        ])
    }

    /// The BTCUSDT mark below 60,000 at which about `fraction` of the accounts reach the warning
    /// ratio (longs only move toward it on a fall: they are half the book).
    static func crossingPrice(_ engine: Engine, fraction: Double) -> FixedDecimal {
        let evaluator = engine.evaluator
        let warning = Double(engine.state.parameters.policy.warningRatio.description) ?? 0.7
        var distances: [Double] = []
        for record in engine.state.accounts {
            let q = Double(record.account.positions[0].quantity.description) ?? 0
            guard q > 0 else { continue }
            let pool = evaluator.evaluate(record.account, prices: false).cross
            let equity = Double(pool.equity.description) ?? 0, mm = Double(pool.maintenanceMargin.description) ?? 0
            let notional = q * 60_000
            distances.append((equity - mm / warning) / (notional * (1 + 0.004 / warning)))
        }
        guard !distances.isEmpty else { return BenchBook.mark }
        distances.sort()
        let k = min(distances.count - 1, max(0, Int(Double(engine.state.accounts.count) * fraction) - 1))
        let move = min(0.9, max(0, distances[k]) * 1.000001)
        let price = FixedDecimal(raw: Int128((1 - move) * 1e6) * 1_000_000_000_000) * BenchBook.mark
        return price.rounded(toDigits: 2)
    }

    /// Pre-trade checks (a risk-increasing limit order placed through the engine: IM check
    /// against available margin, reservation, event) at `rate` per second, open loop:
    /// operation i has the scheduled start `t0 + i/rate` and its latency runs from there, so
    /// time queued behind a slow operation counts (no coordinated omission). → `p50_ns`,
    /// `p99_ns`, `p9999_ns` (exact percentiles of every latency), `ops_per_second` (the
    /// operations over the time from the first scheduled start to the last completion).
    public static func pretrade(accounts: Int, rate: Double, operations: Int, progress: BenchProgress? = nil) -> BenchResult {
        progress?.report("building \(accounts) accounts")
        var engine = BenchBook.engine(accounts: accounts, progress: progress)
        let time: Int64 = 1_000
        let mark = BenchBook.mark
        _ = engine.apply(TimedCommand(time: time, command: .markPrice(symbol: "BTCUSDT", price: mark, sourceTime: time)))
        let ids = (0..<operations).map { "o\($0)" }
        let owners = (0..<operations).map { "a\(($0 &* 7919) % accounts)" }
        let quantity = FixedDecimal(raw: 1_000_000_000_000_000)  // 0.001
        var latencies = [UInt64](repeating: 0, count: operations)
        var events = 0
        progress?.report("\(operations) orders at \(Int(rate))/s")
        let interval = 1e9 / rate
        let t0 = BenchClock.now() + 1_000_000
        var end = t0
        for i in 0..<operations {
            let scheduled = t0 + UInt64(Double(i) * interval)
            while BenchClock.now() < scheduled {}
            events += engine.apply(TimedCommand(time: time, command: .placeOrder(id: ids[i], account: owners[i], symbol: "BTCUSDT",
                                                                                  quantity: quantity, price: mark, reduceOnly: false))).count
            end = BenchClock.now()
            latencies[i] = end - scheduled
            if i & 0xFFFF == 0 { progress?.poll() }
        }
        precondition(events >= operations)
        let p = Percentiles(latencies)
        return BenchResult(title: "pre-trade: \(accounts) accounts, \(operations) orders offered at \(Int(rate))/s (open loop)", members: [
            ("p50_ns", "p50 (ns)", .integer(Int(p.value(at: 50)))),
            ("p99_ns", "p99 (ns)", .integer(Int(p.value(at: 99)))),
            ("p9999_ns", "p99.99 (ns)", .integer(Int(p.value(at: 99.99)))),
            ("ops_per_second", "completed per second", .number(Double(operations) / (Double(max(end - t0, 1)) / 1e9))),
        ])
    }

    /// The command mix of the ordo-one benchmark `apply command mix` (deposit, fill, order,
    /// mark; one in eight marks moves 0.01 %), `commands` commands on `accounts` accounts. →
    /// `commands_per_second`.
    public static func apply(accounts: Int, commands: Int, progress: BenchProgress? = nil) -> BenchResult {
        progress?.report("building \(accounts) accounts")
        var engine = BenchBook.engine(accounts: accounts, progress: progress)
        let base = BenchBook.mark
        let up = base * FixedDecimal(raw: 1_000_100_000_000_000_000)  // ×1.0001
        let step = FixedDecimal(raw: 1_000_000_000_000_000)  // 0.001
        let fee = FixedDecimal(raw: 10_000_000_000_000_000)  // 0.01
        var time: Int64 = 1_000
        let prepared: [TimedCommand] = (1...max(commands, 1)).map { n in
            let account = "a\(n % accounts)"
            let command: EngineCommand
            switch n % 4 {
            case 0: command = .deposit(account: account, asset: "USDT", amount: FixedDecimal(10), settle: nil)
            case 1: command = .fill(account: account, symbol: "BTCUSDT", quantity: step, price: base, fee: fee, orderID: nil)
            case 2: command = .placeOrder(id: "o\(n)", account: account, symbol: "BTCUSDT", quantity: step, price: base, reduceOnly: false)
            default: command = .markPrice(symbol: "BTCUSDT", price: n % 8 == 3 ? up : base, sourceTime: time + Int64(n))
            }
            return TimedCommand(time: time + Int64(n), command: command)
        }
        time += 1
        _ = engine.apply(TimedCommand(time: time, command: .markPrice(symbol: "BTCUSDT", price: base, sourceTime: time)))
        progress?.report("applying \(commands) commands")
        var events = 0
        let start = BenchClock.now()
        for (n, command) in prepared.enumerated() {
            events &+= engine.apply(command).count
            if n & 0xFFFF == 0 { progress?.poll() }
        }
        let elapsed = BenchClock.now() - start
        precondition(events > 0)
        return BenchResult(title: "apply: \(commands) commands (deposit, fill, order, mark) on \(accounts) accounts", members: [
            ("commands_per_second", "commands per second", .number(Double(commands) / (Double(max(elapsed, 1)) / 1e9))),
        ])
    }

    /// A snapshot of an engine of `accounts` one-position accounts: `write_ms` (encoding the
    /// state, its state hash and checksum: `Snapshot.of`), `restore_ms` (decoding, rebuilding
    /// the at-risk index and checking the state hash: `Snapshot.restoredEngine`, what recovery
    /// does), `bytes` (the encoded body).
    public static func snapshot(accounts: Int, progress: BenchProgress? = nil) throws -> BenchResult {
        progress?.report("building \(accounts) accounts")
        let engine = BenchBook.engine(accounts: accounts, progress: progress)
        progress?.report("writing the snapshot")
        let writeStart = BenchClock.now()
        let snapshot = try Snapshot.of(engine, sequence: 1)
        _ = snapshot.checksum
        let written = BenchClock.now() - writeStart
        progress?.report("restoring it")
        let restoreStart = BenchClock.now()
        guard let restored = snapshot.restoredEngine() else { throw BenchError("the snapshot did not restore to the same state hash") }
        let restoredIn = BenchClock.now() - restoreStart
        precondition(restored.state.accounts.count == accounts)
        return BenchResult(title: "snapshot: \(accounts) accounts", members: [
            ("write_ms", "write (ms)", .number(Double(written) / 1e6)),
            ("restore_ms", "restore (ms)", .number(Double(restoredIn) / 1e6)),
            ("bytes", "bytes", .integer(snapshot.body.count)),
        ])
    }
}

/// A benchmark that could not run (its message says why).
public struct BenchError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
