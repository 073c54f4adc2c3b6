import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import NIOHTTP1
public import Logging
import NIOCore
public import ServiceLifecycle
import SolventCore
import SolventEngine
public import SolventJournal
import Synchronization

extension ServiceConfiguration {
    /// The shard settings' rule (docs/cluster.md "Running shards"): 0 ≤ shard < shards, and
    /// several shards only in a cluster (`postgres` and `node_id` set). Errors name the setting.
    func checkShards() throws(InputError) {
        guard shard < shards else {
            throw InputError(path: "shard", reason: "must be less than shards (\(shards)): shards are numbered 0 to \(shards - 1), found \(shard)")
        }
        if shards > 1, postgres == nil || nodeID == nil {
            throw InputError(path: "shards", reason: "several shards need a cluster: set postgres and node_id too")
        }
    }
}

/// The router of a sharded group (docs/cluster.md "Running shards"), run by every node when
/// `shards` > 1:
/// - an account's command goes to the leader of the account's shard (`ShardAssignment`, FNV-1a-64
///   of the account id mod N): this node handles it when it is its shard, else answers 307 to that
///   shard's leader (503 with Retry-After when the shard has no leader);
/// - a command about no account (prices, index prices, books, funding, parameter changes, chain
///   notices, ticks) fans out: this node forwards it to every shard's leader over HTTP, with the
///   client's Authorization and Idempotency-Key and the group's forwarding secret, and answers
///   once every shard acknowledged. A shard that did not acknowledge makes the answer 503: the
///   client's retry with the same key is a duplicate where it was journaled and completes the rest.
///
/// The leaders are each shard's lease row, read from PostgreSQL every 200 ms (and at once when a
/// shard is found without a leader).
public final class ShardRouter: Service, Sendable {
    /// The number of shards, and this node's.
    public let shards: Int
    public let shard: Int
    let directory: PostgresShardDirectory
    let logger: Logger
    private let cache = Mutex<[ShardLeader]>([])
    private let secret = Mutex<String?>(nil)
    /// Per sender shard: `deliver` commands this node journaled (as its shard's leader) and the
    /// sender's event sequence delivered through (ShardDelivery).
    let delivery = Mutex<[Int: (delivered: Int, cursor: Int64)]>([:])
    /// Each forwarded request's timeout.
    static let forwardTimeout = TimeAmount.seconds(5)
    static let forwardHeader = HTTPField.Name("Solvent-Shard-Forward")!

