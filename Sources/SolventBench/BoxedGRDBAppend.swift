import Foundation
import GRDB
import SolventJournal

/// The append path as it was before issue 18 (SQLiteJournal.append at d15d410), kept in the
/// benchmark only so that old and new run in the same process on the same rows (A/B): GRDB
/// statement arguments boxed per row, a `Data` copy of the body, the checksum over a header
/// array concatenated with the body, and the event statements looked up per command. Same
/// schema, pragmas and transaction per group.
final class BoxedGRDBAppend {
    private let database: DatabaseQueue

    init(folder: String) throws {
        _ = try SQLiteJournal.create(directory: folder, genesis: Array("{}".utf8))
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        database = try DatabaseQueue(path: folder + "/journal.sqlite", configuration: configuration)
    }

    func append(records: [JournalRecord]) throws -> Int {
        try database.write { db in
            var next = (try Int64.fetchOne(db, sql: "SELECT MAX(sequence) FROM command") ?? 0) + 1
            let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO command (sequence, key, body, checksum, request_sha256) VALUES (?, ?, ?, ?, ?)")
            var appended = 0
            for record in records {
                let storedKey = record.key.isEmpty ? "seq-\(next)" : record.key
                let checksum = CRC32C.checksum(Array("\(next)\n\(storedKey)\n".utf8) + record.body)
                try insert.execute(arguments: [next, storedKey, Data(record.body), Int64(checksum), record.requestHash])
                if db.changesCount == 0 { continue }
                let events = try db.cachedStatement(sql: "INSERT OR REPLACE INTO event (sequence, command, time, kind, account, body) VALUES (?, ?, ?, ?, ?, ?)")
                for e in record.events { try events.execute(arguments: [e.sequence, next, e.time, e.kind, e.account, e.body]) }
                try db.cachedStatement(sql: "INSERT OR REPLACE INTO result (sequence, body) VALUES (?, x'')").execute(arguments: [next])
                appended += 1
                next += 1
            }
            return appended
        }
    }
}
