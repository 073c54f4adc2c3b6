import ArgumentParser
import SolventCore
import SolventEngine
import SolventJournal

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Rebuild the engine from a data folder's journal and print the summary line of `simulate`.",
        discussion: "Recovery stops at the last complete command: a torn or damaged tail is reported on stderr and left out.")

    @Option(name: .long, help: "The data folder written by `solvent simulate --data`.")
    var data: String = "."

    @Option(name: .long, help: "Read the journal from PostgreSQL instead (postgres://user@host:port/database).")
    var postgres: String?

    @Option(name: .long, help: "With --postgres: the schema holding the journal.")
    var schema: String = "solvent"

    func run() throws {
        do {
            let journal = try JournalBackend(directory: data, postgres: postgres, schema: schema).open()
            let (journaled, discarded, _) = try JournaledEngine.recover(journal: journal)
            if discarded > 0 { ProcessIO.writeStderr("replay: \(discarded) damaged or incomplete journal record(s) at the tail were left out") }
            ProcessIO.writeStdout(journaled.engine.summaryJSON() + "\n")
        } catch {
            ProcessIO.fail("replay: \(error)", status: 1)
        }
    }
}

struct JournalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal", abstract: "Look into a data folder's journal.", subcommands: [Inspect.self])

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the journaled commands (sequence, key, checksum, command).")

        @Option(name: .long, help: "The data folder.")
        var data: String

        @Option(name: .long, help: "Show at most this many commands.")
        var limit: Int = 100

        func run() throws {
            let contents: JournalContents
            let snapshots: [Snapshot]
            do {
                let journal = try JournalBackend.sqlite(directory: data).open()
                contents = try journal.read()
                snapshots = try journal.snapshots()
            } catch {
                ProcessIO.fail("journal: \(error)", status: 1)
            }
            var out = "genesis: \(contents.genesis.map { "\($0.count) bytes" } ?? "none")\n"
            out += "commands: \(contents.entries.count) intact, \(contents.discardedTail) damaged at the tail\n"
            out += "snapshots: \(snapshots.count) intact"
            out += snapshots.isEmpty ? " (recovery replays from genesis)\n" : ", newest after command \(snapshots[0].sequence) (state hash \(snapshots[0].stateHash))\n"
            for snapshot in snapshots { out += "snapshot\t\(snapshot.sequence)\t\(snapshot.stateHash)\t\(snapshot.body.count) bytes\n" }
            for entry in contents.entries.prefix(max(0, limit)) {
                out += "\(entry.sequence)\t\(entry.key)\tcrc32c=\(String(entry.checksum, radix: 16))\t\(String(decoding: entry.body, as: UTF8.self))\n"
            }
            ProcessIO.writeStdout(out)
        }
    }
}
