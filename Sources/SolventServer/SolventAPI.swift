import Crypto
import Foundation
import HTTPTypes
public import Hummingbird
public import HummingbirdWebSocket
import Logging
import HummingbirdCore
import NIOCore
public import ServiceLifecycle
public import SolventCore
import SolventEngine
import SolventJournal
import SolventReserves
import SolventRisk

/// The HTTP API (docs/service.md): JSON in and out, decimals as strings, bearer API keys with
/// roles, an idempotency key on every write, 4xx with the field and the reason on bad input.
public enum SolventAPI {
    /// Largest request body accepted (bytes).
    public static let maximumBody = 1 << 20
    static let idempotencyHeader = HTTPField.Name("Idempotency-Key")!

    /// The router of the service over `engine` and `keys`.
    public static func router(engine: EngineService, keys: APIKeyStore, metrics: ServiceMetrics = ServiceMetrics(),
                              limiter: RateLimiter = RateLimiter(), webhooks: WebhookDispatcher? = nil,
                              commandQueue: Int = 10_000, cluster: ClusterNode? = nil, batcher: CommandBatcher? = nil,
                              shards: ShardRouter? = nil) -> Router<SolventRequestContext> {
        let router = Router(context: SolventRequestContext.self)
        // Structured request logs (method, path, request id as metadata) at debug level: `log_level debug` shows them.
        router.add(middleware: LogRequestsMiddleware(.debug, includeHeaders: .none))
        // Every error a route throws becomes the JSON error body here, once (APIError.swift).
        router.add(middleware: APIErrorMiddleware())
        // A sharded group: an account's command goes to its shard's leader, a market command to every shard's (ShardRouter.swift).
        if let shards { router.add(middleware: ShardRouterMiddleware(router: shards, keys: keys)) }
        // A cluster node: writes on a standby go to the leader; answers carry the sequence (docs/cluster.md).
        if let cluster { router.add(middleware: ClusterMiddleware(cluster: cluster)) }
        router.add(middleware: APIKeyAuthenticator(keys: keys, limiter: limiter))
        // Commands waiting beyond `commandQueue` are refused with 503 and Retry-After.
        let batcher = batcher ?? CommandBatcher(engine: engine, metrics: metrics, maximumQueue: commandQueue)
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: DashboardPage.html)))
        }
        router.get("/metrics") { _, _ -> Response in
            var outbox: (counts: [WebhookDelivery.Status: Int], cursor: Int64)? = nil
            if let webhooks { outbox = (try await webhooks.outbox.counts(), try await webhooks.outbox.cursor()) }
            var text = metrics.exposition(state: await engine.gauges(), hub: engine.hub, webhooks: outbox)
            if let cluster { text += cluster.metricsText(applied: await engine.journalSequence) }
            if let shards { text += shards.metricsText() }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("/healthz") { _, _ in json(#"{"status":"ok"}"#) }
        router.get("/readyz") { _, _ in
            json("{\"status\":\"ready\",\"commands_applied\":\(await engine.commandsApplied),\"engine_sequence\":\(await engine.eventSequence)}")
        }
        router.get("/openapi.json") { _, _ in json(OpenAPIDocument.json) }
        router.get("/v1/cluster") { _, _ in
            if let cluster { return json(await cluster.document(extra: shards.map { shards in { shards.write(&$0) } })) }
            let (sequence, hash) = await engine.sequenceAndHash()
            return json("{\"node_id\":null,\"role\":\"single\",\"leader_id\":null,\"leader_url\":null,\"epoch\":0,\"applied_sequence\":\(sequence),\"state_hash\":\"\(hash)\",\"head_sequence\":\(sequence),\"lag_commands\":0,\"lag_ms\":0,\"lease_ms\":null}")
        }

        router.get("/v1/accounts") { request, context -> Response in
            let principal = try await authenticate(context, limiter)
            try authorize(principal, .readAll, account: nil)
            let query = request.uri.queryParameters
            let limit = Int(try integer(query.get("limit"), field: "limit", default: 100, in: 1...10_000))
            let after = query.get("after").map { String($0) }
            if let after { try accountID(after, field: "after") }
            var status: MarginStatus? = nil
            if let name = query.get("status") {
                guard let known = MarginStatus.allCases.first(where: { $0.name == name }) else {
                    throw APIError(.badRequest, field: "status", reason: "one of \(MarginStatus.allCases.map(\.name).joined(separator: ", ")), found \"\(name.prefix(40))\"")
                }
                status = known
            }
            let rows = await engine.accounts(status: status, after: after, limit: limit)
            var w = JSONWriter()
            w.beginObject()
            w.key("accounts"); w.beginArray()
            for row in rows {
                w.beginObject()
                w.member("id", row.id)
                w.member("status", row.status.name)
                w.member("equity", row.equity)
                w.member("maintenance_margin", row.maintenanceMargin)
                w.key("margin_ratio"); w.optionalDecimal(row.marginRatio)
                w.key("positions"); w.integer(row.positions)
                w.endObject()
            }
            w.endArray()
            w.key("next_after"); if rows.count == limit, let last = rows.last { w.string(last.id) } else { w.null() }
            w.endObject()
            return json(w.string)
        }

        router.get("/v1/accounts/:id") { request, context -> Response in
            let principal = try await authenticate(context, limiter)
            let id = try accountParameter(context)
            try authorize(principal, .readAccount, account: id)
            guard let view = await engine.account(id) else { throw APIError(.notFound, field: "id", reason: "unknown account \"\(id)\"") }
            return json(view.json)
        }

        router.get("/v1/accounts/:id/greeks") { request, context -> Response in  // docs/options.md "Greeks"
            let principal = try await authenticate(context, limiter)
            let id = try accountParameter(context)
            try authorize(principal, .readAccount, account: id)
            guard let greeks = await engine.greeks(id) else { throw APIError(.notFound, field: "id", reason: "unknown account \"\(id)\"") }
            return json(greeks.json)
        }

        router.post("/v1/commands") { request, context -> Response in
            let principal = try await authenticate(context, limiter)
            let key = try idempotencyKey(request)
            let document = try await body(request, context)
            guard case .object = document else { throw APIError(.badRequest, field: "", reason: "a command is a JSON object") }
            if case .string(let account)? = document["account"] { try accountID(account, field: "account") }
            // Engine time is the server's: stamped when the command is accepted (EngineService).
            if principal.role != .operator_, document["time"] != nil {
                throw APIError(.badRequest, field: "time",
                               reason: "engine time is set by the server when it accepts a command; only an operator key may send \"time\" (replay tools): leave it out")
            }
            // Decoded once, here, by the one decoder; keys are scoped per API key and the
            // request's hash is journaled beside the command.
            var command: CommandRequest
            do {
                command = try CommandRequest.decode(document, key: principal.keyID + "/" + key,
                                                    requestHash: requestHash(method: "POST", path: "/v1/commands", document))
            } catch let error as InputError {
                metrics.refused("invalid")
                throw APIError(.badRequest, field: error.path, reason: error.reason)
            }
            try await authorize(principal, command.command.command, engine: engine)
            // Order ids are per account: an account key's cancel names its own account.
            if principal.role == .account, case let .cancelOrder(id, nil) = command.command.command {
                command.command.command = .cancelOrder(id: id, account: principal.account)
            }
            let result = try await batcher.submit(command)
            if result.conflict {
                throw APIError(.unprocessableContent, field: "Idempotency-Key",
                               reason: "this key was already used by this API key with a different request (journal sequence \(result.sequence)): use a new key for a new request")
            }
            return json("{\"sequence\":\(result.sequence),\"duplicate\":\(result.duplicate),\"events\":[\(result.events.map(\.body).joined(separator: ","))]}")
        }

        router.post("/v1/orders/check") { request, context -> Response in
            let principal = try await authenticate(context, limiter)
            let command = try EngineService.orderCheckCommand(try await body(request, context))
            if case .placeOrder(_, let account, _, _, _, _) = command { try accountID(account, field: "account") }
            // Authorized on the typed command, as a write would be (Action.of: an account key checks its own orders only).
            try await authorize(principal, command, engine: engine)
            let (check, sequence) = try await engine.checkOrder(command)
            var w = JSONWriter()
            w.beginObject()
            switch check {
            case .success(let check):
                w.key("accepted"); w.bool(true)
                w.key("reduces"); w.bool(check.reduces)
                w.key("reduce_only"); w.bool(check.reduceOnly)
                w.member("reserved_margin", check.reservedMargin)
                w.key("free_margin"); w.optionalDecimal(check.freeMargin)
            case .failure(let refusal):
                w.key("accepted"); w.bool(false)
                w.key("code"); w.integer(refusal.code.rawValue)
                w.member("field", refusal.field)
                w.member("reason", refusal.message)
            }
            w.key("engine_sequence"); w.integer(sequence)
            w.endObject()
            return json(w.string)
        }

        router.post("/v1/evaluate") { request, context -> Response in
            _ = try await authenticate(context, limiter)
            let document = try await body(request, context)
            let input = try EvaluateInput.decode(document)
            return json(String(decoding: EvaluateOutput.render(input), as: UTF8.self))
        }

        router.get("/v1/events") { request, context -> Response in
            let principal = try await authenticate(context, limiter)
            let query = request.uri.queryParameters
            let after = try integer(query.get("after"), field: "after", default: 0, in: 0...Int64.max)
            let limit = Int(try integer(query.get("limit"), field: "limit", default: 1000, in: 1...10_000))
            var account = query.get("account").map { String($0) }
            if let account { try accountID(account, field: "account") }
            if principal.role == .account {
                // An account key sees its own account's events only.
                if let requested = account, requested != principal.account {
                    throw APIError(.forbidden, field: "account", reason: "this key may only read account \"\(principal.account ?? "")\"")
                }
                account = principal.account
            } else if principal.role != .operator_ {
                throw APIError(.forbidden, field: "Authorization", reason: "the \(principal.role.rawValue) role cannot read events")
            }
            let (events, oldest) = try await engine.events(EventQuery(after: after, account: account, kind: query.get("type").map { String($0) }, limit: limit))
            return json("{\"oldest_retained\":\(oldest.map(String.init) ?? "null"),\"events\":[\(events.map(\.body).joined(separator: ","))]}")
        }

        router.get("/v1/reserves/root") { request, context -> Response in
            _ = try await authenticate(context, limiter)
            return json(try await engine.reservesRoot().rootJSON())
        }

        router.get("/v1/reserves/proofs/:id") { request, context -> Response in
            let principal = try await authenticate(context, limiter)
            let id = try accountParameter(context)
            try authorize(principal, .readAccount, account: id)
            guard let proof = try await engine.reservesProof(id) else { throw APIError(.notFound, field: "id", reason: "no account \"\(id)\" in the tree") }
            return json(proof.json())
        }

        router.get("/v1/risk") { request, context -> Response in
            let principal = try await authenticate(context, limiter)
            try authorize(principal, .readAll, account: nil)
            return json(await engine.riskSummary(includeHistory: true).json)
        }

        addStream(to: router, engine: engine, limiter: limiter)
        addWebhooks(to: router, webhooks: webhooks, limiter: limiter)

        router.get("/v1/insurance-fund") { request, context -> Response in
            let principal = try await authenticate(context, limiter)
            try authorize(principal, .readAll, account: nil)
            return json(await engine.insuranceFund().json)
        }
        return router
    }

    /// Largest request head (request line and headers) accepted, in bytes: beyond it, 431.
    public static let maximumHeaderBytes = 32 * 1024

    /// The server over `router`: HTTP/1.1 with the WebSocket upgrade of `/v1/stream`.
    /// `onRunning` receives the bound port (useful with port 0). A connection must send its
    /// first request head within `headerTimeout`; an idle keep-alive connection is closed after
    /// `idleTimeout` (docs/service.md "Connections").
    public static func application(router: Router<SolventRequestContext>, host: String, port: Int, logger: Logger,
                                   services: [any Service] = [], idleTimeout: Duration = .seconds(30), headerTimeout: Duration = .seconds(10),
                                   onRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> Application<RouterResponder<SolventRequestContext>> {
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [], idleTimeout: .nanoseconds(Int64(idleTimeout / .nanoseconds(1))),
            httpDecoderConfiguration: .init(maxHeaderFieldSize: maximumHeaderBytes, maxHeaderListSize: maximumHeaderBytes, maxHeaderFieldCount: 100))
        let server = SolventHTTPChannel.builder(webSocketRouter: router, configuration: .init(http1: http1, ws: .init()),
                                                headerTimeout: .nanoseconds(Int64(headerTimeout / .nanoseconds(1))))
        return Application(router: router, server: server,
                           configuration: .init(address: .hostname(host, port: port), serverName: "solvent"),
                           services: services, onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) }, logger: logger)
    }

    /// An integer query or path parameter in `range` (default when absent), or a 400 naming it:
    /// never a trap on overflow or an out-of-range value.
    static func integer(_ text: (some StringProtocol)?, field: String, default value: Int64, in range: ClosedRange<Int64>) throws -> Int64 {
        guard let text else { return value }
        guard let n = Int64(text), range.contains(n) else {
            throw APIError(.badRequest, field: field, reason: "an integer in \(range.lowerBound)...\(range.upperBound), found \"\(text.prefix(40))\"")
        }
        return n
    }

    /// A valid account id (`AccountID.pattern`) or a 400 naming `field`.
    static func accountID(_ id: String, field: String) throws {
        if let problem = AccountID.problem(id) { throw APIError(.badRequest, field: field, reason: problem) }
    }

    /// The `id` path parameter, percent-decoded, as a valid account id.
    static func accountParameter(_ context: SolventRequestContext) throws -> String {
        guard let raw = context.parameters.get("id") else { throw APIError(.badRequest, field: "id", reason: "missing") }
        guard let id = raw.removingPercentEncoding else { throw APIError(.badRequest, field: "id", reason: "not a valid percent-encoded path segment") }
        try accountID(id, field: "id")
        return id
    }

    /// SHA-256 (hex) of the canonical request: method, path and the body with object members
    /// sorted by name at every level (so member order and whitespace do not matter).
    static func requestHash(method: String, path: String, _ document: JSONValue) -> String {
        var writer = JSONWriter()
        writer.value(canonical(document))
        let bytes = Array("\(method) \(path)\n".utf8) + writer.bytes
        return SHA256.hash(data: bytes).map { byte in
            let digits = Array("0123456789abcdef")
            return String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0xF)])
        }.joined()
    }

    static func canonical(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            return .object(members.map { (key: $0.key, value: canonical($0.value)) }.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) })
        case .array(let items): return .array(items.map(canonical))
        default: return value
        }
    }

    /// The Idempotency-Key every write needs (1 to 200 characters), or a 400 naming it.
    static func idempotencyKey(_ request: Request) throws -> String {
        guard let key = request.headers[idempotencyHeader], !key.isEmpty, key.count <= 200 else {
            throw APIError(.badRequest, field: "Idempotency-Key", reason: "every write needs an Idempotency-Key header (1 to 200 characters)")
        }
        return key
    }

    /// Authorizes a typed command (`Action.of`): an account key acts on its own account only,
    /// and cancels only its own orders (an order it does not hold is "not found" to it).
    static func authorize(_ principal: Principal, _ command: EngineCommand, engine: EngineService) async throws {
        var owner: String? = nil
        if case let .cancelOrder(id, account) = command, principal.role != .operator_ {
            // Order ids are per account: an account key's cancel resolves within its own account.
            owner = await engine.orderOwner(id, account: principal.role == .account ? (account ?? principal.account) : account)
            if principal.role == .account, owner == nil || owner != principal.account {
                throw APIError(.notFound, field: "id", reason: "no open order \"\(id)\" of account \"\(principal.account ?? "")\"")
            }
        }
        let (action, account) = Action.of(command, orderOwner: owner)
        try authorize(principal, action, account: account)
    }

    /// The request's principal (set by `APIKeyAuthenticator`), after its rate limit.
    static func authenticate(_ context: SolventRequestContext, _ limiter: RateLimiter) async throws -> Principal {
        guard let principal = context.identity else {
            throw APIError(.unauthorized, field: "Authorization", reason: "missing: send Authorization: Bearer <API key>")
        }
        try await limit(principal, limiter)
        return principal
    }

    /// Takes a token from the key's bucket, or throws 429 with Retry-After.
    static func limit(_ principal: Principal, _ limiter: RateLimiter) async throws {
        try await limit(bucket: principal.keyID, limiter)
    }

    /// Takes a token from `bucket` (a key's id, or `ip:ADDRESS` without a valid key), or throws 429.
    static func limit(bucket: String, _ limiter: RateLimiter) async throws {
        if let wait = await limiter.take(bucket) {
            throw APIError(.tooManyRequests, field: "Authorization",
                               reason: "rate limit \(bucket.hasPrefix("ip:") ? "of requests without a valid key from this address" : "of this key") exceeded (\(Int(limiter.perSecond)) requests/s, burst \(Int(limiter.burst))): retry in \(Int((wait * 1000).rounded(.up))) ms",
                               retryAfter: max(1, Int(wait.rounded(.up))))
        }
    }

    static func authorize(_ principal: Principal, _ action: Action, account: String?) throws {
        guard principal.role.permits(action, account: account, boundAccount: principal.account) else {
            let target = account.map { " on account \"\($0)\"" } ?? ""
            throw APIError(.forbidden, field: "Authorization", reason: "the \(principal.role.rawValue) role may not \(action.rawValue)\(target)")
        }
    }

    /// The request's JSON body, at most `maximumBody` bytes. A declared Content-Length over the
    /// limit is refused before anything is read, and the connection stops reading (it closes
    /// after the 413 instead of draining the body).
    static func body(_ request: Request, _ context: SolventRequestContext) async throws -> JSONValue {
        let tooLarge = APIError(.contentTooLarge, field: "body", reason: "larger than \(maximumBody) bytes")
        if let declared = request.headers[.contentLength], Int(declared).map({ $0 > maximumBody }) ?? true {
            context.channel?.close(mode: .input, promise: nil)
            throw tooLarge
        }
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: maximumBody) } catch {
            context.channel?.close(mode: .input, promise: nil)
            throw tooLarge
        }
        do { return try JSONParser.parse(Array(buffer.readableBytesView)) } catch {
            throw APIError(.badRequest, field: "body", reason: error.description)
        }
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

extension Optional {
    func orThrow(_ error: @autoclosure () -> some Error) throws -> Wrapped {
        guard let self else { throw error() }
        return self
    }
}
