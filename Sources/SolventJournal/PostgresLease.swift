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
    static func configuration(_ url: String) throws -> PostgresConnection.Configuration {
        guard let components = URLComponents(string: url), components.scheme == "postgres" || components.scheme == "postgresql",
              let host = components.host, let user = components.user else {
            throw JournalError("not a PostgreSQL URL (postgres://user@host:port/database): \(url)")
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
/// renewal); reconnected on the next call after it failed.
public actor PostgresLease {
    public let schema: String
    public let name: String
    public let node: String
    public let advertise: String
    /// The lease's duration in milliseconds.
    public let milliseconds: Int
    private let configuration: PostgresConnection.Configuration
    private let group: MultiThreadedEventLoopGroup
    private var connection: PostgresConnection?
    private let logger = Logger(label: "solvent.cluster.lease")

    public init(url: String, schema: String, name: String = "leader", node: String, advertise: String, milliseconds: Int) throws {
        try PostgresURL.checkSchema(schema)
        precondition(milliseconds > 0, "a lease lasts a positive time")
        configuration = try PostgresURL.configuration(url)
        self.schema = schema
        self.name = name
        self.node = node
        self.advertise = advertise
        self.milliseconds = milliseconds
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    deinit {
        if let connection { let closing: EventLoopFuture<Void> = connection.close(); _ = closing }
        let group = self.group
        group.shutdownGracefully { _ in }
    }

    /// The lease table's definition (also created by the journal, so the fence check always finds it).
    static func createTable(schema: String) -> String {
        """
        CREATE TABLE IF NOT EXISTS \(schema).lease (name TEXT PRIMARY KEY, holder TEXT NOT NULL, advertise TEXT NOT NULL,
        epoch BIGINT NOT NULL, expires TIMESTAMPTZ NOT NULL)
        """
    }

    private func run(_ sql: String, _ binds: [PostgresData] = []) async throws -> PostgresQueryResult {
        let connection: PostgresConnection
        if let existing = self.connection, !existing.isClosed {
            connection = existing
        } else {
            do {
                connection = try await PostgresConnection.connect(on: group.next(), configuration: configuration, id: 2, logger: logger).get()
            } catch {
                throw JournalError("lease: cannot connect to PostgreSQL: \(String(reflecting: error))")
            }
            self.connection = connection
            _ = try await connection.query("CREATE SCHEMA IF NOT EXISTS \(schema)", []).get()
            _ = try await connection.query(Self.createTable(schema: schema), []).get()
            _ = try await connection.query("INSERT INTO \(schema).lease (name, holder, advertise, epoch, expires) VALUES ($1, '', '', 0, '-infinity') ON CONFLICT (name) DO NOTHING",
                                           [PostgresData(string: name)]).get()
        }
        do {
            return try await connection.query(sql, binds).get()
        } catch {
            if connection.isClosed { self.connection = nil }
            throw JournalError("lease: PostgreSQL: \(String(reflecting: error))")
        }
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

    /// Closes the connection (the next call reconnects).
    public func close() async {
        if let connection { try? await connection.close().get() }
        connection = nil
    }
}
