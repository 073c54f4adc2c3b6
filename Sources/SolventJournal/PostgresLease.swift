import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// Who may append to a PostgreSQL journal (docs/cluster.md "Fencing").
public enum JournalFence: Sendable, Hashable {
    /// No check: a single node (the journal's behaviour before clusters).
    case none
    /// A standby: every append is refused here, before PostgreSQL is asked.
    case standby
    /// The leader of lease `lease` at `epoch`: every append's transaction first locks the lease row
    /// (`FOR SHARE`) and proceeds only when `holder` still holds it at `epoch` and it has not
    /// expired by PostgreSQL's clock.
    case leader(lease: String, holder: String, epoch: Int64)
}

/// An append refused by the fence: this node is not (or no longer) the leader. Nothing was stored.
public struct JournalFenced: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// What the lease row says now, by PostgreSQL's clock.
public struct LeaseState: Sendable, Hashable {
    /// The node that holds (or last held) the lease; empty when nobody ever did.
    public var holder: String
    /// The holder's advertised URL (where clients send writes).
    public var advertise: String
    /// Incremented by every acquisition; 0 when nobody ever held it.
    public var epoch: Int64
    /// Milliseconds until the lease expires (≤ 0: expired).
    public var remainingMilliseconds: Int64
    /// Whether the lease is held now.
    public var live: Bool { remainingMilliseconds > 0 && !holder.isEmpty }
}

/// The connection settings of a `postgres://user[:password]@host[:port]/database` URL.
enum PostgresURL {
    /// `url` for an error message: whatever precedes its last `@` (after the scheme's `://`, when
    /// it comes first) is replaced, since it may hold a password, even in a malformed URL.
    static func redacted(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@") else { return url }
        let start = url.range(of: "://").map { $0.upperBound <= at ? $0.upperBound : url.startIndex } ?? url.startIndex
        return String(url[..<start]) + "<redacted>" + String(url[at...])
    }

