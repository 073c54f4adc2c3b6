import Foundation
public import SolventCore

/// Where a journal lives: the one place that chooses between SQLite (a data folder), PostgreSQL
/// (a URL and a schema) and memory. The service, `simulate`, `replay`, `journal inspect` and
/// `reserves snapshot` all open their journal through it.
public enum JournalBackend: Sendable, Hashable {
    /// `journal.sqlite` in a data folder (the embedded default).
    case sqlite(directory: String)
    /// A schema of a PostgreSQL database.
    case postgres(url: String, schema: String)
    /// No durability (same semantics: idempotency keys, reorganization rollback).
    case memory

    /// PostgreSQL when `postgres` is given, else SQLite in `directory`, else memory.
    public init(directory: String?, postgres: String?, schema: String = "solvent") {
        if let postgres {
            self = .postgres(url: postgres, schema: schema)
        } else if let directory {
            self = .sqlite(directory: directory)
        } else {
            self = .memory
        }
    }

    /// Opens the journal that is there (SQLite: the file must exist).
    public func open() throws -> any Journal {
        switch self {
        case .sqlite(let directory): try SQLiteJournal(directory: directory, create: false)
        case .postgres(let url, let schema): try PostgresJournal(url: url, schema: schema)
        case .memory: MemoryJournal()
        }
    }

    /// Starts a new journal from `scenario` (its genesis); SQLite creates the folder when missing
    /// and the file appears atomically with its genesis.
    public func create(scenario: JSONValue, snapshotEvery: Int = 1000, fullRescan: Bool = false) throws -> JournaledEngine {
        switch self {
        case .sqlite(let directory):
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            return try JournaledEngine.create(scenario: scenario, sqliteDirectory: directory, snapshotEvery: snapshotEvery, fullRescan: fullRescan)
        case .postgres, .memory:
            return try JournaledEngine.create(scenario: scenario, journal: open(), snapshotEvery: snapshotEvery, fullRescan: fullRescan)
        }
    }

    /// The engine of the journal that is there (recovered from its latest snapshot and tail), or
    /// a new journal started from `genesis` when there is none.
    public func openOrCreate(genesis: @autoclosure () throws -> JSONValue, snapshotEvery: Int = 1000) throws -> JournaledEngine {
        switch self {
        case .sqlite(let directory):
            if FileManager.default.fileExists(atPath: directory + "/journal.sqlite") {
                return try JournaledEngine.recover(journal: open(), snapshotEvery: snapshotEvery).engine
            }
            return try create(scenario: genesis(), snapshotEvery: snapshotEvery)
        case .postgres:
            let journal = try open()
            if try journal.read(after: .max).genesis != nil {  // the genesis alone, not every command
                return try JournaledEngine.recover(journal: journal, snapshotEvery: snapshotEvery).engine
            }
            return try JournaledEngine.create(scenario: genesis(), journal: journal, snapshotEvery: snapshotEvery)
        case .memory:
            return try create(scenario: genesis(), snapshotEvery: snapshotEvery)
        }
    }
}
