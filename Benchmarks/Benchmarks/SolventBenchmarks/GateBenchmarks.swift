import Benchmark
import Foundation
import SolventCore
import SolventEngine
import SolventJournal
import SolventRisk

/// The regression gate (as swift-nio does it): allocation counts of the hot paths, with static
/// thresholds checked in under Benchmarks/Thresholds/. Counts, not seconds, so the gate is
/// stable on any machine:
///
///     swift package benchmark thresholds check --filter "gate:.*"
///     swift package --allow-writing-to-package-directory benchmark thresholds update --filter "gate:.*"
func gateBenchmarks() {
    let gate = Benchmark.Configuration(metrics: [.mallocCountTotal], maxDuration: .seconds(5), maxIterations: 200)

    // A price tick through the at-risk index when no account crosses: 2 allocations today.
    Benchmark("gate:mark_tick_via_index_100000_accounts", configuration: gate) { benchmark in
        var engine = Books.shared.engine(accounts: 100_000)
        var time = engine.state.time + 1
        let base = engine.state.market.marks[0]!
        _ = engine.apply(TimedCommand(time: time, command: .tick))
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            time += 1
            blackHole(engine.apply(TimedCommand(time: time, command: .markPrice(symbol: "BTCUSDT", price: base * FixedDecimal("1.0001")!, sourceTime: time))))
        }
        benchmark.stopMeasurement()
    } setup: {
        _ = Books.shared.engine(accounts: 100_000)
    }

    // One account's evaluation (about 2.5 positions): the result arrays only.
    Benchmark("gate:evaluate_one_account", configuration: gate) { benchmark in
        let input = Books.shared.input(accounts: 4_000)
        let evaluator = MarginEvaluator(market: input.market, policy: input.policy)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(evaluator.evaluate(input.accounts[17])) }
        benchmark.stopMeasurement()
    }

    // The options grid's inner loop: no allocation per revaluation.
    Benchmark("gate:option_grid_revaluation", configuration: gate) { benchmark in
        let grid = OptionGrid(forward: 50_000, strike: 55_000, years: 0.25, rate: 0, isCall: true)
        benchmark.startMeasurement()
        for k in benchmark.scaledIterations { blackHole(grid.value(growth: 1 + Double(k % 7) / 100, logGrowth: 0.01, vol: 0.6)) }
        benchmark.stopMeasurement()
    }

    // A deposit applied to a 100k-account engine (event construction dominates).
    Benchmark("gate:apply_deposit_100000_accounts", configuration: gate) { benchmark in
        var engine = Books.shared.engine(accounts: 100_000)
        var time = engine.state.time + 1
        _ = engine.apply(TimedCommand(time: time, command: .deposit(account: "a0", asset: "USDT", amount: 1, settle: nil)))
        benchmark.startMeasurement()
        for k in benchmark.scaledIterations {
            time += 1
            blackHole(engine.apply(TimedCommand(time: time, command: .deposit(account: "a\(k % 1000)", asset: "USDT", amount: 1, settle: nil))))
        }
        benchmark.stopMeasurement()
    } setup: {
        _ = Books.shared.engine(accounts: 100_000)
    }

    // A group commit of 1,000 commands to the SQLite journal (WAL, synchronous=FULL): the records
    // are built before the measurement, so this counts the append path only (≈ 11 per command,
    // about 11,000 per append, before issue 18's bound, chunked inserts).
    let journal = GateJournal()
    Benchmark("gate:sqlite_journal_append_1000", configuration: .init(metrics: [.mallocCountTotal], maxDuration: .seconds(5), maxIterations: 40)) { benchmark in
        let records = journal.nextRecords(1_000)
        _ = journal.journal
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(try! journal.journal.append(records: records)) }
        benchmark.stopMeasurement()
    }
}

/// A journal in a temporary folder shared by the gate's append iterations, with fresh keys for each.
private final class GateJournal: @unchecked Sendable {
    private var next = 0
    lazy var journal: SQLiteJournal = {
        let directory = NSTemporaryDirectory() + "solvent-gate-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try! SQLiteJournal.create(directory: directory, genesis: Array("{}".utf8))
    }()

    func nextRecords(_ count: Int) -> [JournalRecord] {
        defer { next += count }
        return (next..<(next + count)).map { n in
            JournalRecord(key: "k\(n)", body: Array(#"{"time":\#(1_704_067_200_000 + n),"type":"fill","account":"acct-\#(n % 100_000)","symbol":"BTCUSDT","quantity":"0.125","price":"65010","fee":"0.41"}"#.utf8))
        }
    }
}

