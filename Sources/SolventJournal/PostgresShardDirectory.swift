import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// One shard's leadership as a router sees it (docs/cluster.md "Running shards").
public struct ShardLeader: Sendable, Hashable {
    /// The shard (0..<N).
    public var shard: Int
    /// The lease holder's node id, and its advertised URL (where the shard's writes go); empty
    /// when nobody ever held the lease.
    public var holder: String
    public var advertise: String
    /// The lease's epoch (0: never held).
    public var epoch: Int64
    /// Whether the lease is held now, by PostgreSQL's clock.
    public var live: Bool
    /// The shard journal's last sequence (what its leader has applied: a leader applies before it appends).
    public var head: Int64

    public init(shard: Int, holder: String, advertise: String, epoch: Int64, live: Bool, head: Int64) {
        self.shard = shard
        self.holder = holder
        self.advertise = advertise
        self.epoch = epoch
        self.live = live
        self.head = head
    }
}

/// The shards of a group, read from PostgreSQL: each shard K's lease row and journal head in
/// schema `<schema>_s<K>`, the group's forwarding secret in `<schema>.shard_secret`, and the
/// delivery cursors of cross-shard outbox messages (`<schema>_s<K>.delivery_cursor`: in the
/// sender's schema, one row per receiver). One connection of its own, reconnected on the next
/// call after it failed.
public actor PostgresShardDirectory {
    /// The group's base schema (`--schema`).
    public nonisolated let schema: String
    /// The number of shards.
    public nonisolated let shards: Int
    private let connection: ReconnectingPostgresConnection

    public init(url: String, schema: String, shards: Int) throws {
        try PostgresURL.checkSchema(schema)
        guard shards >= 1 else { throw JournalError("a group has at least one shard, found \(shards)") }
        connection = ReconnectingPostgresConnection(purpose: "shards", configuration: try PostgresURL.configuration(url), id: 4)
        self.schema = schema
        self.shards = shards
    }

    /// Shard `k`'s schema: `<schema>_s<k>` (with one shard, the group's schema itself: stage 1).
    public nonisolated func schema(ofShard k: Int) -> String { shards > 1 ? "\(schema)_s\(k)" : schema }

    private func run(_ sql: String, _ binds: [PostgresData] = []) async throws -> PostgresQueryResult {
        try await connection.query(sql, binds)
    }

    /// Every shard's lease and journal head. A shard whose schema no node created yet has no leader.
    public func leaders() async throws -> [ShardLeader] {
        var result: [ShardLeader] = []
        for k in 0..<shards {
            let s = schema(ofShard: k)
            let exists = try await run("SELECT to_regclass('\(s).lease') IS NOT NULL AND to_regclass('\(s).command') IS NOT NULL AS ready")
                .first?.column("ready")?.bool ?? false
            guard exists, let row = try await run("""
                SELECT holder, advertise, epoch, expires > now() AS live,
                (SELECT COALESCE(MAX(sequence), 0) FROM \(s).command) AS head
                FROM \(s).lease WHERE name = 'leader'
                """).first else {
                result.append(ShardLeader(shard: k, holder: "", advertise: "", epoch: 0, live: false, head: 0))
                continue
            }
            let holder = row.column("holder")?.string ?? ""
            result.append(ShardLeader(shard: k, holder: holder, advertise: row.column("advertise")?.string ?? "",
                                      epoch: row.column("epoch")?.int64 ?? 0, live: (row.column("live")?.bool ?? false) && !holder.isEmpty,
                                      head: row.column("head")?.int64 ?? 0))
        }
        return result
    }

    /// The group's forwarding secret: 32 random bytes (hex) created by the first node that asks,
    /// then the same for every node. A node forwarding a fanned-out command to a shard's leader
    /// sends it, so that only nodes of the group can journal a market command in one shard alone.
    public func forwardingSecret() async throws -> String {
        _ = try await run("CREATE SCHEMA IF NOT EXISTS \(schema)")
        _ = try await run("CREATE TABLE IF NOT EXISTS \(schema).shard_secret (id INTEGER PRIMARY KEY, secret TEXT NOT NULL)")
        var generator = SystemRandomNumberGenerator()
        let fresh = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        _ = try await run("INSERT INTO \(schema).shard_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING", [PostgresData(string: fresh)])
        guard let secret = try await run("SELECT secret FROM \(schema).shard_secret WHERE id = 1").first?.column("secret")?.string else {
            throw JournalError("shards: the forwarding secret is missing")
        }
        return secret
    }

    // MARK: - Delivery cursors and outbox messages

    /// Schemas whose cursor table this directory created (or found): not asked again.
    private var cursorTables: Set<String> = []

    private func ensureCursorTable(_ s: String) async throws {
        guard !cursorTables.contains(s) else { return }
        _ = try await run("CREATE TABLE IF NOT EXISTS \(s).delivery_cursor (receiver INTEGER PRIMARY KEY, event_sequence BIGINT NOT NULL)")
        cursorTables.insert(s)
    }

    /// The last event sequence of shard `sender`'s event store that shard `receiver` has journaled
    /// (as `deliver` commands) every message of: 0 when none yet. Nil when the sender's journal
    /// does not exist yet.
    public func cursor(sender: Int, receiver: Int) async throws -> Int64? {
        let s = schema(ofShard: sender)
        if !cursorTables.contains(s) {
            guard try await run("SELECT to_regclass('\(s).event') IS NOT NULL AS ready").first?.column("ready")?.bool ?? false else { return nil }
        }
        try await ensureCursorTable(s)
        return try await run("SELECT event_sequence FROM \(s).delivery_cursor WHERE receiver = $1", [PostgresData(int64: Int64(receiver))])
            .first?.column("event_sequence")?.int64 ?? 0
    }

    /// Moves the cursor of `receiver` in `sender`'s schema forward to `sequence` (never back: a
    /// slower, older leader of the receiver cannot undo a newer one's progress).
    public func advance(sender: Int, receiver: Int, to sequence: Int64) async throws {
        let s = schema(ofShard: sender)
        try await ensureCursorTable(s)
        _ = try await run("""
            INSERT INTO \(s).delivery_cursor (receiver, event_sequence) VALUES ($1, $2)
            ON CONFLICT (receiver) DO UPDATE SET event_sequence = GREATEST(\(s).delivery_cursor.event_sequence, EXCLUDED.event_sequence)
            """, [PostgresData(int64: Int64(receiver)), PostgresData(int64: sequence)])
    }

    /// Events of shard `sender` after `after` whose kind is one of `kinds`, in order, at most `limit`.
    public func events(sender: Int, kinds: [String], after: Int64, limit: Int) async throws -> [StoredEvent] {
        guard !kinds.isEmpty else { return [] }
        let s = schema(ofShard: sender)
        let placeholders = kinds.indices.map { "$\($0 + 3)" }.joined(separator: ",")
        return try await run("""
            SELECT sequence, command, time, kind, account, body FROM \(s).event
            WHERE sequence > $1 AND kind IN (\(placeholders)) ORDER BY sequence LIMIT $2
            """, [PostgresData(int64: after), PostgresData(int64: Int64(limit))] + kinds.map { PostgresData(string: $0) }).map(PostgresJournal.event)
    }

    /// Closes the connection (the next call reconnects).
    public func close() async {
        await connection.close()
    }
}
