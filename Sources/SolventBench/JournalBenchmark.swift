import Foundation
public import SolventCore
import SolventEngine
import SolventJournal

/// Durable appends: canonical command bodies (fills, as the engine journals them) appended
/// in group commits of `batch` commands (one transaction, one fsync each).
public enum JournalBenchmark {
    /// Where to journal.
    public enum Target: Sendable {
        /// A fresh SQLite journal in a new folder inside this directory (WAL,
        /// `synchronous=FULL`, as `solvent simulate --data` opens it); removed afterwards.
        case sqlite(directory: String)
        /// A fresh schema of this PostgreSQL database (left in place).
        case postgres(url: String)
    }

    /// → `durable_commands_per_second`: `commands` over the wall clock of every append.
    public static func run(_ target: Target, commands: Int, batch: Int, progress: BenchProgress? = nil) throws -> BenchResult {
        let tag = "\(getpid())_\(BenchClock.now())"
        let journal: any Journal
        var cleanup: String? = nil
        let name: String
        switch target {
        case .sqlite(let directory):
            let folder = directory + "/solvent-bench-journal-\(tag)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            journal = try SQLiteJournal.create(directory: folder, genesis: Array("{}".utf8))
            cleanup = folder
            name = "SQLite (WAL, synchronous=FULL)"
        case .postgres(let url):
            journal = try PostgresJournal(url: url, schema: "solvent_bench_\(tag)")
            try journal.writeGenesis(Array("{}".utf8))
            name = "PostgreSQL"
        }
        defer { if let cleanup { try? FileManager.default.removeItem(atPath: cleanup) } }
        let price = FixedDecimal(65_010)
        let fee = FixedDecimal(raw: 410_000_000_000_000_000)
        let quantity = FixedDecimal(raw: 125_000_000_000_000_000)
        var elapsed: UInt64 = 0
        var done = 0
        while done < commands {
            let count = min(batch, commands - done)
            let records = (0..<count).map { k -> JournalRecord in
                let n = done + k
                let timed = TimedCommand(time: 1_704_067_200_000 + Int64(n), command: .fill(account: "acct-\(n % 100_000)", symbol: "BTCUSDT",
                                                                                          quantity: quantity, price: price, fee: fee, orderID: nil))
                return JournalRecord(key: "k\(n)", body: timed.canonicalJSON)
            }
            let start = BenchClock.now()
            let outcomes = try journal.append(records: records)
            elapsed += BenchClock.now() - start
            guard outcomes.count == count else { throw BenchError("the journal stored \(outcomes.count) of \(count) commands") }
            done += count
            progress?.report("\(done) of \(commands) commands journaled")
        }
        return BenchResult(title: "journal: \(commands) commands, \(name), group commits of \(batch)", members: [
            ("durable_commands_per_second", "durable commands per second", .number(Double(commands) / (Double(max(elapsed, 1)) / 1e9))),
        ])
    }
}