    static func configuration(_ url: String) throws -> PostgresConnection.Configuration {
        guard let components = URLComponents(string: url), components.scheme == "postgres" || components.scheme == "postgresql",
              let host = components.host, let user = components.user else {
            throw JournalError("not a PostgreSQL URL (postgres://user@host:port/database): \(redacted(url))")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        return PostgresConnection.Configuration(host: host, port: components.port ?? 5432, username: user, password: components.password,
                                                database: database.isEmpty ? nil : database, tls: .disable)
    }

    static func checkSchema(_ schema: String) throws {
        guard schema.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !schema.isEmpty else {
            throw JournalError("schema name must be letters, digits and _: \(schema)")
        }
    }
}

/// The leadership of a journal: one row of `<schema>.lease` (name, holder, advertised URL, epoch,
/// expiry). Its expiry is always computed by PostgreSQL's clock (`now()`), never a node's: a node
/// whose clock is wrong, or which was paused, cannot extend it. Acquisition succeeds only on an
/// expired (or never held) lease and increments the epoch; renewal succeeds only for the holder at
/// its epoch before expiry. Every journal append checks the epoch in its own transaction
/// (`JournalFence.leader`), so a paused old leader cannot append once a successor acquired.
///
/// Stage 1 has one lease per journal (name `leader`); a shard (stage 2) is a journal of its own
/// (a schema) with its own lease row (docs/cluster.md).
///
/// One connection of its own (not the journal's: a long append or snapshot never delays a
/// renewal), and another for the API keys (the key publisher's bulk upserts never delay a renewal
/// either); each reconnected on the next call after it failed, and never kept when its setup failed.
public actor PostgresLease {
    public nonisolated let schema: String
    public nonisolated let name: String
    public nonisolated let node: String
    public nonisolated let advertise: String
    /// The lease's duration in milliseconds.
    public nonisolated let milliseconds: Int
    /// The schema of the group's API keys: the lease's own, or the group's base schema when the
    /// lease is a shard's (`<schema>_s<K>`): keys stay shared across shards.
    public nonisolated let keysSchema: String
    /// The lease's connection, set up with the lease row and a lock timeout.
    private let connection: ReconnectingPostgresConnection
    /// The API keys' connection: the key publisher's upserts and reads never queue ahead of a
    /// renewal on the lease's connection (its own socket, its own PostgreSQL backend).
    private let keysConnection: ReconnectingPostgresConnection

    public init(url: String, schema: String, name: String = "leader", node: String, advertise: String, milliseconds: Int,
                keysSchema: String? = nil) throws {
        try PostgresURL.checkSchema(schema)
        if let keysSchema { try PostgresURL.checkSchema(keysSchema) }
        self.keysSchema = keysSchema ?? schema
        precondition(milliseconds > 0, "a lease lasts a positive time")
        let configuration = try PostgresURL.configuration(url)
        self.schema = schema
        self.name = name
        self.node = node
        self.advertise = advertise
        self.milliseconds = milliseconds
        let keysSchema = self.keysSchema
        let createKeys = { @Sendable (connection: PostgresConnection) async throws in
            _ = try await connection.query("CREATE SCHEMA IF NOT EXISTS \(keysSchema)", []).get()
            _ = try await connection.query("CREATE TABLE IF NOT EXISTS \(keysSchema).api_key (hash TEXT PRIMARY KEY, body TEXT NOT NULL)", []).get()
        }
        keysConnection = ReconnectingPostgresConnection(purpose: "keys", configuration: configuration, id: 6, setup: createKeys)
        // Kept only once set up: a connection whose setup failed (lock_timeout unset, lease row
        // missing) is closed, and the next call connects afresh.
        connection = ReconnectingPostgresConnection(purpose: "lease", configuration: configuration, id: 2) { connection in
            _ = try await connection.query("CREATE SCHEMA IF NOT EXISTS \(schema)", []).get()
            _ = try await connection.query(Self.createTable(schema: schema), []).get()
            try await createKeys(connection)
            // An acquisition waiting behind a paused leader's append gives up and retries next tick.
            _ = try await connection.query("SET lock_timeout = \(max(50, milliseconds / 3))", []).get()
            _ = try await connection.query("INSERT INTO \(schema).lease (name, holder, advertise, epoch, expires) VALUES ($1, '', '', 0, '-infinity') ON CONFLICT (name) DO NOTHING",
                                           [PostgresData(string: name)]).get()
        }
    }

    /// A statement on the keys' connection (connected, and its table created, on first use;
    /// reconnected after a failure).
    private func runKeys(_ sql: String, _ binds: [PostgresData] = []) async throws -> PostgresQueryResult {
        try await keysConnection.query(sql, binds)
    }

    /// The lease table's definition (also created by the journal, so the fence check always finds it).
    static func createTable(schema: String) -> String {
        """
        CREATE TABLE IF NOT EXISTS \(schema).lease (name TEXT PRIMARY KEY, holder TEXT NOT NULL, advertise TEXT NOT NULL,
        epoch BIGINT NOT NULL, expires TIMESTAMPTZ NOT NULL)
        """
    }

    private func run(_ sql: String, _ binds: [PostgresData] = []) async throws -> PostgresQueryResult {
        try await connection.query(sql, binds)
    }

    private var interval: String { "make_interval(secs => \(Double(milliseconds) / 1000))" }

    /// Takes the lease when it has expired (or was never held): epoch + 1, expiry now() + the
    /// lease. Returns the new epoch, or nil when another node holds it.
    public func acquire() async throws -> Int64? {
        try await run("""
            UPDATE \(schema).lease SET holder = $2, advertise = $3, epoch = epoch + 1, expires = now() + \(interval)
            WHERE name = $1 AND expires <= now() RETURNING epoch
            """, [PostgresData(string: name), PostgresData(string: node), PostgresData(string: advertise)]).first?.column("epoch")?.int64
    }

    /// Extends the lease held at `epoch` to now() + the lease. False when it expired or another
    /// node acquired it since (the caller steps down).
    public func renew(epoch: Int64) async throws -> Bool {
        try await run("""
            UPDATE \(schema).lease SET expires = now() + \(interval)
            WHERE name = $1 AND holder = $2 AND epoch = $3 AND expires > now() RETURNING epoch
            """, [PostgresData(string: name), PostgresData(string: node), PostgresData(int64: epoch)]).first != nil
    }

    /// Gives the lease up at once (a clean shutdown): a standby takes over without waiting for expiry.
    public func release(epoch: Int64) async throws {
        _ = try await run("UPDATE \(schema).lease SET expires = now() WHERE name = $1 AND holder = $2 AND epoch = $3 AND expires > now()",
                          [PostgresData(string: name), PostgresData(string: node), PostgresData(int64: epoch)])
    }

    /// The lease row as it is now.
    public func current() async throws -> LeaseState {
        guard let row = try await run("""
            SELECT holder, advertise, epoch, CAST(FLOOR(EXTRACT(EPOCH FROM (expires - now())) * 1000) AS BIGINT) AS remaining
            FROM \(schema).lease WHERE name = $1 AND expires > '-infinity'
            UNION ALL SELECT holder, advertise, epoch, -1 FROM \(schema).lease WHERE name = $1 AND expires = '-infinity'
            """, [PostgresData(string: name)]).first else {
            return LeaseState(holder: "", advertise: "", epoch: 0, remainingMilliseconds: -1)
        }
        return LeaseState(holder: row.column("holder")?.string ?? "", advertise: row.column("advertise")?.string ?? "",
                          epoch: row.column("epoch")?.int64 ?? 0, remainingMilliseconds: row.column("remaining")?.int64 ?? -1)
    }

    /// Stores API keys for the whole group (docs/cluster.md "What the group shares"): `rows` are
    /// (SHA-256 of the key, its stored JSON, whether it is revoked). A key already revoked in
    /// PostgreSQL stays revoked; otherwise the newer copy wins.
    public func publishKeys(_ rows: [(hash: String, body: String)]) async throws {
        for row in rows {
            _ = try await runKeys("""
                INSERT INTO \(keysSchema).api_key (hash, body) VALUES ($1, $2)
                ON CONFLICT (hash) DO UPDATE SET body = EXCLUDED.body
                WHERE (\(keysSchema).api_key.body::jsonb ->> 'revoked') IS NULL AND \(keysSchema).api_key.body <> EXCLUDED.body
                """, [PostgresData(string: row.hash), PostgresData(string: row.body)])
        }
    }

    /// Every API key of the group, as stored JSON.
    public func sharedKeys() async throws -> [String] {
        try await runKeys("SELECT body FROM \(keysSchema).api_key ORDER BY hash").compactMap { $0.column("body")?.string }
    }

    /// Listens on `channel` on a connection of its own and calls `notified` with each payload,
    /// until the connection fails (throws) or the task is cancelled.
    public static func listen(url: String, channel: String, notified: @escaping @Sendable (String) async -> Void) async throws {
        let configuration = try PostgresURL.configuration(url)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { group.shutdownGracefully { _ in } }
        let connection = try await PostgresConnection.connect(on: group.next(), configuration: configuration, id: 3,
                                                              logger: Logger(label: "solvent.cluster.listen")).get()
        do {
            try await withTaskCancellationHandler {
                try await connection.listen(on: channel) { notifications in
                    for try await notification in notifications { await notified(notification.payload) }
                }
            } onCancel: {
                let closing: EventLoopFuture<Void> = connection.close()
                _ = closing
            }
        } catch {
            // Closed before it is released (postgres-nio asserts it).
            let closing: EventLoopFuture<Void> = connection.close()
            try? await closing.get()
            throw error
        }
        let closing: EventLoopFuture<Void> = connection.close()
        try? await closing.get()
    }

    /// Closes the connections (the next call reconnects).
    public func close() async {
        await connection.close()
        await keysConnection.close()
    }
}
