import Foundation
import SolventCore
import SolventJournal
import SolventServer
import Synchronization
import Testing

/// The cluster's webhook outbox in PostgreSQL (docs/cluster.md "Webhooks in a cluster"): a
/// subscription configured on one node is the group's; deliveries enqueued by one leader are
/// continued by the next, with the same delivery ids. PostgreSQL from `SOLVENT_TEST_POSTGRES_URL`;
/// under CI a missing URL fails, elsewhere the suite is skipped (reported as skipped).
@Suite(.serialized) struct PostgresWebhookOutboxTests {
    static let url = ProcessInfo.processInfo.environment["SOLVENT_TEST_POSTGRES_URL"]
    static let enabled = url != nil || ProcessInfo.processInfo.environment["CI"] != nil

    static let desk = WebhookSubscription(name: "desk", url: "http://127.0.0.1:1/desk", secret: "desk-secret-0123456789", events: ["deposited"])

    /// Node a's leader round meets a receiver that is down: three deliveries stay pending. Node b
    /// (no subscription configured) sees a's subscription, enqueues nothing twice, and — a
    /// takeover — delivers all three with the delivery and event ids a used, each signed with the
    /// subscription's secret as stored by the group.
    @Test(.enabled(if: enabled)) func takeoverContinuesTheGroupsOutbox() async throws {
        let url = try #require(Self.url, "SOLVENT_TEST_POSTGRES_URL is not set: run ./scripts/test, which starts PostgreSQL")
        let schema = "webhooks_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let f = try await Fixture(postgres: (url, schema))
        defer { try? PostgresJournal(url: url, schema: schema).destroy() }
        for (n, account) in ["alice", "bob", "carol"].enumerated() {
            _ = try await f.engine.submit(try JSONParser.parse(#"{"type":"deposit","account":"\#(account)","asset":"USDT","amount":"\#(n + 1)00"}"#), key: "d\(n)")
        }
        let clock = ManualClock()
        let a = try PostgresWebhookOutbox(url: url, schema: schema, subscriptions: [Self.desk])
        let b = try PostgresWebhookOutbox(url: url, schema: schema, subscriptions: [])
        #expect(try await a.cursor() == 0)  // a connected: its subscription is the group's
        #expect(try await b.subscriptions() == [Self.desk], "b sees a's subscription, secret included")

        let down = ScriptedTransport { _, _ in 503 }
        let leaderA = WebhookDispatcher(outbox: a, subscriptions: [], policy: WebhookRetryPolicy(baseMilliseconds: 1_000, maxMilliseconds: 1_000, maxAttempts: 5),
                                        transport: down, clock: clock.read)
        let first = try await leaderA.round(engine: f.engine)
        #expect(first.created == 3 && first.attempted == 3)
        #expect(try await b.counts()[.pending] == 3, "b sees a's pending deliveries")
        let cursor = try await b.cursor()
        #expect(cursor == 3, "the cursor moved with the deliveries")
        // A successor re-reading the journal from before the cursor creates no second delivery.
        #expect(try await b.enqueue(results: try await f.engine.results(after: 0, limit: 100), subscriptions: [Self.desk], now: clock.read()) == 0)

        // a dies; b leads, the receiver is back.
        await a.close()
        clock.advance(5_000)
        let up = ScriptedTransport { _, _ in 204 }
        let leaderB = WebhookDispatcher(outbox: b, subscriptions: [], transport: up, clock: clock.read)
        let second = try await leaderB.round(engine: f.engine)
        #expect(second.created == 0 && second.attempted == 3)
        let counts = try await b.counts()
        #expect(counts[.delivered] == 3 && counts[.pending] == 0 && counts[.dead] == 0)

        let before = down.calls.withLock { $0 }, after = up.calls.withLock { $0 }
        #expect(before.count == 3 && after.count == 3)
        let idsBefore = Set(before.map { "\($0.headers["Solvent-Delivery-Id"] ?? "")/\($0.headers["Solvent-Event-Id"] ?? "")" })
        let idsAfter = Set(after.map { "\($0.headers["Solvent-Delivery-Id"] ?? "")/\($0.headers["Solvent-Event-Id"] ?? "")" })
        #expect(idsBefore.count == 3 && idsBefore == idsAfter, "the successor sends the same deliveries: same delivery and event ids")
        #expect(after.allSatisfy { $0.headers["Solvent-Delivery-Attempt"] == "2" }, "the failed attempt was counted by the group")
        var verified = 0
        for call in after {
            let timestamp = try #require(Int64(call.headers["Solvent-Timestamp"] ?? ""))
            #expect(WebhookSignature.verify(header: call.headers["Solvent-Signature"] ?? "", secret: Self.desk.secret, timestamp: timestamp,
                                            body: call.body, now: clock.read() / 1000))
            verified += 1
        }
        #expect(verified == 3)
        let amounts = try after.map { try JSONParser.parse($0.body)["event"]?["amount"] }.compactMap { $0 }
        #expect(Set(amounts) == [.string("100"), .string("200"), .string("300")])
        let delivered = try await b.list(status: .delivered, after: 0, limit: 10)
        #expect(delivered.count == 3 && delivered.allSatisfy { $0.attempts == 2 && $0.lastHTTPStatus == 204 })
        await b.close()
    }

