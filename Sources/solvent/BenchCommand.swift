import ArgumentParser
import Foundation
import SolventBench
import SolventCore
import SolventRisk

/// `solvent bench`: the hot paths measured in this binary (as pgbench, redis-benchmark and
/// tigerbeetle benchmark ship in theirs). Argument parsing only; the measuring code is
/// SolventBench. Results and how to read them: BENCHMARKS.md.
struct BenchCommand: ParsableCommand {
    static let exitCodes = "Exit status: 0 measured; 1 the benchmark could not run (a journal that cannot be written, a snapshot that does not restore); 2 bad input (the message names the flag)."
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the hot paths: rescan, tick, pretrade, apply, journal, snapshot.",
        discussion: """
            Each subcommand prints a table on a terminal, one JSON object with --json or when standard output is not a terminal. \
            Progress goes to standard error for runs longer than a second. Build with -c release to measure.

            \(exitCodes)
            """,
        subcommands: [Rescan.self, Tick.self, Pretrade.self, Apply.self, Journal.self, Snapshot.self, BatchUndo.self, Memory.self, CRC.self])

    static func output(_ result: BenchResult, _ output: OutputOptions) {
        var writer = JSONWriter()
        writer.beginObject()
        var rows: [(String, String)] = []
        for member in result.members {
            writer.key(member.key)
            let text: String
            switch member.value {
            case .integer(let n): text = String(n)
            case .number(let x): text = x.isFinite ? String(format: "%.3f", x) : "0"
            }
            writer.raw(text)
            rows.append((member.label, text))
        }
        writer.endObject()
        output.print(json: writer.string, title: result.title, rows: rows)
    }

    static func progress(_ name: String) -> BenchProgress {
        BenchProgress(label: "solvent bench \(name)") { ProcessIO.writeStderr($0) }
    }

    static func positive(_ value: Int, _ flag: String) {
        guard value > 0 else { ProcessIO.fail("\(flag): must be positive, got \(value)", status: 2) }
        // A bound far above any machine's book, so `accounts * 100` and the schedules cannot overflow (attacks/README.md 26).
        guard value <= 1_000_000_000 else { ProcessIO.fail("\(flag): at most 1e9, got \(value)", status: 2) }
    }

    struct Rescan: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Evaluate every account of an evaluate-contract book in process: {positions, positions_per_second}.",
            discussion: "The book is decoded once, untimed; the median of --repeat passes is reported. Without --prices: pool numbers and statuses only.\n\n" + BenchCommand.exitCodes)
        @Option(name: .long, help: "An evaluate-contract book (docs/evaluate.md), e.g. from scripts/gen_big_book.py.") var book: String
        @Option(name: .long, help: "Timed passes over the book (default 5).") var `repeat` = 5
        @Flag(name: .long, help: "Also compute liquidation and bankruptcy prices.") var prices = false
        @Option(name: .long, help: "columnar (ColumnarEvaluator over a struct-of-arrays book, the default) or legacy (MarginEvaluator per account).") var path = "columnar"
        @OptionGroup var output: OutputOptions

        func run() throws {
            BenchCommand.positive(`repeat`, "--repeat")
            guard let rescanPath = RescanPath(rawValue: path) else { ProcessIO.fail("--path: columnar or legacy, got \(path)", status: 2) }
            let progress = BenchCommand.progress("rescan")
            progress.report("reading \(book)")
            let input: EvaluateInput
            do { input = try EvaluateInput.decode(JSONParser.parse(ProcessIO.readInput(book))) } catch { ProcessIO.fail("--book: \(error)", status: 2) }
            switch rescanPath {
            case .columnar: BenchCommand.output(EngineBenchmarks.columnarRescan(input, repeats: `repeat`, prices: prices, progress: progress), output)
            case .legacy: BenchCommand.output(EngineBenchmarks.rescan(input, repeats: `repeat`, prices: prices, progress: progress), output)
            }
        }
    }

    struct Tick: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark ticks on which a fraction of the accounts cross a threshold: {accounts, crossing, tick_ms_p50, tick_ms_max, events}.",
            discussion: "One BTCUSDT position per account; ticks alternate between the crossing move down and the move back.\n\n" + BenchCommand.exitCodes)
        @Option(name: .long, help: "Accounts in the book.") var accounts: Int
        @Option(name: .long, help: "Fraction of the accounts the move down takes to the warning ratio, in (0, 0.5].") var crossFraction: Double
        @Option(name: .long, help: "Ticks timed (default 20).") var ticks = 20
        @OptionGroup var output: OutputOptions

        func run() throws {
            BenchCommand.positive(accounts, "--accounts")
            BenchCommand.positive(ticks, "--ticks")
            guard crossFraction > 0, crossFraction <= 0.5 else { ProcessIO.fail("--cross-fraction: must be in (0, 0.5], got \(crossFraction)", status: 2) }
            BenchCommand.output(EngineBenchmarks.tick(accounts: accounts, crossFraction: crossFraction, ticks: ticks, progress: BenchCommand.progress("tick")), output)
        }
    }

    struct Pretrade: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pre-trade checks (place order) offered open loop at a rate: {p50_ns, p99_ns, p9999_ns, ops_per_second}.",
            discussion: "Latency runs from each order's scheduled start (no coordinated omission); percentiles are exact over every order.\n\n" + BenchCommand.exitCodes)
        @Option(name: .long, help: "Accounts in the book.") var accounts: Int
        @Option(name: .long, help: "Offered orders per second (default 100000).") var rate = 100_000.0
        @Option(name: .long, help: "Orders offered (default 2 s at the rate, at most 200000 and 100 per account).") var operations: Int?
        @OptionGroup var output: OutputOptions

        func run() throws {
            BenchCommand.positive(accounts, "--accounts")
            // At least one order a second: a slower schedule's interval (1e9/rate ns) leaves UInt64 (attacks/README.md 26).
            guard rate >= 1, rate <= 1e9 else { ProcessIO.fail("--rate: must be in [1, 1e9], got \(rate)", status: 2) }
            let count = operations ?? max(1, min(Int(rate * 2), 200_000, accounts * 100))
            BenchCommand.positive(count, "--operations")
            guard count <= accounts * 100 else { ProcessIO.fail("--operations: at most 100 per account (\(accounts * 100))", status: 2) }
            BenchCommand.output(EngineBenchmarks.pretrade(accounts: accounts, rate: rate, operations: count, progress: BenchCommand.progress("pretrade")), output)
        }
    }

    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply the command mix of the ordo-one benchmark (deposit, fill, order, mark): {commands_per_second}.",
            discussion: BenchCommand.exitCodes)
        @Option(name: .long, help: "Accounts in the book.") var accounts: Int
        @Option(name: .long, help: "Commands applied (default 200000).") var commands = 200_000
        @OptionGroup var output: OutputOptions

        func run() throws {
            BenchCommand.positive(accounts, "--accounts")
            BenchCommand.positive(commands, "--commands")
            BenchCommand.output(EngineBenchmarks.apply(accounts: accounts, commands: commands, progress: BenchCommand.progress("apply")), output)
        }
    }

    struct BatchUndo: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "batch-undo",
            abstract: "A cluster node's cost of keeping the engine as before each batch: {plain_us_p50, kept_us_p50, copy_us_p50, kept_us_max}.",
            discussion: BenchCommand.exitCodes)
        @Option(name: .long, help: "Accounts in the book.") var accounts: Int
        @Option(name: .long, help: "One-deposit batches timed each way (default 200).") var batches = 200
        @OptionGroup var output: OutputOptions

        func run() throws {
            BenchCommand.positive(accounts, "--accounts")
            BenchCommand.positive(batches, "--batches")
            guard batches <= 1_000_000 else { ProcessIO.fail("--batches: at most 1000000", status: 2) }
            BenchCommand.output(EngineBenchmarks.batchUndo(accounts: accounts, batches: batches, progress: BenchCommand.progress("batch-undo")), output)
        }
    }

    struct Journal: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Durable group-commit appends of command bodies: {durable_commands_per_second}.",
            discussion: "SQLite (WAL, synchronous=FULL) in a new folder inside --data, removed afterwards; or PostgreSQL with --postgres (a new schema).\n\n" + BenchCommand.exitCodes)
        @Option(name: .long, help: "Directory for the SQLite journal.") var data: String?
        @Option(name: .long, help: "postgres://user@host:port/database instead of SQLite.") var postgres: String?
        @Option(name: .long, help: "Commands journaled (default 200000).") var commands = 200_000
        @Option(name: .long, help: "Commands per group commit (default 10000).") var batch = 10_000
        @Flag(name: .long, help: "SQLite: also write the same groups with raw SQLite inserts and with the pre-issue-18 append, interleaved in the same run.") var peers = false
        @OptionGroup var output: OutputOptions

        func run() throws {
            BenchCommand.positive(commands, "--commands")
            BenchCommand.positive(batch, "--batch")
            let target: JournalBenchmark.Target
            switch (data, postgres) {
            case (let directory?, nil): target = .sqlite(directory: directory)
            case (nil, let url?): target = .postgres(url: url)
            default: ProcessIO.fail("give exactly one of --data DIR and --postgres URL", status: 2)
            }
            do {
                BenchCommand.output(try JournalBenchmark.run(target, commands: commands, batch: batch, peers: peers, progress: BenchCommand.progress("journal")), output)
            } catch { ProcessIO.fail("solvent bench journal: \(error)", status: 1) }
        }
    }

    struct Snapshot: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write and restore a snapshot of the whole engine state: {write_ms, restore_ms, bytes}.",
            discussion: "Restore is what recovery does: decode, rebuild the at-risk index, check the state hash.\n\n" + BenchCommand.exitCodes)
        @Option(name: .long, help: "Accounts in the book.") var accounts: Int
        @OptionGroup var output: OutputOptions

        func run() throws {
            BenchCommand.positive(accounts, "--accounts")
            do {
                BenchCommand.output(try EngineBenchmarks.snapshot(accounts: accounts, progress: BenchCommand.progress("snapshot")), output)
            } catch { ProcessIO.fail("solvent bench snapshot: \(error)", status: 1) }
        }
    }

    struct Memory: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Memory per account of an engine of one-position accounts, with a breakdown: {heap_bytes_per_account, rss_bytes_per_account, …}.",
            discussion: "Heap from glibc's mallinfo2, each part from malloc_usable_size of its allocations (MemoryBenchmark.swift).\n\n" + BenchCommand.exitCodes)
        @Option(name: .long, help: "Accounts in the book.") var accounts: Int
        @OptionGroup var output: OutputOptions

        func run() throws {
            BenchCommand.positive(accounts, "--accounts")
            BenchCommand.output(MemoryBenchmark.run(accounts: accounts, progress: BenchCommand.progress("memory")), output)
        }
    }
}
