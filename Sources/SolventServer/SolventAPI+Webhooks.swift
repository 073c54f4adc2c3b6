import HTTPTypes
import Foundation
import Hummingbird
import HummingbirdWebSocket
import SolventCore

extension SolventAPI {
    /// Operator routes of the webhook outbox: subscriptions and counts, deliveries by status
    /// (dead letters included), and putting a dead letter back in the queue.
    static func addWebhooks(to router: Router<SolventRequestContext>, webhooks: WebhookDispatcher?, limiter: RateLimiter) {
        router.get("/v1/webhooks") { request, context -> Response in
            let principal = try await authenticate(context, limiter)
            try authorize(principal, .readAll, account: nil)
            var w = JSONWriter()
            w.beginObject()
            w.key("subscriptions"); w.beginArray()
            for subscription in try await webhooks?.currentSubscriptions() ?? [] {
                w.beginObject()
                w.member("name", subscription.name)
                w.member("url", subscription.url)
                w.key("events"); w.beginArray(); for type in subscription.events.sorted() { w.string(type) }; w.endArray()
                w.key("accounts")
                if let accounts = subscription.accounts { w.beginArray(); for a in accounts.sorted() { w.string(a) }; w.endArray() } else { w.null() }
                w.endObject()
            }
            w.endArray()
            w.key("deliveries"); w.beginObject()
            let counts = try await webhooks?.outbox.counts() ?? [:]
            for status in WebhookDelivery.Status.allCases { w.key(status.rawValue); w.integer(counts[status] ?? 0) }
            w.endObject()
            w.key("journal_cursor"); w.integer(try await webhooks?.outbox.cursor() ?? 0)
            w.endObject()
            return json(w.string)
        }

        router.get("/v1/webhooks/deliveries") { request, context -> Response in
            let principal = try await authenticate(context, limiter)
            try authorize(principal, .readAll, account: nil)
            let query = request.uri.queryParameters
            var status: WebhookDelivery.Status? = nil
            if let name = query.get("status") {
                status = try WebhookDelivery.Status(rawValue: String(name)).orThrow(
                    APIError(.badRequest, field: "status", reason: "one of pending, delivered, dead"))
            }
            let after = try integer(query.get("after"), field: "after", default: 0, in: 0...Int64.max)
            let limit = Int(try integer(query.get("limit"), field: "limit", default: 100, in: 1...1000))
            let deliveries = try await webhooks?.outbox.list(status: status, after: after, limit: limit) ?? []
            return json("{\"deliveries\":[" + deliveries.map(\.json).joined(separator: ",") + "]}")
        }

        router.post("/v1/webhooks/deliveries/:id/retry") { request, context -> Response in
            let principal = try await authenticate(context, limiter)
            try authorize(principal, .changeParameters, account: nil)
            _ = try idempotencyKey(request)
            let id = try integer(context.parameters.get("id") ?? "", field: "id", default: 0, in: 1...Int64.max)
            guard let webhooks else { throw APIError(.notFound, field: "id", reason: "no webhooks are configured") }
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            if try await webhooks.outbox.retry(id: id, now: now) { return json("{\"id\":\(id),\"status\":\"pending\"}") }
            guard let delivery = try await webhooks.outbox.list(status: nil, after: id - 1, limit: 1).first, delivery.id == id else {
                throw APIError(.notFound, field: "id", reason: "no delivery \(id)")
            }
            // Retrying what is already queued or delivered changes nothing (a repeated request is harmless).
            return json("{\"id\":\(id),\"status\":\"\(delivery.status.rawValue)\"}")
        }
    }
}