    /// Two shards' outboxes (each beside its own journal) share the group's subscriptions; their
    /// event ids name the shard and their delivery ids never meet, so a receiver's de-duplication
    /// never drops another shard's delivery.
    @Test(.enabled(if: enabled)) func shardsShareSubscriptionsNotIds() async throws {
        let url = try #require(Self.url, "SOLVENT_TEST_POSTGRES_URL is not set: run ./scripts/test, which starts PostgreSQL")
        let base = "webhooks_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        defer { for schema in [base, base + "_s0", base + "_s1"] { try? PostgresJournal(url: url, schema: schema).destroy() } }
        let s0 = try PostgresWebhookOutbox(url: url, schema: base + "_s0", subscriptionsSchema: base, shard: 0, subscriptions: [Self.desk])
        let s1 = try PostgresWebhookOutbox(url: url, schema: base + "_s1", subscriptionsSchema: base, shard: 1, subscriptions: [])
        #expect(try await s0.cursor() == 0)
        #expect(try await s1.subscriptions() == [Self.desk], "shard 1 sees the subscription a shard 0 node configured")
        let event = StoredEvent(sequence: 5, command: 3, time: 0, kind: "deposited", account: "a", body: #"{"type":"deposited","seq":5,"time":0,"account":"a"}"#)
        #expect(try await s0.enqueue(results: [(3, [event])], subscriptions: [Self.desk], now: 0) == 1)
        #expect(try await s1.enqueue(results: [(3, [event])], subscriptions: [Self.desk], now: 0) == 1, "the same sequence in another shard is another event")
        let d0 = try #require(try await s0.list(status: nil, after: 0, limit: 10).first)
        let d1 = try #require(try await s1.list(status: nil, after: 0, limit: 10).first)
        #expect(d0.eventID == "evt_s0_5" && d1.eventID == "evt_s1_5")
        #expect(d0.id == 1 && d1.id == 1_000_000_000_001)
        await s0.close()
        await s1.close()
    }

    /// Dead letters in the group's outbox: retried through the store, from any node.
    @Test(.enabled(if: enabled)) func deadLettersAndRetry() async throws {
        let url = try #require(Self.url, "SOLVENT_TEST_POSTGRES_URL is not set: run ./scripts/test, which starts PostgreSQL")
        let schema = "webhooks_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        defer { try? PostgresJournal(url: url, schema: schema).destroy() }
        let a = try PostgresWebhookOutbox(url: url, schema: schema, subscriptions: [Self.desk])
        let b = try PostgresWebhookOutbox(url: url, schema: schema, subscriptions: [])
        let event = StoredEvent(sequence: 7, command: 2, time: 0, kind: "deposited", account: "a", body: #"{"type":"deposited","seq":7,"time":0,"account":"a"}"#)
        #expect(try await a.enqueue(results: [(1, []), (2, [event])], subscriptions: [Self.desk], now: 10) == 1)
        #expect(try await b.enqueue(results: [(2, [event])], subscriptions: [Self.desk], now: 10) == 0)
        let due = try await b.due(now: 10, limit: 10)
        #expect(due.map(\.eventID) == ["evt_7"])
        let id = try #require(due.first?.id)
        let policy = WebhookRetryPolicy(baseMilliseconds: 100, maxMilliseconds: 100, maxAttempts: 2)
        try await a.markFailed(id: id, error: "HTTP 500", httpStatus: 500, now: 10, policy: policy)
        #expect(try await b.due(now: 10, limit: 10).isEmpty, "backed off")
        try await b.markFailed(id: id, error: "timed out", httpStatus: nil, now: 200, policy: policy)
        let dead = try await a.list(status: .dead, after: 0, limit: 10)
        #expect(dead.count == 1 && dead.first?.attempts == 2 && dead.first?.lastHTTPStatus == nil && dead.first?.lastError == "timed out")
        #expect(try await b.retry(id: id, now: 300))
        #expect(try await !a.retry(id: id, now: 300), "only a dead letter is retried")
        try await a.markDelivered(id: id, httpStatus: 200, now: 310)
        #expect(try await b.counts() == [.pending: 0, .delivered: 1, .dead: 0])
        await a.close()
        await b.close()
    }
}
