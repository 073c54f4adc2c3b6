import Foundation
import HTTPTypes
public import Hummingbird
public import HummingbirdWebSocket
import NIOCore
import NIOWebSocket
import SolventCore

extension SolventAPI {
    /// Close code sent to a client cut off for being slow (1008: policy violation).
    static let slowConsumerClose = WebSocketErrorCode.policyViolation

    /// `GET /v1/stream` (WebSocket): engine events, prices and risk summaries (docs/service.md
    /// "Streams"). The key comes in `Authorization: Bearer` or, for browsers (which cannot set
    /// headers on a WebSocket), in the `access_token` query parameter.
    static func addStream(to router: Router<SolventRequestContext>, engine: EngineService, limiter: RateLimiter) {
        router.ws("/v1/stream", shouldUpgrade: { request, context in
            do {
                _ = try await streamFilter(request, context, limiter)
                guard request.headers[.upgrade]?.lowercased() == "websocket" else {
                    throw APIError(.upgradeRequired, field: "Upgrade", reason: "this is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket)")
                }
                return .upgrade([:])
            } catch let error as APIError {
                // The upgrade library answers any refusal with an empty 400: the connection's
                // RawResponder writes this status and JSON body instead.
                if let channel = context.channel { UpgradeRefusals.record(error, channel: channel) }
                throw error
            }
        }, onUpgrade: { inbound, outbound, context in
            guard let (principal, filter) = try? await streamFilter(context.request, context.requestContext, nil) else { return }
            let hub = engine.hub
            // Subscribe first, then say hello with the sequence at that moment: every event
            // after `sequence` reaches this stream (or the stream is cut off and says so).
            let (id, messages) = hub.subscribe(filter)
            defer { hub.unsubscribe(id) }
            let sequence = await engine.eventSequence
            var hello = JSONWriter()
            hello.beginObject()
            hello.member("type", "hello")
            hello.key("stream_seq"); hello.integer(0)
            hello.key("sequence"); hello.integer(sequence)
            hello.member("role", principal.role.rawValue)
            hello.key("account"); if let account = filter.account { hello.string(account) } else { hello.null() }
            hello.key("channels"); hello.beginArray()
            for channel in StreamChannel.allCases where filter.channels.contains(channel) { hello.string(channel.rawValue) }
            hello.endArray()
            hello.key("queue_limit"); hello.integer(hub.queueLimit)
            hello.endObject()
            try await outbound.write(.text(hello.string))
            if filter.channels.contains(.risk) {
                // A first summary at once, so a client has the whole picture before the next change.
                let risk = await engine.riskSummary(includeHistory: false)
                try await outbound.write(.text("{\"type\":\"risk\",\"stream_seq\":0,\"sequence\":\(risk.sequence),\(risk.streamMembers)}"))
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // Client → server: nothing is expected; reading notices the client leaving.
                    for try await _ in inbound {}
                }
                group.addTask {
                    for await message in messages { try await outbound.write(.text(message)) }
                    // The stream ended: the hub cut this client off (slow, or shutdown).
                    if let closing = hub.unsubscribe(id) {
                        var w = JSONWriter()
                        w.beginObject()
                        w.member("type", "closing")
                        w.key("stream_seq"); w.integer(closing.streamSeq + 1)
                        w.key("sequence"); w.integer(await engine.eventSequence)
                        w.member("reason", closing.reason)
                        w.endObject()
                        try? await outbound.write(.text(w.string))
                        try? await outbound.close(closing.reason.hasPrefix("slow") ? slowConsumerClose : .goingAway, reason: closing.reason)
                    }
                }
                _ = try await group.next()
                group.cancelAll()
            }
        })
    }

    /// Who connects and what they may receive: an operator any account or all; an account key
    /// its own account's events and prices; a feeder prices only.
    static func streamFilter(_ request: Request, _ context: SolventRequestContext, _ limiter: RateLimiter?) async throws -> (Principal, EventHub.Filter) {
        let query = request.uri.queryParameters
        guard let principal = context.identity else {
            throw APIError(.unauthorized, field: "Authorization", reason: "missing: send Authorization: Bearer <API key>, or access_token=<API key>")
        }
        if let limiter { try await limit(principal, limiter) }
        var channels: Set<StreamChannel> = []
        for name in (query.get("channels") ?? "events").split(separator: ",") {
            guard let channel = StreamChannel(rawValue: String(name)) else {
                throw APIError(.badRequest, field: "channels", reason: "unknown channel \"\(name)\" (events, prices, risk)")
            }
            channels.insert(channel)
        }
        guard !channels.isEmpty else { throw APIError(.badRequest, field: "channels", reason: "name at least one of events, prices, risk") }
        var account = query.get("account").map { String($0) }
        if let account { try accountID(account, field: "account") }
        switch principal.role {
        case .operator_: break
        case .account:
            if let requested = account, requested != principal.account {
                throw APIError(.forbidden, field: "account", reason: "this key may only stream account \"\(principal.account ?? "")\"")
            }
            if channels.contains(.risk) { throw APIError(.forbidden, field: "channels", reason: "the risk channel is for operator keys") }
            account = principal.account
        case .priceFeeder, .fillFeeder:
            if channels != [.prices] { throw APIError(.forbidden, field: "channels", reason: "the \(principal.role.rawValue) role may stream prices only") }
        }
        return (principal, EventHub.Filter(account: account, channels: channels))
    }
}
