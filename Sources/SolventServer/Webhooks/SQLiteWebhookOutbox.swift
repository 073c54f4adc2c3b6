import Foundation
import GRDB
import SolventCore
public import SolventJournal

/// The webhook outbox of a single node, in SQLite
/// (`DATA/outbox.sqlite`, WAL, synchronous FULL); its subscriptions are the configured ones. Events themselves come from the journal's
/// event store (typed rows), read from a cursor (a command sequence); a crash at any point re-reads from the cursor and
/// `INSERT OR IGNORE` keeps one delivery per pair: delivery is at least once.
///
/// Every read and write is `async`: GRDB runs it on the database's own serial queue (its
/// fsync included), so no cooperative thread of the server ever waits on the disk.
public final class SQLiteWebhookOutbox: WebhookOutbox {
    private let database: DatabaseQueue
    private let configured: [WebhookSubscription]

    public init(path: String, subscriptions: [WebhookSubscription] = []) throws {
        configured = subscriptions
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        database = try DatabaseQueue(path: path, configuration: configuration)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "cursor") { t in
                t.column("id", .integer).primaryKey()
                t.column("journal_sequence", .integer).notNull()
            }
            try db.execute(sql: "INSERT INTO cursor (id, journal_sequence) VALUES (1, 0)")
            try db.create(table: "delivery") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("subscription", .text).notNull()
                t.column("event_id", .text).notNull()
                t.column("event_type", .text).notNull()
                t.column("account", .text)
                t.column("body", .text).notNull()
                t.column("attempts", .integer).notNull()
                t.column("next_attempt", .integer).notNull()
                t.column("status", .text).notNull()
                t.column("last_error", .text)
                t.column("last_http_status", .integer)
                t.column("created", .integer).notNull()
                t.column("delivered", .integer)
                t.uniqueKey(["subscription", "event_id"])
            }
            try db.create(index: "delivery_due", on: "delivery", columns: ["status", "next_attempt"])
        }
        try migrator.migrate(database)
    }

    public func subscriptions() async throws -> [WebhookSubscription] { configured }

    /// The journal sequence up to which results have been turned into deliveries.
    public func cursor() async throws -> Int64 {
        try await database.read { db in try Int64.fetchOne(db, sql: "SELECT journal_sequence FROM cursor WHERE id = 1") ?? 0 }
    }

    /// Turns the stored events of journaled commands (command sequence, its events from the
    /// event store) into deliveries for the subscriptions that want them, and moves the cursor
    /// (a command sequence), in one transaction. Returns the number of deliveries created.
    @discardableResult
    public func enqueue(results: [(sequence: Int64, events: [StoredEvent])], subscriptions: [WebhookSubscription], now: Int64) async throws -> Int {
        guard let last = results.last?.sequence else { return 0 }
        return try await database.write { db in
            var created = 0
            for result in results {
                for event in result.events {
                    let eventID = "evt_\(event.sequence)"
                    for subscription in subscriptions where subscription.wants(type: event.kind, account: event.account) {
                        try db.execute(sql: """
                            INSERT OR IGNORE INTO delivery (subscription, event_id, event_type, account, body, attempts, next_attempt, status, created)
                            VALUES (?, ?, ?, ?, ?, 0, ?, 'pending', ?)
                            """, arguments: [subscription.name, eventID, event.kind, event.account,
                                                    Self.deliveryBody(eventID: eventID, subscription: subscription.name, event: event), now, now])
                        created += db.changesCount
                    }
                }
            }
            try db.execute(sql: "UPDATE cursor SET journal_sequence = MAX(journal_sequence, ?) WHERE id = 1", arguments: [last])
            return created
        }
    }

    /// Pending deliveries due at `now`, oldest first.
    public func due(now: Int64, limit: Int) async throws -> [WebhookDelivery] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM delivery WHERE status = 'pending' AND next_attempt <= ? ORDER BY next_attempt, id LIMIT ?",
                             arguments: [now, limit]).map(Self.delivery)
        }
    }

    /// Records a successful attempt.
    public func markDelivered(id: Int64, httpStatus: Int, now: Int64) async throws {
        try await database.write { db in
            try db.execute(sql: "UPDATE delivery SET status = 'delivered', attempts = attempts + 1, last_http_status = ?, last_error = NULL, delivered = ? WHERE id = ? AND status = 'pending'",
                           arguments: [httpStatus, now, id])
        }
    }

    /// Records a failed attempt: retried later, or a dead letter after the last attempt.
    public func markFailed(id: Int64, error: String, httpStatus: Int?, now: Int64, policy: WebhookRetryPolicy) async throws {
        try await database.write { db in
            guard let attempts = try Int.fetchOne(db, sql: "SELECT attempts FROM delivery WHERE id = ? AND status = 'pending'", arguments: [id]) else { return }
            let failures = attempts + 1
            let dead = failures >= policy.maxAttempts
            try db.execute(sql: "UPDATE delivery SET attempts = ?, last_error = ?, last_http_status = ?, status = ?, next_attempt = ? WHERE id = ?",
                           arguments: [failures, String(error.prefix(500)), httpStatus, dead ? "dead" : "pending",
                                       dead ? now : now + policy.delay(afterFailures: failures, deliveryID: id), id])
        }
    }

    /// Puts a dead letter back in the queue (attempts reset); false when `id` is not a dead letter.
    public func retry(id: Int64, now: Int64) async throws -> Bool {
        try await database.write { db in
            try db.execute(sql: "UPDATE delivery SET status = 'pending', attempts = 0, next_attempt = ? WHERE id = ? AND status = 'dead'", arguments: [now, id])
            return db.changesCount == 1
        }
    }

    /// Deliveries of one status (all when nil) with id > `after`, by id, at most `limit`.
    public func list(status: WebhookDelivery.Status?, after: Int64, limit: Int) async throws -> [WebhookDelivery] {
        try await database.read { db in
            if let status {
                return try Row.fetchAll(db, sql: "SELECT * FROM delivery WHERE status = ? AND id > ? ORDER BY id LIMIT ?",
                                        arguments: [status.rawValue, after, limit]).map(Self.delivery)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM delivery WHERE id > ? ORDER BY id LIMIT ?", arguments: [after, limit]).map(Self.delivery)
        }
    }

    /// Deliveries by status.
    public func counts() async throws -> [WebhookDelivery.Status: Int] {
        try await database.read { db in
            var counts = Dictionary(uniqueKeysWithValues: WebhookDelivery.Status.allCases.map { ($0, 0) })
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM delivery GROUP BY status") {
                if let status = WebhookDelivery.Status(rawValue: row["status"]) { counts[status] = row["n"] }
            }
            return counts
        }
    }

    static func delivery(_ row: Row) -> WebhookDelivery {
        WebhookDelivery(id: row["id"], subscription: row["subscription"], eventID: row["event_id"], eventType: row["event_type"],
                        account: row["account"], body: row["body"], attempts: row["attempts"], nextAttempt: row["next_attempt"],
                        status: WebhookDelivery.Status(rawValue: row["status"]) ?? .pending, lastError: row["last_error"],
                        lastHTTPStatus: row["last_http_status"], created: row["created"], delivered: row["delivered"])
    }
}
