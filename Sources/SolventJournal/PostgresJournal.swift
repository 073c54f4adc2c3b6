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
    private var connection: PostgresConnection
    private let configuration: PostgresConnection.Configuration
    private let lock = NIOLock()
    /// The schema holding this journal's tables.
    public let schema: String
    /// Who may append (a cluster node sets it; docs/cluster.md "Fencing"). Guarded by `lock`.
    private var fenceState: JournalFence = .none

    /// Who may append: `.none` (a single node), `.standby` (refused), `.leader` (checked against the
    /// lease row in every append's transaction). A change waits for an append in progress.
    public var fence: JournalFence {
        get { lock.withLock { fenceState } }
        set { lock.withLock { fenceState = newValue } }
    }

    /// The channel every fenced append notifies (payload: the last sequence) at its commit.
    public var notificationChannel: String { "\(schema.lowercased())_journal" }

    /// Connects to `url` (`postgres://user[:password]@host[:port]/database`) and creates
    /// the journal's tables in `schema` if needed.
    public init(url: String, schema: String = "solvent") throws {
        guard let components = URLComponents(string: url), components.scheme == "postgres" || components.scheme == "postgresql",
              let host = components.host, let user = components.user else {
            throw JournalError("not a PostgreSQL URL (postgres://user@host:port/database): \(PostgresURL.redacted(url))")
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
        self.configuration = configuration
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

    /// PostgreSQL ends a session idle inside a transaction longer than this (a cluster node sets
    /// it: a leader paused mid-append must not hold the lease row's lock past its lease). Nil: the
    /// server's default.
    private var idleTimeout: Int?

    /// Sets `idle_in_transaction_session_timeout` (ms) on this connection and every reconnection.
    public func limitIdleInTransaction(milliseconds: Int) throws {
        try lock.withLock {
            idleTimeout = milliseconds
            try run("SET idle_in_transaction_session_timeout = \(milliseconds)")
        }
    }

    @discardableResult
    private func run(_ sql: String, _ binds: [PostgresData] = []) throws -> PostgresQueryResult {
        if connection.isClosed, fenceState != .none {
            // A cluster node reconnects (PostgreSQL restarted, or ended a paused session); a
            // single node keeps its fail-stop behaviour. The caller holds the lock.
            do {
                connection = try PostgresConnection.connect(on: group.next(), configuration: configuration, id: 1,
                                                            logger: Logger(label: "solvent.journal.postgres")).wait()
                if let idleTimeout { _ = try connection.query("SET idle_in_transaction_session_timeout = \(idleTimeout)", []).wait() }
            } catch {
                throw JournalError("PostgreSQL: cannot reconnect: \(String(reflecting: error))")
            }
        }
        do {
            return try connection.query(sql, binds).wait()
        } catch {
            throw JournalError("PostgreSQL: \(String(reflecting: error)) in: \(sql.prefix(80))")
        }
    }

    private func migrate() throws {
        try lock.withLock {
            try run("CREATE SCHEMA IF NOT EXISTS \(schema)")
            try run(PostgresLease.createTable(schema: schema))
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
            // The event store (docs/journal.md "Event store"), created and backfilled from the
            // previous format in one transaction: the table exists only once it is complete.
            guard try run("SELECT to_regclass('\(schema).event') IS NULL AS missing").first?.column("missing")?.bool ?? false else { return }
            try transaction {
                try run("ALTER TABLE \(schema).command ADD COLUMN IF NOT EXISTS request_sha256 TEXT")
                try run("""
                    CREATE TABLE \(schema).event (sequence BIGINT PRIMARY KEY, command BIGINT NOT NULL, time BIGINT NOT NULL,
                    kind TEXT NOT NULL, account TEXT, body TEXT NOT NULL)
                    """)
                try run("CREATE INDEX event_command ON \(schema).event (command)")
                try run("CREATE INDEX event_account ON \(schema).event (account, sequence)")
                try run("CREATE INDEX event_kind ON \(schema).event (kind, sequence)")
                var legacy: [StoredEvent] = []
                for row in try run("SELECT sequence, body FROM \(schema).result ORDER BY sequence") {
                    legacy += LegacyFormat.events(result: row.column("body")?.bytes ?? [], command: row.column("sequence")?.int64 ?? 0)
                }
                try insert(events: legacy)
                for row in try run("SELECT sequence, body FROM \(schema).command WHERE position('request_sha256'::bytea in body) > 0") {
                    guard let hash = LegacyFormat.requestHash(body: row.column("body")?.bytes ?? []), let sequence = row.column("sequence")?.int64 else { continue }
                    try run("UPDATE \(schema).command SET request_sha256 = $1 WHERE sequence = $2", [PostgresData(string: hash), PostgresData(int64: sequence)])
                }
            }
        }
    }

    /// Runs `work` in a transaction (the caller holds the lock).
    private func transaction<T>(_ work: () throws -> T) throws -> T {
        try run("BEGIN")
        do {
            let result = try work()
            try run("COMMIT")
            return result
        } catch {
            _ = try? run("ROLLBACK")
            throw error
        }
    }

    /// Inserts events (the caller holds the lock, in a transaction), in multi-row statements.
    private func insert(events: [StoredEvent]) throws {
        for chunk in stride(from: 0, to: events.count, by: Self.rowsPerStatement) {
            let slice = events[chunk..<min(chunk + Self.rowsPerStatement, events.count)]
            var binds: [PostgresData] = []
            binds.reserveCapacity(slice.count * 6)
            var values: [String] = []
            for (k, e) in slice.enumerated() {
                values.append("(" + (1...6).map { "$\(6 * k + $0)" }.joined(separator: ", ") + ")")
                binds += [PostgresData(int64: e.sequence), PostgresData(int64: e.command), PostgresData(int64: e.time), PostgresData(string: e.kind),
                          e.account.map { PostgresData(string: $0) } ?? .null, PostgresData(string: e.body)]
            }
            try run("""
                INSERT INTO \(schema).event (sequence, command, time, kind, account, body) VALUES \(values.joined(separator: ","))
                ON CONFLICT (sequence) DO UPDATE SET command = EXCLUDED.command, time = EXCLUDED.time, kind = EXCLUDED.kind,
                account = EXCLUDED.account, body = EXCLUDED.body
                """, binds)
        }
    }

    /// Marks commands as having their events stored (`result` rows with an empty body).
    private func insertMarkers(_ commands: [Int64]) throws {
        for chunk in stride(from: 0, to: commands.count, by: Self.rowsPerStatement) {
            let slice = Array(commands[chunk..<min(chunk + Self.rowsPerStatement, commands.count)])
            let values = slice.indices.map { "($\($0 + 1), ''::bytea)" }.joined(separator: ",")
            try run("INSERT INTO \(schema).result (sequence, body) VALUES \(values) ON CONFLICT (sequence) DO UPDATE SET body = EXCLUDED.body",
                    slice.map { PostgresData(int64: $0) })
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

    /// Rows per multi-row statement (4 parameters a row, under PostgreSQL's 65,535).
    static let rowsPerStatement = 10_000

    public func append(records batch: [JournalRecord]) throws -> [AppendOutcome] {
        try lock.withLock {
            if case .standby = fenceState { throw JournalFenced("this node is a standby: it does not append") }
            do {
                return try appendInTransaction(batch)
            } catch let fenced as JournalFenced {
                throw fenced
            } catch where fenceState != .none {
                // A cluster node whose append failed (connection lost, PostgreSQL down): the
                // outcome is unknown, so it is refused like a fenced one — the engine rebuilds from
                // what the journal holds, and a client retry with the same key finds it if it committed.
                throw JournalFenced("append failed, outcome to be read back from the journal: \(error)")
            }
        }
    }

    private func appendInTransaction(_ batch: [JournalRecord]) throws -> [AppendOutcome] {
        do {
            return try transaction {
                try checkFence()
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
                var events: [StoredEvent] = []
                for record in batch {
                    let storedKey = record.key.isEmpty ? "seq-\(next)" : record.key
                    if let existing = known[storedKey] {
                        outcomes.append(.duplicate(sequence: existing))
                        continue
                    }
                    known[storedKey] = next
                    rows.append(JournalEntry(sequence: next, key: storedKey, body: record.body, requestHash: record.requestHash))
                    events += record.events.map { var e = $0; e.command = next; return e }
                    outcomes.append(.appended(sequence: next))
                    next += 1
                }
                // New rows in multi-row inserts.
                for chunk in stride(from: 0, to: rows.count, by: Self.rowsPerStatement) {
                    let slice = rows[chunk..<min(chunk + Self.rowsPerStatement, rows.count)]
                    var binds: [PostgresData] = []
                    binds.reserveCapacity(slice.count * 5)
                    var values: [String] = []
                    for (k, entry) in slice.enumerated() {
                        values.append("(" + (1...5).map { "$\(5 * k + $0)" }.joined(separator: ", ") + ")")
                        binds += [PostgresData(int64: entry.sequence), PostgresData(string: entry.key), PostgresData(bytes: entry.body),
                                  PostgresData(int64: Int64(entry.checksum)), entry.requestHash.map { PostgresData(string: $0) } ?? .null]
                    }
                    try run("INSERT INTO \(schema).command (sequence, key, body, checksum, request_sha256) VALUES \(values.joined(separator: ","))", binds)
                }
                try insert(events: events)
                try insertMarkers(rows.map(\.sequence))
                if case .leader = fenceState, let last = rows.last {
                    // Delivered to standbys' LISTEN at commit (never for a rolled-back append).
                    try run("SELECT pg_notify($1, $2)", [PostgresData(string: notificationChannel), PostgresData(string: String(last.sequence))])
                }
                return outcomes
            }
        }
    }

    /// The fence check, first statement of an append's transaction (the caller holds the lock):
    /// locks the lease row `FOR SHARE` (an acquisition waits for this append to commit, and an
    /// append after an acquisition sees the new epoch) and refuses unless this node holds it at
    /// its epoch, unexpired by PostgreSQL's clock.
    private func checkFence() throws {
        guard case let .leader(lease, holder, epoch) = fenceState else { return }
        let held = try run("SELECT epoch FROM \(schema).lease WHERE name = $1 AND holder = $2 AND epoch = $3 AND expires > now() FOR SHARE",
                           [PostgresData(string: lease), PostgresData(string: holder), PostgresData(int64: epoch)])
        guard held.first != nil else {
            throw JournalFenced("the lease \(lease) is no longer held by \(holder) at epoch \(epoch): append refused")
        }
    }

    /// The intact commands after `sequence`, in order, at most `limit` (a standby's catch-up);
    /// stops before the first gap or damaged record.
    public func entries(after sequence: Int64, limit: Int) throws -> [JournalEntry] {
        try lock.withLock {
            var entries: [JournalEntry] = []
            for row in try run("SELECT sequence, key, body, checksum, request_sha256 FROM \(schema).command WHERE sequence > $1 ORDER BY sequence LIMIT $2",
                               [PostgresData(int64: sequence), PostgresData(int64: Int64(limit))]) {
                var entry = JournalEntry(sequence: row.column("sequence")?.int64 ?? -1, key: row.column("key")?.string ?? "",
                                         body: row.column("body")?.bytes ?? [], requestHash: row.column("request_sha256")?.string)
                entry.checksum = UInt32(truncatingIfNeeded: row.column("checksum")?.int64 ?? -1)
                guard entry.sequence == sequence + Int64(entries.count) + 1, entry.isIntact else { break }
                entries.append(entry)
            }
            return entries
        }
    }

    /// The last journaled sequence (0: none).
    public func head() throws -> Int64 {
        try lock.withLock { try run("SELECT COALESCE(MAX(sequence), 0) AS last FROM \(schema).command").first?.column("last")?.int64 ?? 0 }
    }

    /// The state hashes of the snapshots after `sequence` (a standby checks its own against them).
    public func snapshotHashes(after sequence: Int64) throws -> [(sequence: Int64, stateHash: String)] {
        try lock.withLock {
            try run("SELECT sequence, state_hash FROM \(schema).snapshot WHERE sequence > $1 ORDER BY sequence", [PostgresData(int64: sequence)]).map {
                ($0.column("sequence")?.int64 ?? -1, $0.column("state_hash")?.string ?? "")
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

    public func recordEvents(_ results: [(command: Int64, events: [StoredEvent])]) throws {
        guard !results.isEmpty else { return }
        try lock.withLock {
            try transaction {
                try insert(events: results.flatMap { command, events in events.map { var e = $0; e.command = command; return e } })
                try insertMarkers(results.map(\.command))
            }
        }
    }

    public func lastEventCommand() throws -> Int64 {
        try lock.withLock { try run("SELECT COALESCE(MAX(sequence), 0) AS last FROM \(schema).result").first?.column("last")?.int64 ?? 0 }
    }

    public func events(_ query: EventQuery) throws -> [StoredEvent] {
        var sql = "SELECT sequence, command, time, kind, account, body FROM \(schema).event WHERE sequence > $1"
        var binds = [PostgresData(int64: query.after)]
        if let account = query.account { binds.append(PostgresData(string: account)); sql += " AND account = $\(binds.count)" }
        if let kind = query.kind { binds.append(PostgresData(string: kind)); sql += " AND kind = $\(binds.count)" }
        if let commands = query.commands {
            binds += [PostgresData(int64: commands.lowerBound), PostgresData(int64: commands.upperBound)]
            sql += " AND command BETWEEN $\(binds.count - 1) AND $\(binds.count)"
        }
        binds.append(PostgresData(int64: Int64(query.limit)))
        sql += " ORDER BY sequence LIMIT $\(binds.count)"
        return try lock.withLock { try run(sql, binds).map(Self.event) }
    }

    public func events(command: Int64) throws -> [StoredEvent] {
        try lock.withLock {
            try run("SELECT sequence, command, time, kind, account, body FROM \(schema).event WHERE command = $1 ORDER BY sequence",
                    [PostgresData(int64: command)]).map(Self.event)
        }
    }

    public func firstEventSequence() throws -> Int64? {
        try lock.withLock { try run("SELECT MIN(sequence) AS first FROM \(schema).event").first?.column("first")?.int64 }
    }

    static func event(_ row: PostgresRow) -> StoredEvent {
        StoredEvent(sequence: row.column("sequence")?.int64 ?? -1, command: row.column("command")?.int64 ?? -1, time: row.column("time")?.int64 ?? 0,
                    kind: row.column("kind")?.string ?? "", account: row.column("account")?.string, body: row.column("body")?.string ?? "")
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
            guard let row = try run("SELECT key, body, checksum, request_sha256 FROM \(schema).command WHERE sequence = $1", [PostgresData(int64: sequence)]).first else { return nil }
            var entry = JournalEntry(sequence: sequence, key: row.column("key")?.string ?? "", body: row.column("body")?.bytes ?? [],
                                     requestHash: row.column("request_sha256")?.string)
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
