import Foundation
import GRDB

/// The embedded journal: one SQLite file in WAL mode (GRDB), schema by migrations.
public final class SQLiteJournal: Journal {
    private let database: DatabaseQueue

    /// Opens (or creates) `journal.sqlite` in `directory`.
    public init(directory: String) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            database = try DatabaseQueue(path: directory + "/journal.sqlite", configuration: configuration)
            try Self.migrator.migrate(database)
        } catch {
            throw JournalError("cannot open the journal in \(directory): \(error)")
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "genesis") { t in
                t.column("id", .integer).primaryKey()
                t.column("body", .blob).notNull()
                t.column("checksum", .integer).notNull()
            }
            try db.create(table: "command") { t in
                t.column("sequence", .integer).primaryKey()
                t.column("key", .text).notNull().unique()
                t.column("body", .blob).notNull()
                t.column("checksum", .integer).notNull()
            }
        }
        return migrator
    }

    public func writeGenesis(_ body: [UInt8]) throws {
        try database.write { db in
            if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM genesis") ?? 0 > 0 {
                throw JournalError("the journal already has a genesis document")
            }
            try db.execute(sql: "INSERT INTO genesis (id, body, checksum) VALUES (1, ?, ?)",
                           arguments: [Data(body), Int64(CRC32C.checksum(body))])
        }
    }

    public func append(key: String, body: [UInt8]) throws -> AppendOutcome {
        try append(batch: [(key, body)])[0]
    }

    public func append(batch: [(key: String, body: [UInt8])]) throws -> [AppendOutcome] {
        try database.write { db in
            var next = (try Int64.fetchOne(db, sql: "SELECT MAX(sequence) FROM command") ?? 0) + 1
            var outcomes: [AppendOutcome] = []
            for (key, body) in batch {
                let storedKey = key.isEmpty ? "seq-\(next)" : key
                if let existing = try Int64.fetchOne(db, sql: "SELECT sequence FROM command WHERE key = ?", arguments: [storedKey]) {
                    outcomes.append(.duplicate(sequence: existing))
                    continue
                }
                let entry = JournalEntry(sequence: next, key: storedKey, body: body)
                try db.execute(sql: "INSERT INTO command (sequence, key, body, checksum) VALUES (?, ?, ?, ?)",
                               arguments: [entry.sequence, entry.key, Data(body), Int64(entry.checksum)])
                outcomes.append(.appended(sequence: next))
                next += 1
            }
            return outcomes
        }
    }

    public func read() throws -> JournalContents {
        try database.read { db in
            var genesis: [UInt8]? = nil
            if let row = try Row.fetchOne(db, sql: "SELECT body, checksum FROM genesis WHERE id = 1") {
                let body = [UInt8](row["body"] as Data)
                guard UInt32(truncatingIfNeeded: row["checksum"] as Int64) == CRC32C.checksum(body) else {
                    throw JournalError("the genesis document is damaged (checksum mismatch)")
                }
                genesis = body
            }
            let rows = try Row.fetchAll(db, sql: "SELECT sequence, key, body, checksum FROM command ORDER BY sequence")
            var entries: [JournalEntry] = []
            for (n, row) in rows.enumerated() {
                var entry = JournalEntry(sequence: row["sequence"], key: row["key"], body: [UInt8](row["body"] as Data))
                entry.checksum = UInt32(truncatingIfNeeded: row["checksum"] as Int64)
                guard entry.sequence == Int64(n) + 1, entry.isIntact else {
                    return JournalContents(genesis: genesis, entries: entries, discardedTail: rows.count - n)
                }
                entries.append(entry)
            }
            return JournalContents(genesis: genesis, entries: entries, discardedTail: 0)
        }
    }
}
