import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SolventCore
import SolventJournal
import SolventServer
import Synchronization
import Testing

/// A transport that records every POST and answers from a script per event id.
final class ScriptedTransport: WebhookTransport {
    struct Call: Sendable { var url: String; var headers: [String: String]; var body: [UInt8] }
    let calls = Mutex<[Call]>([])
    /// HTTP status of the n-th attempt (0-based) at a URL; nil: no response (a transport error).
    let answer: @Sendable (String, Int) -> Int?

    init(answer: @escaping @Sendable (String, Int) -> Int?) { self.answer = answer }

    func post(url: String, headers: [(String, String)], body: [UInt8], timeoutMilliseconds: Int64) async throws -> Int {
        let attempt = calls.withLock { calls in
            calls.append(Call(url: url, headers: Dictionary(headers, uniquingKeysWith: { a, _ in a }), body: body))
            return calls.filter { $0.url == url && $0.headers["Solvent-Event-Id"] == Dictionary(headers, uniquingKeysWith: { a, _ in a })["Solvent-Event-Id"] }.count - 1
        }
        guard let status = answer(url, attempt) else { throw WebhookDeliveryError("connection refused") }
        return status
    }
}

/// A clock the test moves by hand (Unix ms).
final class ManualClock: Sendable {
    let now = Mutex<Int64>(1_700_000_000_000)
    func advance(_ ms: Int64) { now.withLock { $0 += ms } }
    var read: @Sendable () -> Int64 { { self.now.withLock { $0 } } }
}

