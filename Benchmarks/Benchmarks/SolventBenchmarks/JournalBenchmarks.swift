import Benchmark
import Foundation
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
