import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// One node of a cluster as it last reported itself in `<schema>.member` (docs/cluster.md
/// "Members"): a heartbeat row each node upserts about every 500 ms, so that any node's
/// `GET /v1/cluster` (and the dashboard's header) can show the whole group.
public struct ClusterMember: Sendable, Hashable {
    /// The shard whose journal the node follows (0 with one shard): the group's nodes of every
    /// shard share the table, each row keyed by (shard, node id).
    public var shard: Int
    public var nodeID: String
    /// The node's advertised URL.
    public var url: String
    /// `leader` or `standby` as the node last saw itself.
    public var role: String
    public var epoch: Int64
    /// The last journal sequence the node's engine reflected.
    public var appliedSequence: Int64
    /// Journaled commands it had not applied yet, and how long (ms) it had been behind.
    public var lagCommands: Int64
    public var lagMilliseconds: Int64
    /// Milliseconds since its last heartbeat, by PostgreSQL's clock.
    public var ageMilliseconds: Int64

    public init(shard: Int = 0, nodeID: String, url: String, role: String, epoch: Int64, appliedSequence: Int64, lagCommands: Int64,
                lagMilliseconds: Int64, ageMilliseconds: Int64 = 0) {
        self.shard = shard
        self.nodeID = nodeID
        self.url = url
        self.role = role
        self.epoch = epoch
        self.appliedSequence = appliedSequence
        self.lagCommands = lagCommands
        self.lagMilliseconds = lagMilliseconds
        self.ageMilliseconds = ageMilliseconds
    }
}

/// The group's member table: each node's heartbeat (its own connection, like PostgresLease: a
/// slow append never delays it; reconnected on the next call after a failure). Informational
/// only: nothing here decides leadership (the lease row does) or is fenced.
public actor PostgresMembers {
    public nonisolated let schema: String
    private let connection: ReconnectingPostgresConnection

    public init(url: String, schema: String) throws {
        try PostgresURL.checkSchema(schema)
        self.schema = schema
        connection = ReconnectingPostgresConnection(purpose: "members", configuration: try PostgresURL.configuration(url), id: 4) { connection in
            _ = try await connection.query("CREATE SCHEMA IF NOT EXISTS \(schema)", []).get()
            _ = try await connection.query("""
                CREATE TABLE IF NOT EXISTS \(schema).member (shard INTEGER NOT NULL DEFAULT 0, node_id TEXT NOT NULL, url TEXT NOT NULL,
                role TEXT NOT NULL, epoch BIGINT NOT NULL, applied_sequence BIGINT NOT NULL, lag_commands BIGINT NOT NULL,
                lag_ms BIGINT NOT NULL, seen TIMESTAMPTZ NOT NULL, PRIMARY KEY (shard, node_id))
                """, []).get()
            // A table from before shards had rows (node_id PRIMARY KEY): its rows become shard 0's.
            _ = try await connection.query("ALTER TABLE \(schema).member ADD COLUMN IF NOT EXISTS shard INTEGER NOT NULL DEFAULT 0", []).get()
            _ = try await connection.query("""
                DO $$ BEGIN
                IF EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                           WHERE n.nspname = '\(schema)' AND c.relname = 'member' AND i.indisprimary AND i.indnatts = 1) THEN
                  ALTER TABLE \(schema).member DROP CONSTRAINT member_pkey, ADD PRIMARY KEY (shard, node_id);
                END IF;
                END $$
                """, []).get()
        }
    }

    private func run(_ sql: String, _ binds: [PostgresData] = []) async throws -> PostgresQueryResult {
        try await connection.query(sql, binds)
    }

    /// Upserts `member` with `seen = now()`, then returns every member heard from within
    /// `withinMilliseconds` (older rows are left in the table: a stopped node reappears when it
    /// restarts), of every shard, ordered by shard and node id.
    public func heartbeat(_ member: ClusterMember, withinMilliseconds: Int64) async throws -> [ClusterMember] {
        _ = try await run("""
            INSERT INTO \(schema).member (node_id, url, role, epoch, applied_sequence, lag_commands, lag_ms, shard, seen)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
            ON CONFLICT (shard, node_id) DO UPDATE SET url = EXCLUDED.url, role = EXCLUDED.role, epoch = EXCLUDED.epoch,
            applied_sequence = EXCLUDED.applied_sequence, lag_commands = EXCLUDED.lag_commands, lag_ms = EXCLUDED.lag_ms, seen = now()
            """, [PostgresData(string: member.nodeID), PostgresData(string: member.url), PostgresData(string: member.role),
                  PostgresData(int64: member.epoch), PostgresData(int64: member.appliedSequence), PostgresData(int64: member.lagCommands),
                  PostgresData(int64: member.lagMilliseconds), PostgresData(int64: Int64(member.shard))])
        return try await run("""
            SELECT CAST(shard AS BIGINT) AS shard, node_id, url, role, epoch, applied_sequence, lag_commands, lag_ms,
            CAST(FLOOR(EXTRACT(EPOCH FROM (now() - seen)) * 1000) AS BIGINT) AS age_ms
            FROM \(schema).member WHERE seen > now() - make_interval(secs => $1) ORDER BY shard, node_id
            """, [PostgresData(double: Double(withinMilliseconds) / 1000)]).map { row in
            ClusterMember(shard: Int(row.column("shard")?.int64 ?? 0), nodeID: row.column("node_id")?.string ?? "", url: row.column("url")?.string ?? "",
                          role: row.column("role")?.string ?? "", epoch: row.column("epoch")?.int64 ?? 0,
                          appliedSequence: row.column("applied_sequence")?.int64 ?? 0, lagCommands: row.column("lag_commands")?.int64 ?? 0,
                          lagMilliseconds: row.column("lag_ms")?.int64 ?? 0, ageMilliseconds: row.column("age_ms")?.int64 ?? 0)
        }
    }

    /// Drops the member table (tests).
    public func destroy() async throws {
        _ = try await run("DROP TABLE IF EXISTS \(schema).member")
        await close()
    }

    /// Closes the connection (the next call reconnects).
    public func close() async {
        await connection.close()
    }
}
