import Foundation
import SolventCore
public import SolventJournal

/// When a failed delivery is tried again: exponential backoff with deterministic jitter, a
/// cap, and a number of attempts after which the delivery is a dead letter.
public struct WebhookRetryPolicy: Sendable, Hashable {
    /// Delay after the first failure (ms); doubles after each further failure.
    public var baseMilliseconds: Int64
    /// Longest delay between two attempts (ms).
    public var maxMilliseconds: Int64
    /// Attempts before a delivery becomes a dead letter (≥ 1).
    public var maxAttempts: Int
    /// Time allowed for one HTTP attempt (ms).
    public var timeoutMilliseconds: Int64
    /// Deliveries in flight at once.
    public var concurrency: Int

    public init(baseMilliseconds: Int64 = 1_000, maxMilliseconds: Int64 = 600_000, maxAttempts: Int = 10,
                timeoutMilliseconds: Int64 = 10_000, concurrency: Int = 8) {
        precondition(baseMilliseconds > 0 && maxMilliseconds >= baseMilliseconds && maxAttempts >= 1 && timeoutMilliseconds > 0 && concurrency >= 1,
                     "invalid webhook retry policy")
        self.baseMilliseconds = baseMilliseconds
        self.maxMilliseconds = maxMilliseconds
        self.maxAttempts = maxAttempts
        self.timeoutMilliseconds = timeoutMilliseconds
        self.concurrency = concurrency
    }

    /// Delay before attempt `attempts + 1` after `attempts` failures: base·2^(attempts−1),
    /// capped, times a jitter in [0.8, 1.2] drawn from the delivery id (so retries of many
    /// deliveries spread out, and the same delivery always waits the same).
    public func delay(afterFailures attempts: Int, deliveryID: Int64) -> Int64 {
        let exponent = min(max(attempts - 1, 0), 40)
        let raw = min(maxMilliseconds, baseMilliseconds.multipliedReportingOverflow(by: Int64(1) << exponent).overflow ? maxMilliseconds : baseMilliseconds << exponent)
        var random = SplitMix64(seed: UInt64(bitPattern: deliveryID) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(attempts))
        let jitter = 800 + Int64(random.next() % 401)  // per mille
        return min(maxMilliseconds, raw * jitter / 1000)
    }
}

/// One delivery of one event to one subscription.
public struct WebhookDelivery: Sendable, Hashable {
    public enum Status: String, Sendable, CaseIterable { case pending, delivered, dead }
    public var id: Int64
    public var subscription: String
    /// `evt_<engine event sequence>`: the same event always has the same id (receivers de-duplicate on it).
    public var eventID: String
    public var eventType: String
    public var account: String?
    /// The JSON body posted.
    public var body: String
    public var attempts: Int
    /// Unix ms of the next attempt (pending only).
    public var nextAttempt: Int64
    public var status: Status
    public var lastError: String?
    /// HTTP status of the last attempt (nil: no response).
    public var lastHTTPStatus: Int?
    public var created: Int64
    public var delivered: Int64?
}

/// The webhook outbox: the delivery state of every (event, subscription) pair, and the
/// subscriptions it delivers to. Two stores: `SQLiteWebhookOutbox` (`DATA/outbox.sqlite`, a single
/// node) and `PostgresWebhookOutbox` (the group's schema, a cluster: docs/cluster.md "Webhooks in a
/// cluster"). Events come from the journal's event store, read from a cursor (a command sequence);
/// a crash at any point re-reads from the cursor and one delivery per pair is kept: delivery is at
/// least once, each delivery with its id (`Solvent-Delivery-Id`) and its event's id
/// (`Solvent-Event-Id`), the same on every attempt and every node, so receivers de-duplicate.
/// Every call is `async` and never blocks a cooperative thread.
public protocol WebhookOutbox: Sendable {
    /// The subscriptions deliveries are created for: the configured ones (single node), or the
    /// group's (a cluster: every node's configured subscriptions, published to PostgreSQL).
    func subscriptions() async throws -> [WebhookSubscription]
    /// The journal sequence up to which results have been turned into deliveries.
    func cursor() async throws -> Int64
    /// Turns the stored events of journaled commands (command sequence, its events from the
    /// event store) into deliveries for the subscriptions that want them, and moves the cursor
    /// (a command sequence). Returns the number of deliveries created.
    @discardableResult
    func enqueue(results: [(sequence: Int64, events: [StoredEvent])], subscriptions: [WebhookSubscription], now: Int64) async throws -> Int
    /// Pending deliveries due at `now` (Unix ms), oldest first.
    func due(now: Int64, limit: Int) async throws -> [WebhookDelivery]
    /// Records a successful attempt.
    func markDelivered(id: Int64, httpStatus: Int, now: Int64) async throws
    /// Records a failed attempt: retried later, or a dead letter after the last attempt.
    func markFailed(id: Int64, error: String, httpStatus: Int?, now: Int64, policy: WebhookRetryPolicy) async throws
    /// Puts a dead letter back in the queue (attempts reset); false when `id` is not a dead letter.
    func retry(id: Int64, now: Int64) async throws -> Bool
    /// Deliveries of one status (all when nil) with id > `after`, by id, at most `limit`.
    func list(status: WebhookDelivery.Status?, after: Int64, limit: Int) async throws -> [WebhookDelivery]
    /// Deliveries by status.
    func counts() async throws -> [WebhookDelivery.Status: Int]
}

extension WebhookOutbox {
    /// The JSON body posted for `event` to `subscription`: `{"id","subscription","event"}`.
    static func deliveryBody(eventID: String, subscription: String, event: StoredEvent) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.member("id", eventID)
        w.member("subscription", subscription)
        w.key("event"); w.raw(event.body)
        w.endObject()
        return w.string
    }
}

extension WebhookDelivery {
    /// The API's JSON of a delivery (the body as an object).
    public var json: String {
        var w = JSONWriter()
        w.beginObject()
        w.key("id"); w.integer(id)
        w.member("subscription", subscription)
        w.member("event_id", eventID)
        w.member("event_type", eventType)
        w.key("account"); if let account { w.string(account) } else { w.null() }
        w.member("status", status.rawValue)
        w.key("attempts"); w.integer(attempts)
        w.key("next_attempt"); w.integer(nextAttempt)
        w.key("last_error"); if let lastError { w.string(lastError) } else { w.null() }
        w.key("last_http_status"); if let lastHTTPStatus { w.integer(lastHTTPStatus) } else { w.null() }
        w.key("created"); w.integer(created)
        w.key("delivered"); if let delivered { w.integer(delivered) } else { w.null() }
        w.key("body"); w.raw(body)
        w.endObject()
        return w.string
    }
}