    public init(settings: ClusterSettings, logger: Logger) throws {
        shards = settings.shards
        shard = settings.shard
        directory = try PostgresShardDirectory(url: settings.postgres, schema: settings.schema, shards: settings.shards)
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.refresh()
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// Reads every shard's lease and head, and the forwarding secret when not known yet.
    public func refresh() async {
        do {
            if secret.withLock({ $0 }) == nil {
                let value = try await directory.forwardingSecret()
                secret.withLock { $0 = value }
            }
            let leaders = try await directory.leaders()
            cache.withLock { $0 = leaders }
        } catch {
            logger.debug("shards: reading the shards' leases: \(error)")
        }
    }

    /// The shards as last read.
    public var leaders: [ShardLeader] { cache.withLock { $0 } }

    /// Shard `k`'s live leader; re-reads the leases once when the cached one has none.
    func leader(of k: Int) async -> ShardLeader? {
        if let known = leaders.first(where: { $0.shard == k }), known.live, !known.advertise.isEmpty { return known }
        await refresh()
        return leaders.first { $0.shard == k && $0.live && !$0.advertise.isEmpty }
    }

    /// Whether `value` is the group's forwarding secret (compared in constant time).
    func isForwardingSecret(_ value: String) async -> Bool {
        var known = secret.withLock { $0 }
        if known == nil { await refresh(); known = secret.withLock { $0 } }
        guard let known else { return false }
        let a = Array(known.utf8), b = Array(value.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    /// The shard of `account`.
    public func shard(of account: String) -> Int { ShardAssignment.shard(of: account, count: shards) }

    /// `GET /v1/cluster`'s members for shards: `shard`, `shard_count` and `shards` (each shard's
    /// leader id and URL, epoch, applied sequence).
    public func write(_ w: inout JSONWriter) {
        w.key("shard"); w.integer(shard)
        w.key("shard_count"); w.integer(shards)
        w.key("shards"); w.beginArray()
        for s in leaders {
            w.beginObject()
            w.key("shard"); w.integer(s.shard)
            w.key("leader_id"); if s.live { w.string(s.holder) } else { w.null() }
            w.key("leader_url"); if s.live { w.string(s.advertise) } else { w.null() }
            w.key("epoch"); w.integer(s.epoch)
            w.key("applied_sequence"); w.integer(s.head)
            w.endObject()
        }
        w.endArray()
    }

    /// The shards' lines of `/metrics` (Prometheus text format).
    public func metricsText() -> String {
        let known = leaders
        let stats = delivery.withLock { $0 }
        var text = """
            # HELP solvent_shard_leader_known Whether this node knows a live leader of the shard (1) or not (0).
            # TYPE solvent_shard_leader_known gauge

            """
        for k in 0..<shards {
            text += "solvent_shard_leader_known{shard=\"\(k)\"} \(known.contains { $0.shard == k && $0.live } ? 1 : 0)\n"
        }
        text += """
            # HELP solvent_shard_messages_delivered_total Cross-shard messages this node journaled as deliver, by sender shard.
            # TYPE solvent_shard_messages_delivered_total counter

            """
        for k in 0..<shards { text += "solvent_shard_messages_delivered_total{from=\"\(k)\"} \(stats[k]?.delivered ?? 0)\n" }
        text += """
            # HELP solvent_shard_delivery_cursor The sender shard's event sequence this shard has delivered through.
            # TYPE solvent_shard_delivery_cursor gauge

            """
        for k in 0..<shards { text += "solvent_shard_delivery_cursor{from=\"\(k)\"} \(stats[k]?.cursor ?? 0)\n" }
        return text
    }

    // MARK: - Fan-out

    /// One shard's answer to a forwarded command.
    struct ShardAnswer: Sendable {
        var shard: Int
        /// The HTTP status (0: no answer).
        var status: Int
        var body: [UInt8]
        var note: String
    }

    /// Forwards a command body to every shard's leader and waits for all of them.
    func fanOut(body: [UInt8], authorization: String?, idempotencyKey: String?) async -> [ShardAnswer] {
        let secret = secret.withLock { $0 }
        return await withTaskGroup(of: ShardAnswer.self) { group in
            for k in 0..<shards {
                group.addTask {
                    guard let secret else { return ShardAnswer(shard: k, status: 0, body: [], note: "the group's forwarding secret is not known yet") }
                    guard let leader = await self.leader(of: k) else { return ShardAnswer(shard: k, status: 0, body: [], note: "shard \(k) has no leader") }
                    return await self.forward(to: leader, shard: k, body: body, authorization: authorization, idempotencyKey: idempotencyKey, secret: secret)
                }
            }
            var answers: [ShardAnswer] = []
            for await answer in group { answers.append(answer) }
            return answers.sorted { $0.shard < $1.shard }
        }
    }

    private func forward(to leader: ShardLeader, shard k: Int, body: [UInt8], authorization: String?, idempotencyKey: String?,
                         secret: String) async -> ShardAnswer {
        var url = leader.advertise
        while url.hasSuffix("/") { url.removeLast() }
        url += "/v1/commands"
        // A stale leader answers 307 to its successor: followed once.
        for _ in 0..<2 {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            if let authorization { request.headers.add(name: "Authorization", value: authorization) }
            if let idempotencyKey { request.headers.add(name: "Idempotency-Key", value: idempotencyKey) }
            request.headers.add(name: Self.forwardHeader.rawName, value: secret)
            request.body = .bytes(ByteBuffer(bytes: body))
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: Self.forwardTimeout)
                let answer = try await response.body.collect(upTo: SolventAPI.maximumBody)
                if response.status.code == 307, let location = response.headers.first(name: "Location") {
                    url = location
                    continue
                }
                return ShardAnswer(shard: k, status: Int(response.status.code), body: Array(answer.readableBytesView), note: "")
            } catch {
                return ShardAnswer(shard: k, status: 0, body: [], note: "shard \(k)'s leader at \(leader.advertise) did not answer: \(error)")
            }
        }
        return ShardAnswer(shard: k, status: 0, body: [], note: "shard \(k) redirected twice")
    }

    /// The fan-out's answer: 200 when every shard acknowledged (`sequence`, `duplicate`, `events`
    /// of shard 0, and every shard's in `shards`); the shards' common 4xx when each refused it the
    /// same way; else 503 (with Retry-After) naming the shards that did not acknowledge.
    static func outcome(_ answers: [ShardAnswer]) -> (status: HTTPResponse.Status, body: String, retryAfter: Bool) {
        if !answers.isEmpty, answers.allSatisfy({ $0.status == 200 }) {
            let parsed = answers.map { (try? JSONParser.parse($0.body)) ?? .null }
            var w = JSONWriter()
            w.beginObject()
            w.key("sequence"); w.value(parsed.first?["sequence"] ?? .null)
            w.key("duplicate"); w.bool(parsed.allSatisfy { $0["duplicate"] == .bool(true) })
            w.key("events"); w.value(parsed.first?["events"] ?? .array([]))
            w.key("shards"); w.beginArray()
            for (answer, document) in zip(answers, parsed) {
                w.beginObject()
                w.key("shard"); w.integer(answer.shard)
                w.key("sequence"); w.value(document["sequence"] ?? .null)
                w.key("duplicate"); w.value(document["duplicate"] ?? .null)
                w.key("events"); w.value(document["events"] ?? .array([]))
                w.endObject()
            }
            w.endArray()
            w.endObject()
            return (.ok, w.string, false)
        }
        if let first = answers.first, (400..<500).contains(first.status), answers.allSatisfy({ $0.status == first.status }) {
            return (HTTPResponse.Status(code: first.status), String(decoding: first.body, as: UTF8.self), false)
        }
        let acknowledged = answers.filter { $0.status == 200 }.map { String($0.shard) }
        let missing = answers.filter { $0.status != 200 }.map { a in
            a.status == 0 ? a.note : "shard \(a.shard) answered \(a.status): \(String(decoding: a.body.prefix(200), as: UTF8.self))"
        }
        let error = APIError(.serviceUnavailable, field: "shards",
            reason: "not every shard acknowledged this market command (\(missing.joined(separator: "; "))); acknowledged by shards [\(acknowledged.joined(separator: ","))]: retry with the same Idempotency-Key, which completes the rest")
        return (.serviceUnavailable, error.json, true)
    }

    /// `outcome` as the HTTP response.
    static func answer(_ answers: [ShardAnswer]) -> Response {
        let (status, body, retryAfter) = outcome(answers)
        var response = SolventAPI.json(body, status: status)
        if retryAfter { response.headers[.retryAfter] = "1" }
        return response
    }
}

/// Routes `POST /v1/commands` of a sharded group (`ShardRouter`): an account's command to its
/// shard's leader, a market command to every shard. Before `ClusterMiddleware`, which then sends
/// this shard's writes on a standby to this shard's leader.
struct ShardRouterMiddleware: RouterMiddleware {
    typealias Context = SolventRequestContext
    let router: ShardRouter
    let keys: APIKeyStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.method == .get, let account = Self.accountOfRead(request.uri.path) {
            // An account's view lives in its shard: read there.
            let k = router.shard(of: account)
            guard k != router.shard else { return try await next(request, context) }
            return await redirect(request, account: account, shard: k)
        }
        if request.method == .post, request.uri.path == "/v1/orders/check" {
            // An order's pre-trade check needs its account's engine: checked in its shard (this
            // shard's engine answered "unknown account" for any other shard's; AttackSession17).
            var request = request
            guard let buffer = try? await request.collectBody(upTo: SolventAPI.maximumBody),
                  let account = Self.accountOfOrderCheck(Array(buffer.readableBytesView)) else { return try await next(request, context) }
            let k = router.shard(of: account)
            guard k != router.shard else { return try await next(request, context) }
            return await redirect(request, account: account, shard: k)
        }
        guard request.method == .post, request.uri.path == "/v1/commands" else { return try await next(request, context) }
        if let forwarded = request.headers[ShardRouter.forwardHeader] {
            // A node of the group forwarding a fanned-out command: journaled in this shard only.
            guard await router.isForwardingSecret(forwarded) else {
                throw APIError(.forbidden, field: ShardRouter.forwardHeader.rawName, reason: "not the group's forwarding secret: clients send commands without this header")
            }
            return try await next(request, context)
        }
        var request = request
        let buffer: ByteBuffer
        do { buffer = try await request.collectBody(upTo: SolventAPI.maximumBody) } catch {
            throw APIError(.contentTooLarge, field: "body", reason: "larger than \(SolventAPI.maximumBody) bytes")
        }
        let bytes = Array(buffer.readableBytesView)
        // Not a command object: the route answers the error.
        guard let document = try? JSONParser.parse(bytes), case .object = document, case .string? = document["type"] else {
            return try await next(request, context)
        }
        // Routed by the typed command's account (the route's own decoder), never by a raw
        // `"account"` member: the decoder ignored members a command does not have, so a mark
        // carrying `"account":"x"` went to x's shard alone and left the shards' markets apart
        // (AttackSession17Tests); it now refuses them, so such a body is no command. A body that
        // is no command is answered here (every shard would answer the same 400).
        var account: String?
        do { account = try Self.routedAccount(document) } catch { return try await next(request, context) }
        if account == nil, document["type"] == .string("cancel_order"), let token = request.headers.bearer?.token,
           case .valid(let principal) = await keys.lookup(token) {
            // An account key's cancel names its own account (the route fills it in).
            account = principal.account
        }
        if let account {
            let k = router.shard(of: account)
            if k == router.shard { return try await next(request, context) }
            return await redirect(request, account: account, shard: k)
        }
        let answers = await router.fanOut(body: bytes, authorization: request.headers[.authorization],
                                          idempotencyKey: request.headers[SolventAPI.idempotencyHeader])
        return ShardRouter.answer(answers)
    }

