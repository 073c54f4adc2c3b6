import Foundation
import GRDB
import SolventCore

/// The embedded journal: one SQLite file in WAL mode (GRDB), schema by migrations.
public final class SQLiteJournal: Journal {
    private let database: DatabaseQueue

    /// Creates a new journal in `directory` holding `genesis`. The file appears under its
    /// final name only once the genesis is committed (written as a temporary file, then
    /// renamed), so a crash at any moment leaves either no journal or one with its genesis.
    public static func create(directory: String, genesis: [UInt8]) throws -> SQLiteJournal {
        let path = directory + "/journal.sqlite"
        guard !FileManager.default.fileExists(atPath: path) else {
            throw JournalError("\(directory) already holds a journal")
        }
        let temporary = path + ".creating"
        try? FileManager.default.removeItem(atPath: temporary)
        do {
            let queue = try DatabaseQueue(path: temporary)
            try migrator.migrate(queue)
            try queue.write { db in
                try db.execute(sql: "INSERT INTO genesis (id, body, checksum) VALUES (1, ?, ?)",
                               arguments: [Data(genesis), Int64(CRC32C.checksum(genesis))])
            }
            try queue.close()
            try FileManager.default.moveItem(atPath: temporary, toPath: path)
        } catch {
            throw JournalError("cannot create the journal in \(directory): \(error)")
        }
        return try SQLiteJournal(directory: directory, create: false)
    }

    /// Opens `journal.sqlite` in `directory`; creates an empty one only when `create` is true.
    public init(directory: String, create: Bool = true) throws {
        if !create, !FileManager.default.fileExists(atPath: directory + "/journal.sqlite") {
            throw JournalError("no journal in \(directory) (no genesis written yet)")
        }
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
        migrator.registerMigration("v2-snapshots") { db in
            try db.create(table: "snapshot") { t in
                t.column("sequence", .integer).primaryKey()
                t.column("state_hash", .text).notNull()
                t.column("version", .integer).notNull()
                t.column("body", .blob).notNull()
                t.column("checksum", .integer).notNull()
            }
        }
        // `result(sequence, body)`: since v4 a marker that command `sequence`'s events are stored
        // (empty body); rows of the previous format keep their JSON lines (copied to `event`).
        migrator.registerMigration("v3-results") { db in
            try db.create(table: "result") { t in
                t.column("sequence", .integer).primaryKey()
                t.column("body", .blob).notNull()
            }
        }
        // The event store (docs/journal.md "Event store"): every event rendered once, written in
        // the transaction of its command; backfilled from the previous format's results, and
        // the request hash moved out of the command body into its own column.
        migrator.registerMigration("v4-events") { db in
            try db.alter(table: "command") { t in t.add(column: "request_sha256", .text) }
            try db.create(table: "event") { t in
                t.column("sequence", .integer).primaryKey()
                t.column("command", .integer).notNull()
                t.column("time", .integer).notNull()
                t.column("kind", .text).notNull()
                t.column("account", .text)
                t.column("body", .text).notNull()
            }
            try db.create(index: "event_command", on: "event", columns: ["command"])
            try db.create(index: "event_account", on: "event", columns: ["account", "sequence"])
            try db.create(index: "event_kind", on: "event", columns: ["kind", "sequence"])
            for row in try Row.fetchAll(db, sql: "SELECT sequence, body FROM result ORDER BY sequence") {
                let command: Int64 = row["sequence"]
                try insert(events: LegacyFormat.events(result: [UInt8](row["body"] as Data), command: command), command: command, db: db, marker: false)
            }
            let update = try db.makeStatement(sql: "UPDATE command SET request_sha256 = ? WHERE sequence = ?")
            for row in try Row.fetchAll(db, sql: "SELECT sequence, body FROM command WHERE instr(body, CAST('request_sha256' AS BLOB)) > 0") {
                if let hash = LegacyFormat.requestHash(body: [UInt8](row["body"] as Data)) { try update.execute(arguments: [hash, row["sequence"] as Int64]) }
            }
        }
        return migrator
    }

