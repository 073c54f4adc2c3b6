import Foundation
import GRDBSQLite
import SolventJournal

/// The peer of the durable-append benchmark: the same rows (a command row and its events-stored
/// marker per command, in the journal's own schema, WAL, `synchronous=FULL`, one transaction per
/// group) inserted through SQLite's C interface with prepared statements and values bound in
/// place — multi-row inserts of 50 rows as the journal's, one-row ones for a remainder — keys,
/// bodies and checksums laid out in one buffer before the clock starts. So it
/// measures what SQLite itself costs for these rows; the journal's gap to it is Solvent's
/// per-command work.
final class RawSQLiteInsertPeer {
    private var connection: OpaquePointer?
    private var command: OpaquePointer?
    private var marker: OpaquePointer?
    private var commands: OpaquePointer?
    private var markers: OpaquePointer?
    private static let chunk = 50
    private var next: Int64 = 1

    /// A fresh journal file in `folder` (created by `SQLiteJournal.create`, so the schema and
    /// indexes are the journal's), opened directly.
    init(folder: String) throws {
        _ = try SQLiteJournal.create(directory: folder, genesis: Array("{}".utf8))
        guard sqlite3_open_v2(folder + "/journal.sqlite", &connection, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK else {
            throw BenchError("raw SQLite peer: cannot open \(folder)/journal.sqlite")
        }
        try execute("PRAGMA journal_mode = WAL")
        try execute("PRAGMA synchronous = FULL")
        command = try prepare("INSERT INTO command (sequence, key, body, checksum, request_sha256) VALUES (?, ?, ?, ?, NULL)")
        marker = try prepare("INSERT INTO result (sequence, body) VALUES (?, x'')")
        commands = try prepare("INSERT INTO command (sequence, key, body, checksum, request_sha256) VALUES " + Array(repeating: "(?, ?, ?, ?, NULL)", count: Self.chunk).joined(separator: ", "))
        markers = try prepare("INSERT INTO result (sequence, body) VALUES " + Array(repeating: "(?, x'')", count: Self.chunk).joined(separator: ", "))
    }

    deinit {
        sqlite3_finalize(command)
        sqlite3_finalize(marker)
        sqlite3_finalize(commands)
        sqlite3_finalize(markers)
        sqlite3_close_v2(connection)
    }

    private func message() -> String { String(cString: sqlite3_errmsg(connection)) }

    private func execute(_ sql: String) throws {
        guard sqlite3_exec(connection, sql, nil, nil, nil) == SQLITE_OK else { throw BenchError("raw SQLite peer: \(sql): \(message())") }
    }

    private func prepare(_ sql: String) throws -> OpaquePointer? {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v3(connection, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil) == SQLITE_OK else {
            throw BenchError("raw SQLite peer: \(sql): \(message())")
        }
        return statement
    }

    /// A group's rows: every key and body in one buffer, with their offsets and checksums.
    struct Rows {
        var bytes: [UInt8] = []
        var keys: [Range<Int>] = []
        var bodies: [Range<Int>] = []
        var checksums: [Int64] = []
    }

    /// The rows of `records`, numbered from the peer's next sequence (prepared before timing).
    func rows(_ records: [JournalRecord]) -> Rows {
        var rows = Rows()
        var sequence = next
        for record in records {
            let key = rows.bytes.count
            rows.bytes.append(contentsOf: record.key.utf8)
            let body = rows.bytes.count
            rows.bytes.append(contentsOf: record.body)
            rows.keys.append(key..<body)
            rows.bodies.append(body..<rows.bytes.count)
            rows.checksums.append(Int64(JournalEntry.checksum(sequence: sequence, key: record.key, body: record.body)))
            sequence += 1
        }
        return rows
    }

    /// One group commit of `rows`: BEGIN, two inserts per row, COMMIT (the fsync).
    func insert(_ rows: Rows) throws {
        try execute("BEGIN")
        try rows.bytes.withUnsafeBytes { buffer in
            let base = buffer.baseAddress!
            var n = 0
            while n + Self.chunk <= rows.keys.count {
                for r in 0..<Self.chunk {
                    let key = rows.keys[n + r], body = rows.bodies[n + r], column = Int32(4 * r)
                    sqlite3_bind_int64(commands, column + 1, next + Int64(r))
                    sqlite3_bind_text64(commands, column + 2, (base + key.lowerBound).assumingMemoryBound(to: CChar.self), UInt64(key.count), nil, UInt8(SQLITE_UTF8))
                    sqlite3_bind_blob64(commands, column + 3, base + body.lowerBound, UInt64(body.count), nil)
                    sqlite3_bind_int64(commands, column + 4, rows.checksums[n + r])
                    sqlite3_bind_int64(markers, Int32(r + 1), next + Int64(r))
                }
                guard sqlite3_step(commands) == SQLITE_DONE else { throw BenchError("raw SQLite peer: insert: \(message())") }
                sqlite3_reset(commands)
                guard sqlite3_step(markers) == SQLITE_DONE else { throw BenchError("raw SQLite peer: marker: \(message())") }
                sqlite3_reset(markers)
                next += Int64(Self.chunk)
                n += Self.chunk
            }
            for n in n..<rows.keys.count {
                let key = rows.keys[n], body = rows.bodies[n]
                sqlite3_bind_int64(command, 1, next)
                sqlite3_bind_text64(command, 2, (base + key.lowerBound).assumingMemoryBound(to: CChar.self), UInt64(key.count), nil, UInt8(SQLITE_UTF8))
                sqlite3_bind_blob64(command, 3, base + body.lowerBound, UInt64(body.count), nil)
                sqlite3_bind_int64(command, 4, rows.checksums[n])
                guard sqlite3_step(command) == SQLITE_DONE else { throw BenchError("raw SQLite peer: insert: \(message())") }
                sqlite3_reset(command)
                sqlite3_bind_int64(marker, 1, next)
                guard sqlite3_step(marker) == SQLITE_DONE else { throw BenchError("raw SQLite peer: marker: \(message())") }
                sqlite3_reset(marker)
                next += 1
            }
        }
        try execute("COMMIT")
    }
}
