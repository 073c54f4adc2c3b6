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

    func run() throws {
        if data != nil || postgres != nil { return try runJournaled(data) }
        let bytes: [UInt8]
        do { bytes = try ProcessIO.readInput(scenario) } catch { ProcessIO.fail("\(error)", status: 2) }
        let parsed: Scenario
        var engine: Engine
        do {
            let json = try JSONParser.parse(bytes)
            parsed = try Scenario.decode(json)
            engine = try parsed.makeEngine(fullRescan: fullRescan)
        } catch let error as InputError {
            ProcessIO.fail(error.description, status: 2)
        } catch {
            ProcessIO.fail("\(error)", status: 2)
        }
        if let limit, limit < 0 { ProcessIO.fail("--limit: must not be negative", status: 2) }
        var out = JSONWriter(reservingCapacity: 1 << 16)
        for command in parsed.commands.prefix(limit ?? parsed.commands.count) {
            for event in engine.apply(command) {
                event.write(into: &out)
                out.endLine()
                out = Self.flushIfLarge(out)
            }
        }
        out.bytes.append(contentsOf: Array(engine.summaryJSON().utf8))
        out.bytes.append(0x0A)
        ProcessIO.writeStdout(out.bytes)
    }

    /// Journals each command (SQLite in `directory`, or PostgreSQL) before applying it.
    func runJournaled(_ directory: String?) throws {
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
            if let postgres {
                journaled = try JournaledEngine.create(scenario: json, journal: PostgresJournal(url: postgres, schema: schema), snapshotEvery: snapshotEvery)
            } else if let directory {
                try ProcessIO.makeDirectory(directory)
                journaled = try JournaledEngine.create(scenario: json, sqliteDirectory: directory, snapshotEvery: snapshotEvery)
            } else {
                throw InputError(path: "--data", reason: "give a data folder or --postgres")
            }
        } catch let error as InputError {
            ProcessIO.fail(error.description, status: 2)
        } catch {
            ProcessIO.fail("\(error)", status: 2)
        }
        if let limit, limit < 0 { ProcessIO.fail("--limit: must not be negative", status: 2) }
        for (n, command) in commands.prefix(limit ?? commands.count).enumerated() {
            var out = JSONWriter()
            for event in try journaled.submit(command, path: "commands[\(n)]").events {
                event.write(into: &out)
                out.endLine()
            }
            ProcessIO.writeStdout(out.bytes)
        }
        try journaled.snapshot()  // a snapshot on shutdown
        ProcessIO.writeStdout(journaled.engine.summaryJSON() + "\n")
    }

    static func flushIfLarge(_ writer: JSONWriter) -> JSONWriter {
        guard writer.bytes.count > 1 << 20 else { return writer }
        ProcessIO.writeStdout(writer.bytes)
        return JSONWriter(reservingCapacity: 1 << 16)
    }
}