    /// Inserts events and the marker that command `sequence`'s events are stored.
    static func insert(events: [StoredEvent], command: Int64, db: Database, marker: Bool = true) throws {
        try SQLiteRecordWriter(db).insert(events: events, command: command, marker: marker)
    }

    public func recordEvents(_ results: [(command: Int64, events: [StoredEvent])]) throws {
        guard !results.isEmpty else { return }
        try database.write { db in
            let writer = try SQLiteRecordWriter(db)
            for (command, events) in results { try writer.insert(events: events, command: command) }
        }
    }

    public func lastEventCommand() throws -> Int64 {
        try database.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(sequence) FROM result") ?? 0 }
    }

    public func events(_ query: EventQuery) throws -> [StoredEvent] {
        var sql = "SELECT sequence, command, time, kind, account, body FROM event WHERE sequence > ?"
        var arguments: StatementArguments = [query.after]
        if let account = query.account { sql += " AND account = ?"; arguments += [account] }
        if let kind = query.kind { sql += " AND kind = ?"; arguments += [kind] }
        if let commands = query.commands { sql += " AND command BETWEEN ? AND ?"; arguments += [commands.lowerBound, commands.upperBound] }
        sql += " ORDER BY sequence LIMIT ?"
        arguments += [query.limit]
        return try database.read { db in try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.event) }
    }

    public func events(command: Int64) throws -> [StoredEvent] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT sequence, command, time, kind, account, body FROM event WHERE command = ? ORDER BY sequence",
                             arguments: [command]).map(Self.event)
        }
    }

    public func firstEventSequence() throws -> Int64? {
        try database.read { db in try Int64.fetchOne(db, sql: "SELECT MIN(sequence) FROM event") }
    }

    static func event(_ row: Row) -> StoredEvent {
        StoredEvent(sequence: row["sequence"], command: row["command"], time: row["time"], kind: row["kind"], account: row["account"], body: row["body"])
    }

    public func sequences(forKeys keys: [String]) throws -> [String: Int64] {
        guard !keys.isEmpty else { return [:] }
        return try database.read { db in
            let lookup = try db.cachedStatement(sql: "SELECT sequence FROM command WHERE key = ?")
            var known: [String: Int64] = [:]
            for key in keys where known[key] == nil {
                if let sequence = try Int64.fetchOne(lookup, arguments: [key]) { known[key] = sequence }
            }
            return known
        }
    }

    public func entry(sequence: Int64) throws -> JournalEntry? {
        try database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT key, body, checksum, request_sha256 FROM command WHERE sequence = ?", arguments: [sequence]) else { return nil }
            var entry = JournalEntry(sequence: sequence, key: row["key"], body: [UInt8](row["body"] as Data), requestHash: row["request_sha256"])
            entry.checksum = UInt32(truncatingIfNeeded: row["checksum"] as Int64)
            return entry.isIntact ? entry : nil
        }
    }

    public func writeSnapshot(_ snapshot: Snapshot) throws {
        try database.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO snapshot (sequence, state_hash, version, body, checksum) VALUES (?, ?, ?, ?, ?)",
                           arguments: [snapshot.sequence, snapshot.stateHash, snapshot.version, Data(snapshot.body), Int64(snapshot.checksum)])
        }
    }

    public func snapshots() throws -> [Snapshot] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT sequence, state_hash, version, body, checksum FROM snapshot ORDER BY sequence DESC").compactMap { row in
                let snapshot = Snapshot(sequence: row["sequence"], stateHash: row["state_hash"], version: row["version"], body: [UInt8](row["body"] as Data))
                return UInt32(truncatingIfNeeded: row["checksum"] as Int64) == snapshot.checksum ? snapshot : nil
            }
        }
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

    /// One group commit: every record in one transaction (one fsync at the commit, WAL,
    /// `synchronous=FULL`). The statements are prepared once per connection and bound in place
    /// (``SQLiteRecordWriter``: no argument arrays, no `Data` copy, the checksum computed over
    /// the body where it lies), whole chunks of records in multi-row inserts
    /// (``SQLiteChunkWriter``); the unique key makes a duplicate a no-op insert.
    public func append(records: [JournalRecord]) throws -> [AppendOutcome] {
        try database.write { db in
            var next = (try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(sequence) FROM command")) ?? 0) + 1
            let writer = try SQLiteRecordWriter(db)
            let chunks = records.count >= SQLiteChunkWriter.rows ? try SQLiteChunkWriter(db) : nil
            var buffer: [UInt8] = []
            var layout: [SQLiteChunkWriter.Layout] = []
            var outcomes: [AppendOutcome] = []
            outcomes.reserveCapacity(records.count)
            var index = records.startIndex
            while index < records.endIndex {
                // Whole chunks first; a chunk with a known or repeated key goes row by row below.
                var end = min(index + SQLiteChunkWriter.rows, records.endIndex)
                if let chunks, end - index == SQLiteChunkWriter.rows,
                   try chunks.insert(records[index..<end], first: next, buffer: &buffer, layout: &layout) {
                    for record in records[index..<end] {
                        if !record.events.isEmpty { try writer.insert(events: record.events, command: next, marker: false) }
                        outcomes.append(.appended(sequence: next))
                        next += 1
                    }
                    index = end
                    continue
                }
                if chunks == nil || end - index < SQLiteChunkWriter.rows { end = records.endIndex }
                for record in records[index..<end] {
                    let storedKey = record.key.isEmpty ? "seq-\(next)" : record.key
                    guard try writer.insertCommand(sequence: next, key: storedKey, body: record.body, requestHash: record.requestHash) else {
                        let lookup = try db.cachedStatement(sql: "SELECT sequence FROM command WHERE key = ?")
                        outcomes.append(.duplicate(sequence: try Int64.fetchOne(lookup, arguments: [storedKey]) ?? 0))
                        continue
                    }
                    try writer.insert(events: record.events, command: next)
                    outcomes.append(.appended(sequence: next))
                    next += 1
                }
                index = end
            }
            return outcomes
        }
    }

    public func read() throws -> JournalContents { try read(after: 0) }

    /// The genesis and the intact commands after `sequence` (a range read on the primary key:
    /// recovery from a snapshot reads only the tail).
    public func read(after sequence: Int64) throws -> JournalContents {
        try database.read { db in
            var genesis: [UInt8]? = nil
            if let row = try Row.fetchOne(db, sql: "SELECT body, checksum FROM genesis WHERE id = 1") {
                let body = [UInt8](row["body"] as Data)
                guard UInt32(truncatingIfNeeded: row["checksum"] as Int64) == CRC32C.checksum(body) else {
                    throw JournalError("the genesis document is damaged (checksum mismatch)")
                }
                genesis = body
            }
            let rows = try Row.fetchAll(db, sql: "SELECT sequence, key, body, checksum FROM command WHERE sequence > ? ORDER BY sequence", arguments: [max(0, sequence)])
            var entries: [JournalEntry] = []
            for (n, row) in rows.enumerated() {
                var entry = JournalEntry(sequence: row["sequence"], key: row["key"], body: [UInt8](row["body"] as Data))
                entry.checksum = UInt32(truncatingIfNeeded: row["checksum"] as Int64)
                guard entry.sequence == max(0, sequence) + Int64(n) + 1, entry.isIntact else {
                    return JournalContents(genesis: genesis, entries: entries, discardedTail: rows.count - n)
                }
                entries.append(entry)
            }
            return JournalContents(genesis: genesis, entries: entries, discardedTail: 0)
        }
    }
}