    /// The account a command body is routed by: the typed command's (`EngineCommand.account`,
    /// decoded as the route decodes it); nil for a command naming none (a market command: fanned
    /// out). Throws the decoder's error when the body is no command.
    static func routedAccount(_ document: JSONValue) throws -> String? {
        try CommandRequest.decode(document, key: "route").command.command.account
    }

    /// The account a `POST /v1/orders/check` body names (its `account` member, as the route
    /// reads it), nil when the body names none (the route answers it).
    static func accountOfOrderCheck(_ body: [UInt8]) -> String? {
        guard let document = try? JSONParser.parse(body), case .string(let account)? = document["account"] else { return nil }
        return account
    }

    /// The account of `GET /v1/accounts/{id}` and its sub-resources (nil for any other path).
    static func accountOfRead(_ path: String) -> String? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].isEmpty, parts[1] == "v1", parts[2] == "accounts", !parts[3].isEmpty else { return nil }
        return String(parts[3]).removingPercentEncoding ?? String(parts[3])
    }

    /// 307 to the leader of `account`'s shard `k` (same path and query), or 503 + Retry-After.
    func redirect(_ request: Request, account: String, shard k: Int) async -> Response {
        guard let leader = await router.leader(of: k) else {
            var response = SolventAPI.json(APIError(.serviceUnavailable, field: "account",
                reason: "account \"\(account.prefix(64))\" is in shard \(k), which has no leader right now (a takeover takes up to the lease): retry").json,
                status: .serviceUnavailable)
            response.headers[.retryAfter] = "1"
            return response
        }
        var location = leader.advertise
        while location.hasSuffix("/") { location.removeLast() }
        location += request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
        var response = SolventAPI.json(APIError(.temporaryRedirect, field: "account",
            reason: "account \"\(account.prefix(64))\" is in shard \(k), led by \(leader.holder) at \(leader.advertise): repeat the request there (a write with the same Idempotency-Key)").json,
            status: .temporaryRedirect)
        response.headers[.location] = location
        return response
    }
}

extension ClusterSettings {
    /// The genesis of this node's shard journal: `genesis` with `"shard": {"index": K, "count": N}`
    /// (Scenario.decodeShard) when there are several shards. A genesis that already names another
    /// shard is refused: it belongs to another journal.
    func shardGenesis(_ genesis: JSONValue) throws -> JSONValue {
        guard shards > 1, case .object(var members) = genesis else { return genesis }
        let shard: JSONValue = .object([("index", .number(String(self.shard))), ("count", .number(String(shards)))])
        if let existing = members.firstIndex(where: { $0.key == "shard" }) {
            guard members[existing].value == shard else {
                throw InputError(path: "genesis.shard", reason: "names another shard than this node's (--shard \(self.shard) of --shards \(shards)): leave it out")
            }
            return genesis
        }
        members.append((key: "shard", value: shard))
        return .object(members)
    }
}
