import GRDB

/// Commands of a group commit inserted `rows` at a time: one multi-row `INSERT` for the command
/// rows and one for their events-stored markers (SQLite's cost per command falls by about a
/// third against one statement per row: fewer statement steps and resets, measured with the raw
/// peer in BENCHMARKS.md). The command insert resolves conflicts by ABORT, so a key already in
/// the journal or repeated inside the chunk makes the whole statement back out and the caller
/// writes those records one by one (``SQLiteRecordWriter``, `INSERT OR IGNORE`) — the stored rows
/// and the outcomes are those of the row-by-row path either way: a chunk is only kept when every
/// one of its rows would have been appended, at the same sequences.
///
/// The keys, bodies and request hashes of a chunk are copied into one reused buffer and bound
/// in place from it (`SQLITE_STATIC`), so nothing is allocated per command.
struct SQLiteChunkWriter {
    static let rows = 50
    let command: SQLiteBoundStatement
    let marker: SQLiteBoundStatement

    init(_ db: Database) throws {
        let values = Array(repeating: "(?, ?, ?, ?, ?)", count: Self.rows).joined(separator: ", ")
        command = try SQLiteBoundStatement(db, sql: "INSERT INTO command (sequence, key, body, checksum, request_sha256) VALUES " + values)
        let markers = Array(repeating: "(?, x'')", count: Self.rows).joined(separator: ", ")
        marker = try SQLiteBoundStatement(db, sql: "INSERT OR REPLACE INTO result (sequence, body) VALUES " + markers)
    }

    /// Where a chunk's values lie in the buffer.
    struct Layout {
        var key: Range<Int>
        var body: Range<Int>
        var requestHash: Range<Int>?
        var checksum: Int64
    }

    /// Inserts `records` (exactly ``rows`` of them) as commands `first, first + 1, …` with their
    /// markers (not their events: the caller adds those); false when one of their keys is already
    /// stored or repeats inside the chunk, and then nothing was written.
    func insert(_ records: ArraySlice<JournalRecord>, first: Int64, buffer: inout [UInt8], layout: inout [Layout]) throws -> Bool {
        precondition(records.count == Self.rows)
        buffer.removeAll(keepingCapacity: true)
        layout.removeAll(keepingCapacity: true)
        var sequence = first
        for record in records {
            let keyStart = buffer.count
            if record.key.isEmpty { buffer.append(contentsOf: "seq-\(sequence)".utf8) } else { buffer.append(contentsOf: record.key.utf8) }
            let key = keyStart..<buffer.count
            buffer.append(contentsOf: record.body)
            let body = key.upperBound..<buffer.count
            var requestHash: Range<Int>? = nil
            if let hash = record.requestHash {
                buffer.append(contentsOf: hash.utf8)
                requestHash = body.upperBound..<buffer.count
            }
            layout.append(Layout(key: key, body: body, requestHash: requestHash, checksum: 0))
            sequence += 1
        }
        let stored = try buffer.withUnsafeBufferPointer { bytes -> Bool in
            for (r, row) in layout.enumerated() {
                let column = CInt(5 * r)
                let sequence = first + Int64(r)
                let key = UnsafeBufferPointer(rebasing: bytes[row.key])
                let body = UnsafeBufferPointer(rebasing: bytes[row.body])
                try command.bind(column + 1, sequence)
                try command.bindText(column + 2, key)
                try command.bindBlob(column + 3, body)
                try command.bind(column + 4, Int64(CRC32C.frame(sequence: sequence, keyUTF8: key, body: body)))
                if let hash = row.requestHash { try command.bindText(column + 5, UnsafeBufferPointer(rebasing: bytes[hash])) } else { try command.bindNull(column + 5) }
            }
            return try command.stepUnlessConstraint()
        }
        guard stored else { return false }
        for r in 0..<Self.rows { try marker.bind(CInt(r + 1), first + Int64(r)) }
        try marker.step()
        return true
    }
}
