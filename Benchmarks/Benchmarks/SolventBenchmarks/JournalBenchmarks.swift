import Benchmark
import Foundation
import SolventCore
import SolventJournal

/// A command body of realistic size (a fill, ~120 bytes).
private let body = Array(#"{"time":1704067200000,"type":"fill","account":"acct-123456","symbol":"BTCUSDT","quantity":"0.125","price":"65010.5","fee":"0.41"}"#.utf8)

private func freshJournal() -> SQLiteJournal {
    let directory = NSTemporaryDirectory() + "solvent-bench-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    return try! SQLiteJournal.create(directory: directory, genesis: Array("{}".utf8))
}

let journalBenchmarks: @Sendable () -> Void = {
    // Group commit: one transaction (one fsync) per batch of 10,000 commands, synchronous=FULL, WAL.
    Benchmark("sqlite journal append, batches of 10000",
              configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal], scalingFactor: .kilo,
                                   maxDuration: .seconds(10), maxIterations: 100)) { benchmark in
        let journal = freshJournal()
        var key = 0
        benchmark.startMeasurement()
        for _ in 0..<(benchmark.scaledIterations.count / 10_000 + 1) {
            let batch = (0..<10_000).map { _ in key += 1; return ("k\(key)", body) }
            blackHole(try! journal.append(batch: batch))
        }
        benchmark.stopMeasurement()
    }

    // One transaction (one fsync) per command: the acknowledgement latency of an unbatched feeder.
    Benchmark("sqlite journal append, one per transaction",
              configuration: .init(metrics: [.wallClock, .mallocCountTotal], maxDuration: .seconds(5), maxIterations: 2_000)) { benchmark in
        let journal = freshJournal()
        var key = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            key += 1
            blackHole(try! journal.append(key: "k\(key)", body: body))
        }
        benchmark.stopMeasurement()
    }
}

/// A journal of `count` commands (marks and fills over 1,000 accounts) written in batches
/// of 10,000, with or without a final snapshot; returns its directory.
private func journalOfCommands(_ count: Int, snapshot: Bool) -> String {
    let directory = NSTemporaryDirectory() + "solvent-recovery-\(count)-\(snapshot)-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    var accounts: [String] = []
    for n in 0..<1_000 {
        accounts.append(#"{"id":"a\#(n)","settle":"USDT","collateral":{"USDT":"100000"},"positions":[{"symbol":"BTCUSDT","quantity":"\#(n % 2 == 0 ? "" : "-")0.5","entry_price":"60000","leverage":"10"}]}"#)
    }
    let scenario = #"{"start":{"time":0,"assets":{"USDT":"1"},"instruments":[{"symbol":"BTCUSDT","kind":"linear_perpetual","base":"BTC","settle":"USDT","brackets":[{"notional_floor":"0","notional_cap":"100000000","max_leverage":"100","mmr":"0.005"}]}],"marks":{"BTCUSDT":"60000"},"accounts":[\#(accounts.joined(separator: ","))]},"parameters":{"mark_staleness_ms":1000000000},"commands":[]}"#
    var engine = try! JournaledEngine.create(scenario: try! JSONParser.parse(scenario), sqliteDirectory: directory, snapshotEvery: 0)
    var batch: [JSONValue] = []
    for n in 0..<count {
        let time = JSONValue.number(String(n + 1))
        if n % 2 == 0 {
            let price = 60_000 + (n / 2 % 200) - 100
            batch.append(.object([("time", time), ("type", .string("mark")), ("symbol", .string("BTCUSDT")), ("price", .string(String(price)))]))
        } else {
            batch.append(.object([("time", time), ("type", .string("fill")), ("account", .string("a\(n % 1_000)")), ("symbol", .string("BTCUSDT")),
                                  ("quantity", .string(n % 4 == 1 ? "0.001" : "-0.001")), ("price", .string("60000")), ("fee", .string("0.01"))]))
        }
        if batch.count == 10_000 {
            _ = try! engine.submit(batch: batch)
            batch.removeAll(keepingCapacity: true)
        }
    }
    if !batch.isEmpty { _ = try! engine.submit(batch: batch) }
    if snapshot { try! engine.snapshot() }
    return directory
}

private final class RecoveryFixtures: @unchecked Sendable {
    static let shared = RecoveryFixtures()
    private let lock = NSLock()
    private var directories: [Bool: String] = [:]
    func directory(snapshot: Bool) -> String {
        lock.lock()
        defer { lock.unlock() }
        if let directory = directories[snapshot] { return directory }
        let directory = journalOfCommands(1_000_000, snapshot: snapshot)
        directories[snapshot] = directory
        return directory
    }
}

let recoveryBenchmarks: @Sendable () -> Void = {
    // Recovery of 1,000,000 journaled commands: full replay from genesis, or from a snapshot.
    for snapshot in [false, true] {
        Benchmark("recover 1000000 commands, \(snapshot ? "from a snapshot" : "from genesis")",
                  configuration: .init(metrics: [.wallClock, .peakMemoryResident], maxDuration: .seconds(60), maxIterations: 3)) { benchmark in
            let directory = RecoveryFixtures.shared.directory(snapshot: snapshot)
            benchmark.startMeasurement()
            blackHole(try! JournaledEngine.recover(journal: SQLiteJournal(directory: directory, create: false)))
            benchmark.stopMeasurement()
        } setup: {
            _ = RecoveryFixtures.shared.directory(snapshot: snapshot)
        }
    }

    // PostgreSQL group commit, when a server is given (benchmarks never start one).
    if let url = ProcessInfo.processInfo.environment["SOLVENT_BENCH_POSTGRES_URL"] {
        Benchmark("postgres journal append, batches of 10000",
                  configuration: .init(metrics: [.wallClock, .mallocCountTotal], maxDuration: .seconds(20), maxIterations: 20)) { benchmark in
            let journal = try! PostgresJournal(url: url, schema: "bench_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())
            try! journal.writeGenesis(Array("{}".utf8))
            var key = 0
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                let batch = (0..<10_000).map { _ in key += 1; return ("k\(key)", body) }
                blackHole(try! journal.append(batch: batch))
            }
            benchmark.stopMeasurement()
            try? journal.destroy()
        }
    }
}
