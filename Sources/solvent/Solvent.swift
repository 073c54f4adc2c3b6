import ArgumentParser
import Foundation

@main
struct Solvent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "solvent",
        abstract: "Solvent: a real-time margin, margin-call and liquidation engine for leveraged crypto derivatives.",
        discussion: """
            Commands meant for people (option, volatility, stats) print a table on a terminal and JSON with --json \
            or when standard output is not a terminal; evaluate, simulate, replay and reserves print JSON. Each command's --help lists its exit codes.

            Exit status: 0 success; 1 a failure while running (a check or verification that does not hold, \
            a file that cannot be written, a server that cannot start); 2 bad input or usage: an unknown flag, \
            a missing option, a bad value (the message names the flag or the JSON path); 70 fail-stop: the journal could not be written after a command applied \
            (restart to recover from the journal, docs/journal.md).
            """,
        version: BuildInfo.description,
        subcommands: [EvaluateCommand.self, SimulateCommand.self, ReplayCommand.self, JournalCommand.self, OptionCommand.self, StatsCommand.self, VolatilityCommand.self, CalibrateCommand.self, BacktestCommand.self, CascadeCommand.self, IncidentsCommand.self, ReportCommand.self, ReservesCommand.self, ServeCommand.self, KeysCommand.self, DemoCommand.self, BenchCommand.self])

    /// ArgumentParser's own entry point, but a command line it cannot parse (unknown flag,
    /// missing option, failed validation: its exit code 64) exits with 2, the status of every
    /// other bad input of Solvent, so that one code means "fix the input".
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand { try await asyncCommand.run() } else { try command.run() }
        } catch {
            if exitCode(for: error).rawValue == ExitCode.validationFailure.rawValue {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
