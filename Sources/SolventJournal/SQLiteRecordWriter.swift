import GRDB

/// The statements of a group commit, prepared once per connection and bound in place
/// (``SQLiteBoundStatement``): a command row, its events and the marker that its events are
/// stored. Rows and values are those of the schema in ``SQLiteJournal``; only the way they
/// reach SQLite differs from GRDB's argument arrays (no boxing, no `Data` copy per row).
struct SQLiteRecordWriter {
    let command: SQLiteBoundStatement
    let event: SQLiteBoundStatement
    let marker: SQLiteBoundStatement

    init(_ db: Database) throws {
        command = try SQLiteBoundStatement(db, sql: "INSERT OR IGNORE INTO command (sequence, key, body, checksum, request_sha256) VALUES (?, ?, ?, ?, ?)")
        event = try SQLiteBoundStatement(db, sql: "INSERT OR REPLACE INTO event (sequence, command, time, kind, account, body) VALUES (?, ?, ?, ?, ?, ?)")
        marker = try SQLiteBoundStatement(db, sql: "INSERT OR REPLACE INTO result (sequence, body) VALUES (?, x'')")
    }

    /// Inserts command `sequence` with its checksum (CRC-32C of `"<sequence>\n<key>\n" + body`);
    /// false when `key` is already in the journal (the unique key ignored the row).
    func insertCommand(sequence: Int64, key: String, body: [UInt8], requestHash: String?) throws -> Bool {
        try command.bind(1, sequence)
        try body.withUnsafeBufferPointer { bytes in
            try command.withText(2, key) {
                try command.bindBlob(3, bytes)
                try command.bind(4, Int64(CRC32C.frame(sequence: sequence, key: key, body: bytes)))
                if let requestHash {
                    try command.withText(5, requestHash) { try command.step() }
                } else {
                    try command.bindNull(5)
                    try command.step()
                }
            }
        }
        return command.changes > 0
    }

    /// Inserts `events` of command `command` and, when `marker` is true, the marker that they are stored.
    func insert(events: [StoredEvent], command: Int64, marker: Bool = true) throws {
        for e in events {
            try event.bind(1, e.sequence)
            try event.bind(2, command)
            try event.bind(3, e.time)
            try event.withText(4, e.kind) {
                try event.withText(6, e.body) {
                    if let account = e.account {
                        try event.withText(5, account) { try event.step() }
                    } else {
                        try event.bindNull(5)
                        try event.step()
                    }
                }
            }
        }
        if marker {
            try self.marker.bind(1, command)
            try self.marker.step()
        }
    }
}
