import GRDB
import GRDBSQLite

/// A prepared statement stepped through SQLite's C interface with its values bound in place
/// (`SQLITE_STATIC`: SQLite reads the caller's bytes during the step, so nothing is copied or
/// boxed per row, unlike GRDB's `StatementArguments`). Used on the append path, where one
/// statement runs once per command of a group commit.
///
/// Errors: every bind and step result other than success is thrown as GRDB's `DatabaseError`
/// (its SQLite code and message); the statement is reset after every step, failed or not.
struct SQLiteBoundStatement {
    let handle: SQLiteStatement
    let connection: SQLiteConnection
    let sql: String

    /// The cached (per connection) statement for `sql`.
    init(_ db: Database, sql: String) throws {
        let statement = try db.cachedStatement(sql: sql)
        guard let connection = db.sqliteConnection else { throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "the journal's connection is closed") }
        self.handle = statement.sqliteStatement
        self.connection = connection
        self.sql = sql
    }

    private func failure(_ code: CInt) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)), sql: sql)
    }

    private func check(_ code: CInt) throws { if code != SQLITE_OK { throw failure(code) } }

    func bind(_ index: CInt, _ value: Int64) throws { try check(sqlite3_bind_int64(handle, index, value)) }

    func bindNull(_ index: CInt) throws { try check(sqlite3_bind_null(handle, index)) }

    /// UTF-8 text; valid only until the next step (the bytes are not copied).
    func bindText(_ index: CInt, _ bytes: UnsafeBufferPointer<UInt8>) throws {
        guard let base = bytes.baseAddress else { return try check(sqlite3_bind_text64(handle, index, "", 0, nil, UInt8(SQLITE_UTF8))) }
        try check(UnsafeRawPointer(base).withMemoryRebound(to: CChar.self, capacity: bytes.count) {
            sqlite3_bind_text64(handle, index, $0, UInt64(bytes.count), nil, UInt8(SQLITE_UTF8))
        })
    }

    /// A blob (an empty one is a zero-length blob, never NULL); valid only until the next step.
    func bindBlob(_ index: CInt, _ bytes: UnsafeBufferPointer<UInt8>) throws {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return try check(sqlite3_bind_zeroblob(handle, index, 0)) }
        try check(sqlite3_bind_blob64(handle, index, UnsafeRawPointer(base), UInt64(bytes.count), nil))
    }

    /// A string's UTF-8 bytes, read in place for the duration of `body`.
    func withText<R>(_ index: CInt, _ text: String, _ body: () throws -> R) throws -> R {
        var text = text
        return try text.withUTF8 { bytes in
            try bindText(index, bytes)
            return try body()
        }
    }

    /// Runs the statement (one that returns no row), then resets it and clears its bindings, so
    /// no pointer bound in place outlives the step.
    func step() throws {
        let code = sqlite3_step(handle)
        let error = code == SQLITE_DONE ? nil : failure(code)
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        if let error { throw error }
    }

    /// ``step()`` for a statement whose conflict resolution is ABORT: false when it failed on a
    /// constraint (SQLite backed out the statement's own changes; the transaction goes on).
    func stepUnlessConstraint() throws -> Bool {
        let code = sqlite3_step(handle)
        let error = code == SQLITE_DONE ? nil : failure(code)
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        if code & 0xFF == SQLITE_CONSTRAINT { return false }
        if let error { throw error }
        return true
    }

    /// Rows the last step inserted, updated or deleted (0: an `INSERT OR IGNORE` that ignored).
    var changes: Int { Int(sqlite3_changes(connection)) }
}
