import ArgumentParser

@main
struct Solvent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "solvent",
        abstract: "Solvent: a real-time margin, margin-call and liquidation engine for leveraged crypto derivatives.",
        subcommands: [EvaluateCommand.self, SimulateCommand.self, ReplayCommand.self, JournalCommand.self, OptionCommand.self, StatsCommand.self, VolatilityCommand.self, CalibrateCommand.self, BacktestCommand.self, CascadeCommand.self, IncidentsCommand.self, ReportCommand.self, ReservesCommand.self, ServeCommand.self, KeysCommand.self, DemoCommand.self])
}
