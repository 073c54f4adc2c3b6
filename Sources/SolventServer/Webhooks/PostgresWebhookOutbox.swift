import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import SolventCore
public import SolventJournal

/// The webhook outbox of a cluster, in the group's PostgreSQL schema (docs/cluster.md "Webhooks
/// in a cluster"): `webhook_subscription` (every node's configured subscriptions, by name),
/// `webhook_cursor` (the journal sequence turned into deliveries) and `webhook_delivery` (one row
/// per event and subscription, unique on the pair). Only the leader runs delivery rounds; a new
/// leader continues from the same rows, so a takeover loses no pending delivery. A delivery whose
/// attempt was in flight when its leader died is attempted again by the successor with the same
/// `Solvent-Delivery-Id` and `Solvent-Event-Id`: at least once, receivers de-duplicate.
///
/// One connection of its own (never the journal's or the lease's: a slow round never delays an
/// append or a renewal), reconnected on the next call after a failure; a connection whose setup
/// failed is closed, not kept. Each write is one statement (atomic on its own), so the actor's
/// interleaving at its awaits never splits a transaction. postgres-nio's futures are awaited,
/// never `.wait()`ed: no cooperative thread blocks.
public actor PostgresWebhookOutbox: WebhookOutbox {
    public nonisolated let schema: String
    private let configuration: PostgresConnection.Configuration
    private let group: MultiThreadedEventLoopGroup
    private var connection: PostgresConnection?
    private let configured: [WebhookSubscription]
    private let logger = Logger(label: "solvent.webhooks.postgres")

    /// Rows per multi-row insert (7 parameters a row, under PostgreSQL's 65,535).
    static let rowsPerStatement = 1_000

    /// The outbox in `schema` of the PostgreSQL at `url`; this node's `subscriptions` are
    /// published to the group's (a row per name, the last node to connect wins) at every connection.
    public init(url: String, schema: String, subscriptions: [WebhookSubscription]) throws {
        try PostgresConnection.Configuration.checkSolventSchema(schema)
        configuration = try PostgresConnection.Configuration(solventURL: url)
        self.schema = schema
        configured = subscriptions
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    deinit {
        if let connection { let closing: EventLoopFuture<Void> = connection.close(); _ = closing }
        let group = self.group
        group.shutdownGracefully { _ in }
    }

    /// A connection with the tables in place and this node's subscriptions published.
    private func connected() async throws -> PostgresConnection {
        if let existing = connection, !existing.isClosed { return existing }
        connection = nil
        let fresh: PostgresConnection
        do {
            fresh = try await PostgresConnection.connect(on: group.next(), configuration: configuration, id: 5, logger: logger).get()
        } catch {
            throw JournalError("webhook outbox: cannot connect to PostgreSQL: \(String(reflecting: error))")
        }
        do {
            for statement in [
                "CREATE SCHEMA IF NOT EXISTS \(schema)",
                "CREATE TABLE IF NOT EXISTS \(schema).webhook_subscription (name TEXT PRIMARY KEY, body TEXT NOT NULL)",
                "CREATE TABLE IF NOT EXISTS \(schema).webhook_cursor (id INTEGER PRIMARY KEY, journal_sequence BIGINT NOT NULL)",
                "INSERT INTO \(schema).webhook_cursor (id, journal_sequence) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
                """
                CREATE TABLE IF NOT EXISTS \(schema).webhook_delivery (id BIGSERIAL PRIMARY KEY, subscription TEXT NOT NULL,
                event_id TEXT NOT NULL, event_type TEXT NOT NULL, account TEXT, body TEXT NOT NULL, attempts BIGINT NOT NULL,
                next_attempt BIGINT NOT NULL, status TEXT NOT NULL, last_error TEXT, last_http_status BIGINT, created BIGINT NOT NULL,
                delivered BIGINT, UNIQUE (subscription, event_id))
                """,
                "CREATE INDEX IF NOT EXISTS webhook_delivery_due ON \(schema).webhook_delivery (status, next_attempt)",
            ] {
                _ = try await fresh.query(statement, []).get()
            }
            for subscription in configured {
                _ = try await fresh.query("""
                    INSERT INTO \(schema).webhook_subscription (name, body) VALUES ($1, $2)
                    ON CONFLICT (name) DO UPDATE SET body = EXCLUDED.body
                    """, [PostgresData(string: subscription.name), PostgresData(string: subscription.storedJSON)]).get()
            }
        } catch {
            // Two nodes creating the tables at once can collide; the next call starts over on a new connection.
            try? await fresh.close().get()
            throw JournalError("webhook outbox: setting up PostgreSQL: \(String(reflecting: error))")
        }
        connection = fresh
        return fresh
    }

    private func run(_ sql: String, _ binds: [PostgresData] = []) async throws -> PostgresQueryResult {
        let connection = try await connected()
        do {
            return try await connection.query(sql, binds).get()
        } catch {
            if connection.isClosed { self.connection = nil }
            throw JournalError("webhook outbox: PostgreSQL: \(String(reflecting: error)) in: \(sql.prefix(80))")
        }
    }

    public func subscriptions() async throws -> [WebhookSubscription] {
        try await run("SELECT name, body FROM \(schema).webhook_subscription ORDER BY name").compactMap { row in
            guard let body = row.column("body")?.string, let value = try? JSONParser.parse(Array(body.utf8)) else { return nil }
            return try? WebhookSubscription.decode(value, path: "webhook_subscription")
        }
    }

    public func cursor() async throws -> Int64 {
        try await run("SELECT journal_sequence FROM \(schema).webhook_cursor WHERE id = 1").first?.column("journal_sequence")?.int64 ?? 0
    }

    /// Inserts the deliveries in multi-row statements (`ON CONFLICT DO NOTHING`: a pair is never
    /// enqueued twice, by any node); the last statement also moves the cursor, so the cursor
    /// never passes a delivery not yet stored.
    @discardableResult
    public func enqueue(results: [(sequence: Int64, events: [StoredEvent])], subscriptions: [WebhookSubscription], now: Int64) async throws -> Int {
        guard let last = results.last?.sequence else { return 0 }
        var rows: [[PostgresData]] = []
        for result in results {
            for event in result.events {
                let eventID = "evt_\(event.sequence)"
                for subscription in subscriptions where subscription.wants(type: event.kind, account: event.account) {
                    rows.append([PostgresData(string: subscription.name), PostgresData(string: eventID), PostgresData(string: event.kind),
                                 event.account.map { PostgresData(string: $0) } ?? .null,
                                 PostgresData(string: Self.deliveryBody(eventID: eventID, subscription: subscription.name, event: event)),
                                 PostgresData(int64: now), PostgresData(int64: now)])
                }
            }
        }
        var created = 0
        var start = 0
        repeat {
            let slice = rows[start..<min(start + Self.rowsPerStatement, rows.count)]
            start += Self.rowsPerStatement
            let isLast = start >= rows.count
            var binds: [PostgresData] = []
            var values: [String] = []
            for (k, row) in slice.enumerated() {
                values.append("($\(7 * k + 1), $\(7 * k + 2), $\(7 * k + 3), $\(7 * k + 4), $\(7 * k + 5), 0, $\(7 * k + 6), 'pending', $\(7 * k + 7))")
                binds += row
            }
            var parts: [String] = []
            if !values.isEmpty {
                parts.append("""
                    inserted AS (INSERT INTO \(schema).webhook_delivery (subscription, event_id, event_type, account, body, attempts,
                    next_attempt, status, created) VALUES \(values.joined(separator: ","))
                    ON CONFLICT (subscription, event_id) DO NOTHING RETURNING 1)
                    """)
            }
            if isLast {
                binds.append(PostgresData(int64: last))
                parts.append("moved AS (UPDATE \(schema).webhook_cursor SET journal_sequence = GREATEST(journal_sequence, $\(binds.count)) WHERE id = 1 RETURNING 1)")
            }
            let count = values.isEmpty ? "0" : "(SELECT COUNT(*) FROM inserted)"
            let result = try await run("WITH " + parts.joined(separator: ", ") + " SELECT \(count) AS n", binds)
            created += Int(result.first?.column("n")?.int64 ?? 0)
        } while start < rows.count
        return created
    }

    public func due(now: Int64, limit: Int) async throws -> [WebhookDelivery] {
        try await run("SELECT * FROM \(schema).webhook_delivery WHERE status = 'pending' AND next_attempt <= $1 ORDER BY next_attempt, id LIMIT $2",
                      [PostgresData(int64: now), PostgresData(int64: Int64(limit))]).map(Self.delivery)
    }

    public func markDelivered(id: Int64, httpStatus: Int, now: Int64) async throws {
        _ = try await run("""
            UPDATE \(schema).webhook_delivery SET status = 'delivered', attempts = attempts + 1, last_http_status = $1, last_error = NULL,
            delivered = $2 WHERE id = $3 AND status = 'pending'
            """, [PostgresData(int64: Int64(httpStatus)), PostgresData(int64: now), PostgresData(int64: id)])
    }

    /// The attempts are read, then written only if unchanged (another node's attempt in between
    /// wins; this one's failure is then not counted).
    public func markFailed(id: Int64, error: String, httpStatus: Int?, now: Int64, policy: WebhookRetryPolicy) async throws {
        guard let attempts = try await run("SELECT attempts FROM \(schema).webhook_delivery WHERE id = $1 AND status = 'pending'",
                                           [PostgresData(int64: id)]).first?.column("attempts")?.int64 else { return }
        let failures = Int(attempts) + 1
        let dead = failures >= policy.maxAttempts
        _ = try await run("""
            UPDATE \(schema).webhook_delivery SET attempts = $1, last_error = $2, last_http_status = $3, status = $4, next_attempt = $5
            WHERE id = $6 AND status = 'pending' AND attempts = $7
            """, [PostgresData(int64: Int64(failures)), PostgresData(string: String(error.prefix(500))),
                  httpStatus.map { PostgresData(int64: Int64($0)) } ?? .null,
                  PostgresData(string: dead ? "dead" : "pending"),
                  PostgresData(int64: dead ? now : now + policy.delay(afterFailures: failures, deliveryID: id)),
                  PostgresData(int64: id), PostgresData(int64: attempts)])
    }

    public func retry(id: Int64, now: Int64) async throws -> Bool {
        try await run("UPDATE \(schema).webhook_delivery SET status = 'pending', attempts = 0, next_attempt = $1 WHERE id = $2 AND status = 'dead' RETURNING id",
                      [PostgresData(int64: now), PostgresData(int64: id)]).first != nil
    }

    public func list(status: WebhookDelivery.Status?, after: Int64, limit: Int) async throws -> [WebhookDelivery] {
        if let status {
            return try await run("SELECT * FROM \(schema).webhook_delivery WHERE status = $1 AND id > $2 ORDER BY id LIMIT $3",
                                 [PostgresData(string: status.rawValue), PostgresData(int64: after), PostgresData(int64: Int64(limit))]).map(Self.delivery)
        }
        return try await run("SELECT * FROM \(schema).webhook_delivery WHERE id > $1 ORDER BY id LIMIT $2",
                             [PostgresData(int64: after), PostgresData(int64: Int64(limit))]).map(Self.delivery)
    }

    public func counts() async throws -> [WebhookDelivery.Status: Int] {
        var counts = Dictionary(uniqueKeysWithValues: WebhookDelivery.Status.allCases.map { ($0, 0) })
        for row in try await run("SELECT status, COUNT(*) AS n FROM \(schema).webhook_delivery GROUP BY status") {
            if let status = row.column("status")?.string.flatMap(WebhookDelivery.Status.init(rawValue:)) { counts[status] = Int(row.column("n")?.int64 ?? 0) }
        }
        return counts
    }

    /// Drops the outbox's tables (tests).
    public func destroy() async throws {
        _ = try await run("DROP TABLE IF EXISTS \(schema).webhook_delivery, \(schema).webhook_cursor, \(schema).webhook_subscription")
    }

    /// Closes the connection (the next call reconnects).
    public func close() async {
        if let connection { try? await connection.close().get() }
        connection = nil
    }

    static func delivery(_ row: PostgresRow) -> WebhookDelivery {
        WebhookDelivery(id: row.column("id")?.int64 ?? -1, subscription: row.column("subscription")?.string ?? "",
                        eventID: row.column("event_id")?.string ?? "", eventType: row.column("event_type")?.string ?? "",
                        account: row.column("account")?.string, body: row.column("body")?.string ?? "",
                        attempts: Int(row.column("attempts")?.int64 ?? 0), nextAttempt: row.column("next_attempt")?.int64 ?? 0,
                        status: row.column("status")?.string.flatMap(WebhookDelivery.Status.init(rawValue:)) ?? .pending,
                        lastError: row.column("last_error")?.string, lastHTTPStatus: row.column("last_http_status")?.int64.map { Int($0) },
                        created: row.column("created")?.int64 ?? 0, delivered: row.column("delivered")?.int64)
    }
}

extension WebhookSubscription {
    /// The subscription as the group stores it (`{"name","url","secret","events","accounts"}`, read
    /// back by `decode`): the secret is in PostgreSQL, readable by whoever reads the group's schema.
    var storedJSON: String {
        var w = JSONWriter()
        w.beginObject()
        w.member("name", name)
        w.member("url", url)
        w.member("secret", secret)
        w.key("events"); w.beginArray(); for type in events.sorted() { w.string(type) }; w.endArray()
        if let accounts { w.key("accounts"); w.beginArray(); for account in accounts.sorted() { w.string(account) }; w.endArray() }
        w.endObject()
        return w.string
    }
}
