import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO

/// The production journal: the same tables as the SQLite journal, in a PostgreSQL schema
/// (postgres-nio). One connection, serialized; a batch is one transaction (group commit).
public final class PostgresJournal: Journal, @unchecked Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let connection: PostgresConnection
    private let lock = NIOLock()
    /// The schema holding this journal's tables.
    public let schema: String

    /// Connects to `url` (`postgres://user[:password]@host[:port]/database`) and creates
    /// the journal's tables in `schema` if needed.
    public init(url: String, schema: String = "solvent") throws {
        guard let components = URLComponents(string: url), components.scheme == "postgres" || components.scheme == "postgresql",
              let host = components.host, let user = components.user else {
            throw JournalError("not a PostgreSQL URL (postgres://user@host:port/database): \(url)")
        }
        guard schema.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !schema.isEmpty else {
            throw JournalError("schema name must be letters, digits and _: \(schema)")
        }
        self.schema = schema
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        let configuration = PostgresConnection.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: components.password,
            database: database.isEmpty ? nil : database, tls: .disable)
        do {
            connection = try PostgresConnection.connect(on: group.next(), configuration: configuration, id: 1,
                                                        logger: Logger(label: "solvent.journal.postgres")).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw JournalError("cannot connect to PostgreSQL at \(host):\(components.port ?? 5432): \(String(reflecting: error))")
        }
        try migrate()
    }

    deinit {
        _ = try? connection.close().wait()
        try? group.syncShutdownGracefully()
    }

    @discardableResult
    private func run(_ sql: String, _ binds: [PostgresData] = []) throws -> PostgresQueryResult {
        do {
            return try connection.query(sql, binds).wait()
        } catch {
            throw JournalError("PostgreSQL: \(String(reflecting: error)) in: \(sql.prefix(80))")
        }
    }

    private func migrate() throws {
        try lock.withLock {
            try run("CREATE SCHEMA IF NOT EXISTS \(schema)")
            try run("CREATE TABLE IF NOT EXISTS \(schema).genesis (id INTEGER PRIMARY KEY, body BYTEA NOT NULL, checksum BIGINT NOT NULL)")
            try run("""
                CREATE TABLE IF NOT EXISTS \(schema).command (sequence BIGINT PRIMARY KEY, key TEXT NOT NULL UNIQUE,
                body BYTEA NOT NULL, checksum BIGINT NOT NULL)
                """)
            try run("CREATE TABLE IF NOT EXISTS \(schema).result (sequence BIGINT PRIMARY KEY, body BYTEA NOT NULL)")
            try run("""
                CREATE TABLE IF NOT EXISTS \(schema).snapshot (sequence BIGINT PRIMARY KEY, state_hash TEXT NOT NULL,
                version INTEGER NOT NULL, body BYTEA NOT NULL, checksum BIGINT NOT NULL)
                """)
        }
    }

    /// Runs a statement on the journal's connection (tests use it to damage records).
    func execute(_ sql: String) throws {
        try lock.withLock { _ = try run(sql) }
    }

    /// Drops this journal's schema and everything in it.
    public func destroy() throws {
        try lock.withLock { _ = try run("DROP SCHEMA IF EXISTS \(schema) CASCADE") }
    }

    public func writeGenesis(_ body: [UInt8]) throws {
        try lock.withLock {
            let existing = try run("SELECT COUNT(*) AS n FROM \(schema).genesis")
            if (existing.first?.column("n")?.int64 ?? 0) > 0 { throw JournalError("the journal already has a genesis document") }
            try run("INSERT INTO \(schema).genesis (id, body, checksum) VALUES (1, $1, $2)",
                    [PostgresData(bytes: body), PostgresData(int64: Int64(CRC32C.checksum(body)))])
        }
    }

    public func append(key: String, body: [UInt8]) throws -> AppendOutcome {
        try append(batch: [(key, body)])[0]
    }

    /// Rows per multi-row statement (4 parameters a row, under PostgreSQL's 65,535).
    static let rowsPerStatement = 10_000

    public func append(batch: [(key: String, body: [UInt8])]) throws -> [AppendOutcome] {
        try lock.withLock {
            try run("BEGIN")
            do {
                let last = try run("SELECT COALESCE(MAX(sequence), 0) AS last FROM \(schema).command")
                var next = (last.first?.column("last")?.int64 ?? 0) + 1
                // Keys already journaled, in one round trip per chunk.
                var known: [String: Int64] = [:]
                let explicitKeys = batch.map(\.key).filter { !$0.isEmpty }
                for chunk in stride(from: 0, to: explicitKeys.count, by: Self.rowsPerStatement) {
                    let keys = explicitKeys[chunk..<min(chunk + Self.rowsPerStatement, explicitKeys.count)]
                    let placeholders = (1...keys.count).map { "$\($0)" }.joined(separator: ",")
                    for row in try run("SELECT key, sequence FROM \(schema).command WHERE key IN (\(placeholders))", keys.map { PostgresData(string: $0) }) {
                        known[row.column("key")?.string ?? ""] = row.column("sequence")?.int64
                    }
                }
                var outcomes: [AppendOutcome] = []
                var rows: [JournalEntry] = []
                for (key, body) in batch {
                    let storedKey = key.isEmpty ? "seq-\(next)" : key
                    if let existing = known[storedKey] {
                        outcomes.append(.duplicate(sequence: existing))
                        continue
                    }
                    known[storedKey] = next
                    rows.append(JournalEntry(sequence: next, key: storedKey, body: body))
                    outcomes.append(.appended(sequence: next))
                    next += 1
                }
                // New rows in multi-row inserts.
                for chunk in stride(from: 0, to: rows.count, by: Self.rowsPerStatement) {
                    let slice = rows[chunk..<min(chunk + Self.rowsPerStatement, rows.count)]
                    var binds: [PostgresData] = []
                    binds.reserveCapacity(slice.count * 4)
                    var values: [String] = []
                    for (k, entry) in slice.enumerated() {
                        values.append("($\(4 * k + 1), $\(4 * k + 2), $\(4 * k + 3), $\(4 * k + 4))")
                        binds += [PostgresData(int64: entry.sequence), PostgresData(string: entry.key), PostgresData(bytes: entry.body),
                                  PostgresData(int64: Int64(entry.checksum))]
                    }
                    try run("INSERT INTO \(schema).command (sequence, key, body, checksum) VALUES \(values.joined(separator: ","))", binds)
                }
                try run("COMMIT")
                return outcomes
            } catch {
                _ = try? run("ROLLBACK")
                throw error
            }
        }
    }

    public func read() throws -> JournalContents {
        try lock.withLock {
            var genesis: [UInt8]? = nil
            if let row = try run("SELECT body, checksum FROM \(schema).genesis WHERE id = 1").first {
                let body = row.column("body")?.bytes ?? []
                guard UInt32(truncatingIfNeeded: row.column("checksum")?.int64 ?? -1) == CRC32C.checksum(body) else {
                    throw JournalError("the genesis document is damaged (checksum mismatch)")
                }
                genesis = body
            }
            let rows = try run("SELECT sequence, key, body, checksum FROM \(schema).command ORDER BY sequence")
            var entries: [JournalEntry] = []
            for (n, row) in rows.enumerated() {
                var entry = JournalEntry(sequence: row.column("sequence")?.int64 ?? -1, key: row.column("key")?.string ?? "",
                                         body: row.column("body")?.bytes ?? [])
                entry.checksum = UInt32(truncatingIfNeeded: row.column("checksum")?.int64 ?? -1)
                guard entry.sequence == Int64(n) + 1, entry.isIntact else {
                    return JournalContents(genesis: genesis, entries: entries, discardedTail: rows.count - n)
                }
                entries.append(entry)
            }
            return JournalContents(genesis: genesis, entries: entries, discardedTail: 0)
        }
    }

    public func writeSnapshot(_ snapshot: Snapshot) throws {
        try lock.withLock {
            _ = try run("""
                INSERT INTO \(schema).snapshot (sequence, state_hash, version, body, checksum) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (sequence) DO UPDATE SET state_hash = EXCLUDED.state_hash, version = EXCLUDED.version,
                body = EXCLUDED.body, checksum = EXCLUDED.checksum
                """,
                [PostgresData(int64: snapshot.sequence), PostgresData(string: snapshot.stateHash), PostgresData(int64: Int64(snapshot.version)),
                 PostgresData(bytes: snapshot.body), PostgresData(int64: Int64(snapshot.checksum))])
        }
    }

    public func recordResults(_ results: [(sequence: Int64, body: [UInt8])]) throws {
        guard !results.isEmpty else { return }
        try lock.withLock {
            try run("BEGIN")
            do {
                for chunk in stride(from: 0, to: results.count, by: Self.rowsPerStatement) {
                    let slice = results[chunk..<min(chunk + Self.rowsPerStatement, results.count)]
                    let values = slice.indices.map { k in "($\(2 * (k - chunk) + 1), $\(2 * (k - chunk) + 2))" }.joined(separator: ",")
                    let binds = slice.flatMap { [PostgresData(int64: $0.sequence), PostgresData(bytes: $0.body)] }
                    try run("INSERT INTO \(schema).result (sequence, body) VALUES \(values) ON CONFLICT (sequence) DO UPDATE SET body = EXCLUDED.body", binds)
                }
                try run("COMMIT")
            } catch {
                _ = try? run("ROLLBACK")
                throw error
            }
        }
    }

    public func lastResultSequence() throws -> Int64 {
        try lock.withLock { try run("SELECT COALESCE(MAX(sequence), 0) AS last FROM \(schema).result").first?.column("last")?.int64 ?? 0 }
    }

    public func result(sequence: Int64) throws -> [UInt8]? {
        try lock.withLock {
            try run("SELECT body FROM \(schema).result WHERE sequence = $1", [PostgresData(int64: sequence)]).first?.column("body")?.bytes
        }
    }

    public func sequences(forKeys keys: [String]) throws -> [String: Int64] {
        let unique = Array(Set(keys)).sorted()
        guard !unique.isEmpty else { return [:] }
        return try lock.withLock {
            var known: [String: Int64] = [:]
            for chunk in stride(from: 0, to: unique.count, by: Self.rowsPerStatement) {
                let slice = unique[chunk..<min(chunk + Self.rowsPerStatement, unique.count)]
                let placeholders = (1...slice.count).map { "$\($0)" }.joined(separator: ",")
                for row in try run("SELECT key, sequence FROM \(schema).command WHERE key IN (\(placeholders))", slice.map { PostgresData(string: $0) }) {
                    if let key = row.column("key")?.string, let sequence = row.column("sequence")?.int64 { known[key] = sequence }
                }
            }
            return known
        }
    }

    public func entry(sequence: Int64) throws -> JournalEntry? {
        try lock.withLock {
            guard let row = try run("SELECT key, body, checksum FROM \(schema).command WHERE sequence = $1", [PostgresData(int64: sequence)]).first else { return nil }
            var entry = JournalEntry(sequence: sequence, key: row.column("key")?.string ?? "", body: row.column("body")?.bytes ?? [])
            entry.checksum = UInt32(truncatingIfNeeded: row.column("checksum")?.int64 ?? -1)
            return entry.isIntact ? entry : nil
        }
    }

    public func snapshots() throws -> [Snapshot] {
        try lock.withLock {
            try run("SELECT sequence, state_hash, version, body, checksum FROM \(schema).snapshot ORDER BY sequence DESC").compactMap { row in
                let snapshot = Snapshot(sequence: row.column("sequence")?.int64 ?? -1, stateHash: row.column("state_hash")?.string ?? "",
                                        version: Int(row.column("version")?.int64 ?? -1), body: row.column("body")?.bytes ?? [])
                return UInt32(truncatingIfNeeded: row.column("checksum")?.int64 ?? -1) == snapshot.checksum ? snapshot : nil
            }
        }
    }
}
