import Foundation
import Benchmark
import SolventCore
import SolventEngine
import SolventRisk

let benchmarks: @Sendable () -> Void = {
    journalBenchmarks()
    recoveryBenchmarks()
    reservesBenchmarks()
    optionsBenchmarks()
    labBenchmarks()
    gateBenchmarks()
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
        warmupIterations: 1, maxDuration: .seconds(10), maxIterations: 30)

    // Full margin evaluation of a random book (DESIGN.md contract): one iteration
    // evaluates every account once. positions/s = positions / wall clock per iteration.
    for accounts in [4_000, 40_000, 400_000] {
        Benchmark("evaluate book of \(accounts) accounts") { benchmark in
            let input = Books.shared.input(accounts: accounts)
            let evaluator = MarginEvaluator(market: input.market, policy: input.policy)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                for account in input.accounts { blackHole(evaluator.evaluate(account)) }
            }
            benchmark.stopMeasurement()
        } setup: {
            _ = Books.shared.input(accounts: accounts)
        }
    }

    // The same book as the Python peers (scripts/bench-peers exports SOLVENT_BENCH_BOOK, a
    // gen_big_book.py file): decoded once, outside the measurement; one iteration evaluates it all.
    if let path = ProcessInfo.processInfo.environment["SOLVENT_BENCH_BOOK"],
       let data = FileManager.default.contents(atPath: path),
       let input = try? EvaluateInput.decode(JSONParser.parse([UInt8](data))) {
        let positions = Books.positions(input)
        Benchmark("evaluate file book, \(positions) positions",
                  configuration: .init(metrics: [.wallClock, .mallocCountTotal], maxDuration: .seconds(20), maxIterations: 10)) { benchmark in
            let evaluator = MarginEvaluator(market: input.market, policy: input.policy)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                for account in input.accounts { blackHole(evaluator.evaluate(account)) }
            }
            benchmark.stopMeasurement()
        }
    }

    // Price ticks through the at-risk index on a book of healthy accounts: each
    // iteration moves the BTCUSDT mark by ±0.01% (few or no accounts cross a band).
    for accounts in [100_000, 1_000_000] {
        Benchmark("mark tick via index, \(accounts) accounts",
                  configuration: .init(metrics: [.wallClock, .mallocCountTotal], maxDuration: .seconds(10), maxIterations: 20_000)) { benchmark in
            var engine = Books.shared.engine(accounts: accounts)
            var time = engine.state.time + 1
            let base = engine.state.market.marks[0]!
            var up = true
            _ = engine.apply(TimedCommand(time: time, command: .tick))  // the copy-on-write copy, outside the measurement
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                time += 1
                up.toggle()
                let price = up ? base * FixedDecimal("1.0001")! : base
                blackHole(engine.apply(TimedCommand(time: time, command: .markPrice(symbol: "BTCUSDT", price: price, sourceTime: time))))
            }
            benchmark.stopMeasurement()
        } setup: {
            _ = Books.shared.engine(accounts: accounts)
        }
    }

    // The same tick by full rescan (the oracle), for comparison.
    Benchmark("mark tick via full rescan, 100000 accounts",
              configuration: .init(metrics: [.wallClock, .mallocCountTotal], maxDuration: .seconds(10), maxIterations: 20)) { benchmark in
        var engine = Books.shared.engine(accounts: 100_000)
        engine.fullRescan = true
        var time = engine.state.time + 1
        let base = engine.state.market.marks[0]!
        _ = engine.apply(TimedCommand(time: time, command: .tick))
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            time += 1
            blackHole(engine.apply(TimedCommand(time: time, command: .markPrice(symbol: "BTCUSDT", price: base, sourceTime: time))))
        }
        benchmark.stopMeasurement()
    } setup: {
        _ = Books.shared.engine(accounts: 100_000)
    }

    // Apply throughput for a command mix on 100k accounts: deposits, fills, orders, marks.
    // One sample = 1000 commands (scalingFactor .kilo): throughput is in thousands of commands/s.
    Benchmark("apply command mix, 100000 accounts",
              configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal], scalingFactor: .kilo,
                                   maxDuration: .seconds(10), maxIterations: 200)) { benchmark in
        var engine = Books.shared.engine(accounts: 100_000)
        var time = engine.state.time + 1
        var n = 0
        let base = engine.state.market.marks[0]!
        // Touch every structure once (copy-on-write copies of the shared engine happen here, unmeasured).
        _ = engine.apply(TimedCommand(time: time, command: .deposit(account: "a0", asset: "USDT", amount: 1, settle: nil)))
        _ = engine.apply(TimedCommand(time: time, command: .fill(account: "a1", symbol: "BTCUSDT", quantity: FixedDecimal("0.001")!, price: base, fee: 0, orderID: nil)))
        _ = engine.apply(TimedCommand(time: time, command: .placeOrder(id: "warm", account: "a2", symbol: "BTCUSDT", quantity: FixedDecimal("0.001")!, price: base, reduceOnly: false)))
        _ = engine.apply(TimedCommand(time: time, command: .markPrice(symbol: "BTCUSDT", price: base * FixedDecimal("1.0001")!, sourceTime: time)))
        _ = engine.apply(TimedCommand(time: time, command: .markPrice(symbol: "BTCUSDT", price: base, sourceTime: time)))
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            time += 1
            n += 1
            let account = "a\(n % 100_000)"
            let command: EngineCommand
            switch n % 4 {
            case 0: command = .deposit(account: account, asset: "USDT", amount: 10, settle: nil)
            case 1: command = .fill(account: account, symbol: "BTCUSDT", quantity: FixedDecimal("0.001")!, price: base, fee: FixedDecimal("0.01")!, orderID: nil)
            case 2: command = .placeOrder(id: "o\(n)", account: account, symbol: "BTCUSDT", quantity: FixedDecimal("0.001")!, price: base, reduceOnly: false)
            default: command = .markPrice(symbol: "BTCUSDT", price: n % 8 == 3 ? base * FixedDecimal("1.0001")! : base, sourceTime: time)
            }
            blackHole(engine.apply(TimedCommand(time: time, command: command)))
        }
        benchmark.stopMeasurement()
    } setup: {
        _ = Books.shared.engine(accounts: 100_000)
    }
}