@Suite struct WebhookTests {
    /// The signature is HMAC-SHA256 over "timestamp.body" (vector from Python's hmac module).
    @Test func signature() {
        let body = Array(#"{"id":"evt_1"}"#.utf8)
        let header = WebhookSignature.sign(secret: "whsec_test_0123456789", timestamp: 1_700_000_000, body: body)
        #expect(header == "v1=96a6e4147d41eb58c1480c33f2e6c77496783ed0b5e00ff73e862fbca407ecc6")
        #expect(WebhookSignature.verify(header: header, secret: "whsec_test_0123456789", timestamp: 1_700_000_000, body: body, now: 1_700_000_100))
        #expect(!WebhookSignature.verify(header: header, secret: "whsec_test_0123456789", timestamp: 1_700_000_000, body: body, now: 1_700_000_400), "stale timestamp")
        #expect(!WebhookSignature.verify(header: header, secret: "another_secret_0123", timestamp: 1_700_000_000, body: body, now: 1_700_000_000))
        #expect(!WebhookSignature.verify(header: header, secret: "whsec_test_0123456789", timestamp: 1_700_000_001, body: body, now: 1_700_000_000))
        #expect(!WebhookSignature.verify(header: header, secret: "whsec_test_0123456789", timestamp: 1_700_000_000, body: body + [0x20], now: 1_700_000_000))
    }

    /// Backoff doubles from the base, is capped, and its jitter stays within ±20 %.
    @Test func backoff() {
        let policy = WebhookRetryPolicy(baseMilliseconds: 1_000, maxMilliseconds: 60_000, maxAttempts: 10)
        for id in Int64(1)...50 {
            for failures in 1...10 {
                let nominal: Int64 = min(60_000, Int64(1_000) << (failures - 1))
                let delay = policy.delay(afterFailures: failures, deliveryID: id)
                let low: Int64 = nominal * 8 / 10
                let high: Int64 = min(60_000, nominal * 12 / 10)
                #expect(delay >= low && delay <= high, "failures \(failures): \(delay)")
                #expect(delay == policy.delay(afterFailures: failures, deliveryID: id), "deterministic")
            }
        }
    }

    /// Events become deliveries for the subscriptions that want them; a failing receiver is
    /// retried with backoff until it answers 2xx; one that never does becomes a dead letter,
    /// visible in the API and put back in the queue by the retry route.
    @Test func retriesAndDeadLetters() async throws {
        let f = try await Fixture()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("solvent-outbox-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let outbox = try SQLiteWebhookOutbox(path: folder + "/outbox.sqlite")
        let clock = ManualClock()
        let transport = ScriptedTransport { url, attempt in
            url.hasSuffix("/flaky") ? (attempt < 2 ? 503 : 204) : (url.hasSuffix("/gone") ? 404 : nil)
        }
        let subscriptions = [
            WebhookSubscription(name: "desk", url: "http://127.0.0.1:1/flaky", secret: "desk-secret-0123456789", events: ["deposited"]),
            WebhookSubscription(name: "alice-only", url: "http://127.0.0.1:1/gone", secret: "alice-secret-012345678", events: ["*"], accounts: ["alice"]),
        ]
        let policy = WebhookRetryPolicy(baseMilliseconds: 1_000, maxMilliseconds: 10_000, maxAttempts: 3)
        let dispatcher = WebhookDispatcher(outbox: outbox, subscriptions: subscriptions, policy: policy, transport: transport, clock: clock.read)
        _ = try await f.engine.submit(try JSONParser.parse(#"{"type":"deposit","account":"alice","asset":"USDT","amount":"100"}"#), key: "d1")
        _ = try await f.engine.submit(try JSONParser.parse(#"{"type":"deposit","account":"bob","asset":"USDT","amount":"50"}"#), key: "d2")

        let first = try await dispatcher.round(engine: f.engine)
        // desk wants both deposits; alice-only wants alice's events (account_opened and deposited).
        #expect(first.created == 4)
        #expect(first.attempted == 4)
        for _ in 0..<5 {
            clock.advance(60_000)
            try await dispatcher.round(engine: f.engine)
        }
        let counts = try await outbox.counts()
        #expect(counts[.delivered] == 2)
        #expect(counts[.dead] == 2)
        let delivered = try await outbox.list(status: .delivered, after: 0, limit: 10)
        #expect(delivered.allSatisfy { $0.attempts == 3 && $0.lastHTTPStatus == 204 })
        // Every attempt was signed with the subscription's secret over timestamp.body, and named its event.
        let calls = transport.calls.withLock { $0 }
        let expectedCalls = 3 * 2 + 3 * 2
        #expect(calls.count == expectedCalls)
        for call in calls {
            let secret = call.url.hasSuffix("/flaky") ? "desk-secret-0123456789" : "alice-secret-012345678"
            let timestamp = try #require(Int64(call.headers["Solvent-Timestamp"] ?? ""))
            #expect(WebhookSignature.verify(header: call.headers["Solvent-Signature"] ?? "", secret: secret, timestamp: timestamp, body: call.body, now: timestamp))
            let body = try JSONParser.parse(call.body)
            #expect(body["id"] == .string(call.headers["Solvent-Event-Id"] ?? "?"))
            #expect(body["event"]?["type"] == .string(call.headers["Solvent-Event-Type"] ?? "?"))
        }
        // Nothing more happens to delivered or dead deliveries.
        clock.advance(3_600_000)
        #expect(try await dispatcher.round(engine: f.engine).attempted == 0)

        // Dead letters in the API, and a retry puts one back in the queue.
        let dead = try await outbox.list(status: .dead, after: 0, limit: 10)
        #expect(dead.count == 2)
        #expect(dead.allSatisfy { $0.subscription == "alice-only" && $0.lastHTTPStatus == 404 && $0.account == "alice" })
        let app = SolventAPI.application(router: SolventAPI.router(engine: f.engine, keys: f.keys, webhooks: dispatcher),
                                         host: "127.0.0.1", port: 0, logger: Logger(label: "test"))
        try await app.test(.router) { client in
            let listed = try await request(client, .get, "/v1/webhooks/deliveries?status=dead", key: f.operatorKey)
            #expect(listed.status == .ok)
            guard case .array(let items)? = listed.json?["deliveries"] else { Issue.record("no deliveries array"); return }
            #expect(items.count == 2)
            #expect(items.first?["last_error"] == .string("HTTP 404"))
            let summary = try await request(client, .get, "/v1/webhooks", key: f.operatorKey).json
            #expect(summary?["deliveries"]?["dead"] == .number("2"))
            if case .array(let subscriptions)? = summary?["subscriptions"] {
                #expect(subscriptions.count == 2)
                #expect(subscriptions.allSatisfy { $0["secret"] == nil }, "secrets are never served")
            } else { Issue.record("no subscriptions array") }
            let forbidden = try await request(client, .get, "/v1/webhooks/deliveries", key: f.aliceKey).status
            #expect(forbidden == .forbidden)
            let retried = try await request(client, .post, "/v1/webhooks/deliveries/\(dead[0].id)/retry", key: f.operatorKey, idempotency: "r1")
            #expect(retried.json?["status"] == .string("pending"))
            let again = try await request(client, .post, "/v1/webhooks/deliveries/\(dead[0].id)/retry", key: f.operatorKey, idempotency: "r1")
            #expect(again.json?["status"] == .string("pending"))
            let unknown = try await request(client, .post, "/v1/webhooks/deliveries/999/retry", key: f.operatorKey, idempotency: "r2").status
            #expect(unknown == .notFound)
        }
        #expect(try await outbox.counts()[.pending] == 1)
        #expect(try await !outbox.retry(id: delivered[0].id, now: clock.read()), "only dead letters are retried")
    }

    /// Over real HTTP (URLSession to a Hummingbird receiver on loopback): the receiver gets the
    /// documented headers and can verify the signature.
    @Test func liveDelivery() async throws {
        let f = try await Fixture()
        let received = Mutex<[(HTTPFields, [UInt8])]>([])
        let receiver = Router()
        receiver.post("/hook") { request, _ -> HTTPResponse.Status in
            let body = try await request.body.collect(upTo: 1 << 20)
            received.withLock { $0.append((request.headers, Array(body.readableBytesView))) }
            return .noContent
        }
        try await Application(router: receiver, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            let port = try #require(client.port)
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("solvent-outbox-\(UUID().uuidString).sqlite").path
            let dispatcher = WebhookDispatcher(outbox: try SQLiteWebhookOutbox(path: path),
                                               subscriptions: [WebhookSubscription(name: "desk", url: "http://127.0.0.1:\(port)/hook", secret: "desk-secret-0123456789", events: ["deposited"])])
            _ = try await f.engine.submit(try JSONParser.parse(#"{"type":"deposit","account":"alice","asset":"USDT","amount":"100"}"#), key: "d1")
            let round = try await dispatcher.round(engine: f.engine)
            #expect(round.created == 1)
            #expect(try await dispatcher.outbox.counts()[.delivered] == 1)
        }
        let (headers, body) = try #require(received.withLock { $0.first })
        let timestamp = try #require(Int64(headers[HTTPField.Name("Solvent-Timestamp")!] ?? ""))
        #expect(WebhookSignature.verify(header: headers[HTTPField.Name("Solvent-Signature")!] ?? "", secret: "desk-secret-0123456789",
                                        timestamp: timestamp, body: body, now: Int64(Date().timeIntervalSince1970)))
        #expect(headers[HTTPField.Name("Solvent-Event-Id")!] == "evt_2")
        #expect(headers[.contentType] == "application/json")
        #expect(try JSONParser.parse(body)["event"]?["amount"] == .string("100"))
    }

    /// Enqueueing the same journal results twice (a crash before the cursor moved) creates no
    /// second delivery; a new outbox on the same file resumes from its cursor.
    @Test func enqueueIsIdempotent() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("solvent-outbox-\(UUID().uuidString).sqlite").path
        let subscription = WebhookSubscription(name: "desk", url: "http://127.0.0.1:1/x", secret: "desk-secret-0123456789", events: ["*"])
        let lines = [StoredEvent(sequence: 1, command: 1, time: 0, kind: "deposited", account: "a", body: #"{"type":"deposited","seq":1,"time":0,"account":"a"}"#),
                     StoredEvent(sequence: 2, command: 1, time: 0, kind: "margin_call", account: "a", body: #"{"type":"margin_call","seq":2,"time":0,"account":"a"}"#)]
        let outbox = try SQLiteWebhookOutbox(path: path)
        #expect(try await outbox.enqueue(results: [(1, lines)], subscriptions: [subscription], now: 0) == 2)
        #expect(try await outbox.enqueue(results: [(1, lines)], subscriptions: [subscription], now: 0) == 0)
        let reopened = try SQLiteWebhookOutbox(path: path)
        #expect(try await reopened.cursor() == 1)
        #expect(try await reopened.counts()[.pending] == 2)
        #expect(try await reopened.list(status: nil, after: 0, limit: 10).map(\.eventID) == ["evt_1", "evt_2"])
    }

    /// Subscription documents are checked member by member.
    @Test func subscriptionValidation() throws {
        func error(_ text: String) -> String? {
            let document = try! JSONParser.parse(text)
            do { _ = try WebhookSubscription.decode(document, path: "webhooks[0]"); return nil } catch { return "\(error.path): \(error.reason)" }
        }
        #expect(error(#"{"name":"d","url":"http://x.example/h","secret":"0123456789abcdef"}"#) == nil)
        #expect(error(#"{"url":"http://x.example/h","secret":"0123456789abcdef"}"#) == "webhooks[0].name: missing")
        #expect(error(#"{"name":"d","url":"ftp://x","secret":"0123456789abcdef"}"#) == "webhooks[0].url: an http:// or https:// URL")
        #expect(error(#"{"name":"d","url":"http://x.example/h","secret":"short"}"#) == "webhooks[0].secret: at least 16 characters")
        #expect(error(#"{"name":"d","url":"http://x.example/h","secret":"0123456789abcdef","events":[]}"#) == #"webhooks[0].events: name at least one event type, or "*""#)
        #expect(error(#"{"name":"a b","url":"http://x.example/h","secret":"0123456789abcdef"}"#) == "webhooks[0].name: 1 to 64 letters, digits, - or _")
    }
}
