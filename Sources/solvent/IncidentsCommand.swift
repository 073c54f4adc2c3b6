import ArgumentParser
import Foundation
import SolventCore
import SolventLab
import SolventRisk

/// Where the lab's unshipped data lives: `--data-root`, else `SOLVENT_DATA_ROOT`, else `data` (the shipped data, no minute bars).
struct DataRootOption: ParsableArguments {
    @Option(name: .long, help: "Folder of the research data (default: $SOLVENT_DATA_ROOT or data).") var dataRoot: String?

    var path: String { dataRoot ?? ProcessInfo.processInfo.environment["SOLVENT_DATA_ROOT"] ?? "data" }
}

struct IncidentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incidents",
        abstract: "Replay the incident library (2020-03-12, 2021-05-19, LUNA, FTX, 2025-10-10, and synthetic oracle-manipulation and illiquid-squeeze scenarios) through the engine.",
        discussion: """
            Real prices where the data has them (the first file found per incident: minute bars under \
            --data-root, else the shipped Examples/data windows); the two synthetic scenarios are built \
            deterministically and labelled so. Each incident is replayed under the industry tiers with a \
            seeded book and a small insurance fund; reported: liquidations, fund used, ADL, socialized \
            loss, bad debt, breakers tripped: for 2025-10-10 (the collateral de-peg) the engine's own             enforced liquidation breakers (pauses, with their reasons in the replay note); for the others,             how often the mark entered the zone beyond a ±5 % band around its reference (the price 5 minutes             earlier, or the external index in the oracle case), counted on the replayed prices, not enforced.             Each incident carries its replay note (replay_note in the JSON). A table on a terminal (--table),             else JSON (--json) (docs/lab.md).
            """)

    @OptionGroup var root: DataRootOption
    @Option(name: .long, help: "Synthetic traders per incident.") var accounts: Int = 1_000
    @Option(name: .long, help: "Seed of the trader population.") var seed: UInt64 = 1
    @Option(name: .long, help: "Opening insurance fund (USDT).") var fund: String = "50000"
    @Option(name: .long, help: "Only these incidents (ids, comma-separated).") var only: String?
    @OptionGroup var output: OutputOptions

    func run() throws {
        guard accounts >= 1 && accounts <= 100_000 else { ProcessIO.fail("--accounts: must be in 1...100000", status: 2) }
        guard let fundAmount = FixedDecimal(fund), !fundAmount.isNegative else { ProcessIO.fail("--fund: a decimal ≥ 0", status: 2) }
        var config = Incidents.Config()
        config.accounts = accounts
        config.seed = seed
        config.insuranceFund = fundAmount
        let wanted = only.map { Set($0.split(separator: ",").map(String.init)) }
        if let wanted, let unknown = wanted.first(where: { id in !Incidents.library.contains { $0.id == id } }) {
            ProcessIO.fail("--only: unknown incident \(unknown) (\(Incidents.library.map(\.id).joined(separator: ", ")))", status: 2)
        }
        let outcomes = Self.replayAll(root: root.path, config: config, only: wanted)
        output.print(json: IncidentsReport.json(dataRoot: root.path, config: config, outcomes: outcomes), table: Incidents.table(outcomes))
    }

    /// Replays every incident whose data is found (real ones without data are skipped with a note on stderr).
    static func replayAll(root: String, config: Incidents.Config, only: Set<String>? = nil) -> [Incidents.Outcome] {
        var outcomes: [Incidents.Outcome] = []
        for incident in Incidents.library where only?.contains(incident.id) ?? true {
            if incident.synthetic {
                let (bars, index) = Incidents.syntheticBars(incident)
                outcomes.append(Incidents.replay(incident, bars: bars, dataName: "synthetic", index: index, config: config))
                continue
            }
            let candidates = incident.files.map { $0.hasPrefix("Examples/") || $0.hasPrefix("data/") ? $0 : (root as NSString).appendingPathComponent($0) }
            guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                ProcessIO.writeStderr("incidents: \(incident.id): no data (tried \(candidates.joined(separator: ", "))), skipped")
                continue
            }
            let from = Timestamp.parseISO8601(incident.from)!, to = Timestamp.parseISO8601(incident.to)!
            let text: String
            do { text = try VolatilityCommand.readText(path) } catch { ProcessIO.fail("\(path): \(error)", status: 2) }
            let bars: [Bar]
            do { bars = try PriceHistory.parse(text).filter { $0.time >= from && $0.time < to } } catch { ProcessIO.fail("\(path): \(error.description)", status: 2) }
            guard bars.count >= 48 else {
                ProcessIO.writeStderr("incidents: \(incident.id): only \(bars.count) bars in \(path) for the window, skipped")
                continue
            }
            outcomes.append(Incidents.replay(incident, bars: bars, dataName: path, config: config))
        }
        return outcomes
    }
}
