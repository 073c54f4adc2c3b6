import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Sends one HTTP POST; returns the response status, throws when there was no response.
public protocol WebhookTransport: Sendable {
    func post(url: String, headers: [(String, String)], body: [UInt8], timeoutMilliseconds: Int64) async throws -> Int
}

/// The transport over async-http-client (SwiftNIO; connection pooling, no Foundation networking):
/// the process-wide `HTTPClient.shared` unless another client is given.
public struct HTTPClientWebhookTransport: WebhookTransport {
    /// A receiver's answer body is read and dropped up to this size (the connection then goes back
    /// to the pool); past it the connection is closed. Only the status matters.
    public static let maximumAnswerBytes = 64 * 1024
    let client: HTTPClient

    public init(client: HTTPClient = .shared) {
        self.client = client
    }

    public func post(url: String, headers: [(String, String)], body: [UInt8], timeoutMilliseconds: Int64) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: .milliseconds(timeoutMilliseconds))
        var read = 0
        for try await chunk in response.body {
            read += chunk.readableBytes
            if read > Self.maximumAnswerBytes { break }
        }
        return Int(response.status.code)
    }
}

public struct WebhookDeliveryError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Moves events from the journal into the outbox and delivers what is due: signed POSTs,
/// `concurrency` at a time; a 2xx response is a delivery, anything else a failure retried
/// with backoff until it becomes a dead letter (docs/service.md "Webhooks").
public struct WebhookDispatcher: Sendable {
    public let outbox: any WebhookOutbox
    /// This node's configured subscriptions (the outbox may know more: a cluster's group).
    public let subscriptions: [WebhookSubscription]
    public let policy: WebhookRetryPolicy
    let transport: any WebhookTransport
    let clock: @Sendable () -> Int64
    let logger: Logger

    public init(outbox: any WebhookOutbox, subscriptions: [WebhookSubscription], policy: WebhookRetryPolicy = WebhookRetryPolicy(),
                transport: any WebhookTransport = HTTPClientWebhookTransport(), logger: Logger = Logger(label: "solvent.webhooks"),
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.outbox = outbox
        self.subscriptions = subscriptions
        self.policy = policy
        self.transport = transport
        self.clock = clock
        self.logger = logger
    }

    /// The subscriptions deliveries go to: the outbox's (in a cluster, the group's), and this
    /// node's configured ones it does not name.
    public func currentSubscriptions() async throws -> [WebhookSubscription] {
        let stored = try await outbox.subscriptions()
        let names = Set(stored.map(\.name))
        return stored + subscriptions.filter { !names.contains($0.name) }
    }

    /// One round: enqueue the journal's new results, then attempt every due delivery once.
    /// Returns (deliveries created, attempts made).
    @discardableResult
    public func round(engine: EngineService) async throws -> (created: Int, attempted: Int) {
        let subscriptions = try await currentSubscriptions()
        var created = 0
        while true {
            let batch = try await engine.results(after: try await outbox.cursor(), limit: 500)
            guard !batch.isEmpty else { break }
            created += try await outbox.enqueue(results: batch, subscriptions: subscriptions, now: clock())
        }
        var attempted = 0
        while true {
            let due = try await outbox.due(now: clock(), limit: policy.concurrency * 4)
            guard !due.isEmpty else { break }
            await withTaskGroup(of: Void.self) { group in
                var running = 0
                for delivery in due {
                    if running == policy.concurrency { await group.next(); running -= 1 }
                    group.addTask { await attempt(delivery, subscriptions: subscriptions) }
                    running += 1
                }
            }
            attempted += due.count
        }
        return (created, attempted)
    }

    /// One attempt of one delivery, recorded in the outbox.
    func attempt(_ delivery: WebhookDelivery, subscriptions: [WebhookSubscription]) async {
        guard let subscription = subscriptions.first(where: { $0.name == delivery.subscription }) else {
            try? await outbox.markFailed(id: delivery.id, error: "subscription \(delivery.subscription) is no longer configured", httpStatus: nil,
                                   now: clock(), policy: WebhookRetryPolicy(maxAttempts: 1))
            return
        }
        let body = Array(delivery.body.utf8)
        let timestamp = clock() / 1000
        let headers = [
            ("Content-Type", "application/json"),
            ("User-Agent", "Solvent-Webhooks/1"),
            ("Solvent-Event-Id", delivery.eventID),
            ("Solvent-Event-Type", delivery.eventType),
            ("Solvent-Subscription", subscription.name),
            ("Solvent-Delivery-Id", String(delivery.id)),
            ("Solvent-Delivery-Attempt", String(delivery.attempts + 1)),
            ("Solvent-Timestamp", String(timestamp)),
            ("Solvent-Signature", WebhookSignature.sign(secret: subscription.secret, timestamp: timestamp, body: body)),
        ]
        do {
            let status = try await transport.post(url: subscription.url, headers: headers, body: body, timeoutMilliseconds: policy.timeoutMilliseconds)
            if (200..<300).contains(status) {
                try await outbox.markDelivered(id: delivery.id, httpStatus: status, now: clock())
            } else {
                logger.warning("webhook \(subscription.name) \(delivery.eventID): HTTP \(status)")
                try await outbox.markFailed(id: delivery.id, error: "HTTP \(status)", httpStatus: status, now: clock(), policy: policy)
            }
        } catch {
            logger.warning("webhook \(subscription.name) \(delivery.eventID): \(error)")
            try? await outbox.markFailed(id: delivery.id, error: "\(error)", httpStatus: nil, now: clock(), policy: policy)
        }
    }
}
