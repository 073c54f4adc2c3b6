import ArgumentParser
import SolventCore
import SolventEngine
import SolventJournal

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Apply a scenario's commands to the engine; print events as JSON lines and a summary line.",
        discussion: "The scenario format is in docs/scenarios.md. Invalid scenario files exit with status 2.")

    @Option(name: .long, help: "The scenario JSON file, or - for standard input.")
    var scenario: String

    @Option(name: .long, help: "Apply only the first K commands.")
    var limit: Int?

    @Flag(name: .long, help: "Re-evaluate every account after every command (the oracle of the at-risk index).")
    var fullRescan = false

    @Option(name: .long, help: "Journal every command into this folder (SQLite) before applying it; `solvent replay` rebuilds from it.")
    var data: String?

    @Option(name: .long, help: "With --data: snapshot the whole state every N commands (and at the end).")
    var snapshotEvery: Int = 1000

    @Option(name: .long, help: "With --data: journal into PostgreSQL (postgres://user@host:port/database) instead of SQLite.")
    var postgres: String?

    @Option(name: .long, help: "With --postgres: the schema to create the journal in (must be new).")
    var schema: String = "solvent"

    @Flag(name: .long, help: "After each command is durable, print {\"type\":\"ack\",\"sequence\":N} (for crash tests and feeders).")
    var ack = false

    @Flag(name: .long, help: "After the summary, print each account's greeks (delta, gamma, vega per vol point, theta per day; docs/options.md) as {\"type\":\"greeks\",...} lines.")
    var greeks = false

    func run() throws {
        let bytes: [UInt8]
        do { bytes = try ProcessIO.readInput(scenario) } catch { ProcessIO.fail("\(error)", status: 2) }
        var journaled: JournaledEngine
        let commands: [JSONValue]
        do {
            let json = try JSONParser.parse(bytes)
            _ = try Scenario.decode(json)  // validates the whole file before anything is written
            guard case .array(let list)? = json["commands"] else { throw InputError(path: "commands", reason: "expected an array") }
            commands = list
            if snapshotEvery < 0 { throw InputError(path: "--snapshot-every", reason: "must not be negative") }
            if let limit, limit < 0 { throw InputError(path: "--limit", reason: "must not be negative") }
            // No --data and no --postgres: an in-memory journal keeps the same semantics
            // (idempotency keys, reorganization rollback) as a journaled run.
            journaled = try JournalBackend(directory: data, postgres: postgres, schema: schema)
                .create(scenario: json, snapshotEvery: snapshotEvery, fullRescan: fullRescan)
        } catch let error as InputError {
            ProcessIO.fail(error.description, status: 2)
        } catch {
            ProcessIO.fail("\(error)", status: 2)
        }
        for (n, command) in commands.prefix(limit ?? commands.count).enumerated() {
            var out = JSONWriter()
            let result = try journaled.submit(command, path: "commands[\(n)]")
            if ack, case .appended(let sequence) = result.outcome {
                out.beginObject()
                out.member("type", "ack")
                out.key("sequence")
                out.integer(sequence)
                out.endObject()
                out.endLine()
            }
            for event in result.events {
                event.write(into: &out)
                out.endLine()
            }
            ProcessIO.writeStdout(out.bytes)
        }
        if data != nil || postgres != nil { try journaled.snapshot() }  // a snapshot on shutdown
        ProcessIO.writeStdout(journaled.engine.summaryJSON() + "\n")
        if greeks {
            let engine = journaled.engine
            for record in engine.state.accounts where !record.account.positions.isEmpty {
                guard let view = engine.greeks(of: record.account.id) else { continue }
                ProcessIO.writeStdout("{\"type\":\"greeks\"," + view.json.dropFirst() + "\n")
            }
        }
    }
}
