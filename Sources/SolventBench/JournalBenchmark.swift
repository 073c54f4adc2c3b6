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
    ///
    /// With `peers` (SQLite only) the same groups are also written, in the same run and
    /// interleaved group by group (the order rotating), by the raw SQLite peer
    /// (``RawSQLiteInsertPeer``: `raw_sqlite_commands_per_second`) and by the append path as it
    /// was before issue 18 (``BoxedGRDBAppend``: `boxed_grdb_commands_per_second`), each into a
    /// journal file of its own; `raw_to_journal` is the peer's rate over the journal's.
    public static func run(_ target: Target, commands: Int, batch: Int, peers: Bool = false, progress: BenchProgress? = nil) throws -> BenchResult {
        if peers, case .sqlite(let directory) = target { return try runWithPeers(directory: directory, commands: commands, batch: batch, progress: progress) }
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
        var elapsed: UInt64 = 0
        var done = 0
        while done < commands {
            let count = min(batch, commands - done)
            let records = Self.records(from: done, count: count)
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

    /// Commands `from ..< from + count` of the benchmark: fills of 0.125 BTC over 100,000
    /// accounts as the engine journals them (canonical JSON), keys `k<n>`.
    static func records(from: Int, count: Int) -> [JournalRecord] {
        let price = FixedDecimal(65_010)
        let fee = FixedDecimal(raw: 410_000_000_000_000_000)
        let quantity = FixedDecimal(raw: 125_000_000_000_000_000)
        return (0..<count).map { k -> JournalRecord in
            let n = from + k
            let timed = TimedCommand(time: 1_704_067_200_000 + Int64(n), command: .fill(account: "acct-\(n % 100_000)", symbol: "BTCUSDT",
                                                                                      quantity: quantity, price: price, fee: fee, orderID: nil))
            return JournalRecord(key: "k\(n)", body: timed.canonicalJSON)
        }
    }

    static func runWithPeers(directory: String, commands: Int, batch: Int, progress: BenchProgress?) throws -> BenchResult {
        let root = directory + "/solvent-bench-journal-\(getpid())_\(BenchClock.now())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        for name in ["journal", "raw", "boxed"] { try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true) }
        let journal = try SQLiteJournal.create(directory: root + "/journal", genesis: Array("{}".utf8))
        let raw = try RawSQLiteInsertPeer(folder: root + "/raw")
        let boxed = try BoxedGRDBAppend(folder: root + "/boxed")
        var elapsed: [UInt64] = [0, 0, 0]  // journal, raw, boxed
        var cpu: [UInt64] = [0, 0, 0]
        var done = 0
        var group = 0
        while done < commands {
            let count = min(batch, commands - done)
            let records = Self.records(from: done, count: count)
            let rows = raw.rows(records)
            for k in 0..<3 {
                let which = (group + k) % 3
                let start = BenchClock.now(), startCPU = BenchCPUClock.now()
                let stored: Int
                switch which {
                case 0: stored = try journal.append(records: records).count
                case 1: try raw.insert(rows); stored = count
                default: stored = try boxed.append(records: records)
                }
                elapsed[which] += BenchClock.now() - start
                cpu[which] += BenchCPUClock.now() - startCPU
                guard stored == count else { throw BenchError("stored \(stored) of \(count) commands (path \(which))") }
            }
            done += count
            group += 1
            progress?.report("\(done) of \(commands) commands journaled three ways")
        }
        func rate(_ which: Int) -> Double { Double(commands) / (Double(max(elapsed[which], 1)) / 1e9) }
        func cpuPerCommand(_ which: Int) -> Double { Double(cpu[which]) / Double(commands) }
        return BenchResult(title: "journal: \(commands) commands, SQLite (WAL, synchronous=FULL), group commits of \(batch), with peers in the same run", members: [
            ("durable_commands_per_second", "durable commands per second (SQLiteJournal.append)", .number(rate(0))),
            ("raw_sqlite_commands_per_second", "raw SQLite inserts of the same rows per second (C API, bound in place)", .number(rate(1))),
            ("boxed_grdb_commands_per_second", "the pre-issue-18 append (GRDB argument arrays) per second", .number(rate(2))),
            ("raw_to_journal", "raw SQLite rate / journal rate", .number(rate(1) / rate(0))),
            ("journal_cpu_ns_per_command", "journal: thread CPU ns per command (no waits)", .number(cpuPerCommand(0))),
            ("raw_sqlite_cpu_ns_per_command", "raw SQLite: thread CPU ns per command", .number(cpuPerCommand(1))),
            ("boxed_grdb_cpu_ns_per_command", "pre-issue-18 append: thread CPU ns per command", .number(cpuPerCommand(2))),
        ])
    }
}
