import ArgumentParser
import SolventBench

extension BenchCommand {
    /// `solvent bench crc`: CRC-32C with the CPU's instruction against the tables.
    struct CRC: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "crc",
            abstract: "CRC-32C throughput, instruction vs tables, same bytes and run: {hardware_mb_per_second, table_mb_per_second, speedup, …_256}.",
            discussion: BenchCommand.exitCodes)
        @Option(name: .long, help: "Bytes checksummed per round (default 67108864).") var bytes = 64 << 20
        @Option(name: .long, help: "Rounds, each path once per round in rotating order (default 5).") var repeats = 5
        @OptionGroup var output: OutputOptions

        func run() throws {
            BenchCommand.positive(bytes, "--bytes")
            BenchCommand.positive(repeats, "--repeats")
            guard bytes <= 1 << 32 else { ProcessIO.fail("--bytes: at most 4294967296", status: 2) }
            guard repeats <= 1_000 else { ProcessIO.fail("--repeats: at most 1000", status: 2) }
            BenchCommand.output(CRCBenchmark.run(bytes: bytes, repeats: repeats, progress: BenchCommand.progress("crc")), output)
        }
    }
}
