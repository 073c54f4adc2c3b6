import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HummingbirdWebSocket
import Logging
import NIOCore
import SolventCore
import SolventReserves
import SolventServer
import Testing

/// A scenario start with USDT and BTC and one BTCUSDT perpetual, no accounts.
let genesis = #"""
{ "start": { "time": "2024-01-01T00:00:00Z",
    "assets": { "USDT": "1", "BTC": "60000" },
    "instruments": [ { "symbol": "BTCUSDT", "kind": "linear_perpetual", "base": "BTC", "settle": "USDT", "contract_size": "1",
      "brackets": [ { "notional_floor": "0", "notional_cap": "10000000", "max_leverage": "100", "mmr": "0.005" } ] } ],
    "marks": { "BTCUSDT": "60000" }, "accounts": [] },
  "commands": [] }
"""#

/// The genesis's time, 2024-01-01T00:00:00Z, in ms.
let genesisTime: Int64 = 1_704_067_200_000

/// A clock the test drives (ms since the epoch).
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var ms: Int64
    init(_ ms: Int64 = genesisTime) { self.ms = ms }
    var now: Int64 {
        get { lock.withLock { ms } }
        set { lock.withLock { ms = newValue } }
    }
    var clock: ServiceClock { ServiceClock { self.now } }
}

/// A service over a fresh data folder, with one key per role.
struct Fixture {
    let app: Application<RouterResponder<SolventRequestContext>>
    let engine: EngineService
    let keys: APIKeyStore
    let folder: String
    let clock: TestClock
    let operatorKey: String, priceKey: String, fillKey: String, aliceKey: String

    init(limiter: RateLimiter = RateLimiter(), streamQueue: Int = 4096, clock: TestClock = TestClock(),
         idleTimeout: Duration = .seconds(30), headerTimeout: Duration = .seconds(10), postgres: (url: String, schema: String)? = nil) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("solvent-api-\(UUID().uuidString)").path
        self.folder = folder
        self.clock = clock
        engine = try EngineService.open(directory: folder, genesis: try JSONParser.parse(genesis), postgres: postgres?.url, schema: postgres?.schema ?? "solvent",
                                        hub: EventHub(queueLimit: streamQueue), clock: clock.clock)
        keys = try APIKeyStore(directory: folder)
        operatorKey = try await keys.create(role: .operator_, account: nil)
        priceKey = try await keys.create(role: .priceFeeder, account: nil)
        fillKey = try await keys.create(role: .fillFeeder, account: nil)
        aliceKey = try await keys.create(role: .account, account: "alice")
        app = SolventAPI.application(router: SolventAPI.router(engine: engine, keys: keys, limiter: limiter), host: "127.0.0.1", port: 0,
                                     logger: Logger(label: "test"), idleTimeout: idleTimeout, headerTimeout: headerTimeout)
    }
}

func request(_ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, key: String?, body: String? = nil,
             idempotency: String? = nil) async throws -> (status: HTTPResponse.Status, json: JSONValue?) {
    var headers: HTTPFields = [:]
    if let key { headers[.authorization] = "Bearer \(key)" }
    if let idempotency { headers[HTTPField.Name("Idempotency-Key")!] = idempotency }
    return try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
        (response.status, try? JSONParser.parse(Array(response.body.readableBytesView)))
    }
}

@Suite struct APITests {
    /// Health, readiness and the OpenAPI document (every route documented, valid JSON, 3.1).
    @Test func operations() async throws {
        let f = try await Fixture()
        try await f.app.test(.router) { client in
            #expect(try await request(client, .get, "/healthz", key: nil).status == .ok)
            #expect(try await request(client, .get, "/readyz", key: nil).json?["commands_applied"] == .number("0"))
            let doc = try await request(client, .get, "/openapi.json", key: nil).json
            #expect(doc?["openapi"] == .string("3.1.0"))
            for path in ["/", "/healthz", "/readyz", "/metrics", "/openapi.json", "/v1/accounts/{id}", "/v1/commands", "/v1/evaluate", "/v1/events",
                         "/v1/insurance-fund", "/v1/risk", "/v1/stream", "/v1/reserves/root", "/v1/reserves/proofs/{id}", "/v1/webhooks",
                         "/v1/webhooks/deliveries", "/v1/webhooks/deliveries/{id}/retry"] {
                #expect(doc?["paths"]?[path] != nil, "\(path) not documented")
            }
            // Every documented operation is routed (its answer is not the router's "no route").
            guard case .object(let paths)? = doc?["paths"] else { Issue.record("no paths"); return }
            for (path, item) in paths {
                guard case .object(let operations) = item else { continue }
                for (method, _) in operations {
                    let uri = path.replacingOccurrences(of: "{id}", with: "1")
                    let response = try await request(client, method == "post" ? .post : .get, uri, key: f.operatorKey, body: "{}", idempotency: "doc-\(path)")
                    let reason: String? = { if case .string(let r)? = response.json?["error"]?["reason"] { return r } else { return nil } }()
                    #expect(!(reason ?? "").hasPrefix("no route"), "\(method) \(path) is documented but not routed")
                }
            }
            let missing = try await request(client, .get, "/v1/nothing-here", key: f.operatorKey)
            #expect(missing.status == .notFound)
            #expect(missing.json?["error"]?["reason"] == .string("no route GET /v1/nothing-here"))
        }
    }

    /// Without a key, or with an unknown one: 401 naming the header; nothing applied.
    @Test func authentication() async throws {
        let f = try await Fixture()
        try await f.app.test(.router) { client in
            let none = try await request(client, .get, "/v1/insurance-fund", key: nil)
            #expect(none.status == .unauthorized)
            #expect(none.json?["error"]?["field"] == .string("Authorization"))
            let unknown = try await request(client, .get, "/v1/insurance-fund", key: "slv_nope")
            #expect(unknown.status == .unauthorized)
            #expect(unknown.json?["error"]?["reason"] == .string("unknown API key"))
            #expect(try await request(client, .get, "/v1/insurance-fund", key: f.operatorKey).status == .ok)
            // Not a bearer token: 401 saying so (hummingbird-auth parses the header).
            let basic = try await client.execute(uri: "/v1/insurance-fund", method: .get, headers: [.authorization: "Basic YWxpY2U6cHc="]) { response in
                (response.status, try? JSONParser.parse(Array(response.body.readableBytesView)))
            }
            #expect(basic.0 == .unauthorized)
            #expect(basic.1?["error"]?["reason"] == .string("not a bearer token: send Authorization: Bearer <API key>"))
            // access_token is for the WebSocket route only.
            let queryKey = try await request(client, .get, "/v1/insurance-fund?access_token=\(f.operatorKey)", key: nil).status
            #expect(queryKey == .unauthorized)
        }
    }

    /// Object-level authorization: an account key reads and funds its own account only; a
    /// price feeder publishes prices but cannot withdraw; a fill feeder fills but cannot withdraw.
    @Test func roles() async throws {
        let f = try await Fixture()
        try await f.app.test(.router) { client in
            for (account, k) in [("alice", "d1"), ("bob", "d2")] {
                let r = try await request(client, .post, "/v1/commands", key: f.operatorKey,
                                          body: #"{"type":"deposit","account":"\#(account)","asset":"USDT","amount":"1000","settle":"USDT"}"#, idempotency: k)
                #expect(r.status == .ok)
            }
            #expect(try await request(client, .get, "/v1/accounts/alice", key: f.aliceKey).status == .ok)
            #expect(try await request(client, .get, "/v1/accounts/bob", key: f.aliceKey).status == .forbidden)
            #expect(try await request(client, .post, "/v1/commands", key: f.aliceKey,
                                      body: #"{"type":"deposit","account":"alice","asset":"USDT","amount":"5"}"#, idempotency: "a1").status == .ok)
            #expect(try await request(client, .post, "/v1/commands", key: f.aliceKey,
                                      body: #"{"type":"withdraw","account":"bob","asset":"USDT","amount":"5"}"#, idempotency: "a2").status == .forbidden)
            #expect(try await request(client, .post, "/v1/commands", key: f.priceKey,
                                      body: #"{"type":"mark","symbol":"BTCUSDT","price":"60100"}"#, idempotency: "p1").status == .ok)
            #expect(try await request(client, .post, "/v1/commands", key: f.priceKey,
                                      body: #"{"type":"withdraw","account":"alice","asset":"USDT","amount":"1"}"#, idempotency: "p2").status == .forbidden)
            #expect(try await request(client, .post, "/v1/commands", key: f.fillKey,
                                      body: #"{"type":"fill","account":"alice","symbol":"BTCUSDT","quantity":"0.01","price":"60100"}"#, idempotency: "f1").status == .ok)
            #expect(try await request(client, .post, "/v1/commands", key: f.fillKey,
                                      body: #"{"type":"withdraw","account":"alice","asset":"USDT","amount":"1"}"#, idempotency: "f2").status == .forbidden)
            #expect(try await request(client, .get, "/v1/insurance-fund", key: f.aliceKey).status == .forbidden)
            // An account key's events are its own only.
            let own = try await request(client, .get, "/v1/events?after=0", key: f.aliceKey)
            guard case .array(let events)? = own.json?["events"] else { Issue.record("no events"); return }
            #expect(!events.isEmpty && events.allSatisfy { $0["account"] == .string("alice") })
            #expect(try await request(client, .get, "/v1/events?account=bob", key: f.aliceKey).status == .forbidden)
        }
    }

    /// A repeated idempotency key applies nothing and returns the original events; a missing
    /// key, a bad command, a non-JSON body and an oversized body are 4xx and change nothing.
    @Test func idempotencyAndBadInput() async throws {
        let f = try await Fixture()
        try await f.app.test(.router) { client in
            let deposit = #"{"type":"deposit","account":"alice","asset":"USDT","amount":"1000","settle":"USDT"}"#
            let first = try await request(client, .post, "/v1/commands", key: f.operatorKey, body: deposit, idempotency: "same")
            let second = try await request(client, .post, "/v1/commands", key: f.operatorKey, body: deposit, idempotency: "same")
            #expect(first.json?["duplicate"] == .bool(false))
            #expect(second.json?["duplicate"] == .bool(true))
            #expect(first.json?["events"] == second.json?["events"])
            let account = try await request(client, .get, "/v1/accounts/alice", key: f.operatorKey)
            #expect(account.json?["state"]?["balances"]?["USDT"] == .string("1000"))
            let applied = try await request(client, .get, "/readyz", key: nil).json?["commands_applied"]

            let noKey = try await request(client, .post, "/v1/commands", key: f.operatorKey, body: deposit)
            #expect(noKey.status == .badRequest && noKey.json?["error"]?["field"] == .string("Idempotency-Key"))
            let bad = try await request(client, .post, "/v1/commands", key: f.operatorKey,
                                        body: #"{"type":"deposit","account":"alice","asset":"USDT","amount":"1x"}"#, idempotency: "bad")
            #expect(bad.status == .badRequest)
            #expect(bad.json?["error"]?["field"] == .string("command.amount"))
            #expect(try await request(client, .post, "/v1/commands", key: f.operatorKey, body: "{not json", idempotency: "x").status == .badRequest)
            let huge = "{\"type\":\"tick\",\"pad\":\"" + String(repeating: "a", count: SolventAPI.maximumBody) + "\"}"
            #expect(try await request(client, .post, "/v1/commands", key: f.operatorKey, body: huge, idempotency: "big").status == .contentTooLarge)
            #expect(try await request(client, .get, "/readyz", key: nil).json?["commands_applied"] == applied)
        }
    }

    /// /metrics: Prometheus text with commands by type, events by type, accounts by status,
    /// the insurance fund and the sequences.
    @Test func metrics() async throws {
        let f = try await Fixture()
        try await f.app.test(.router) { client in
            _ = try await request(client, .post, "/v1/commands", key: f.operatorKey,
                                  body: #"{"type":"deposit","account":"alice","asset":"USDT","amount":"1000","settle":"USDT"}"#, idempotency: "m1")
            _ = try await request(client, .post, "/v1/commands", key: f.priceKey, body: #"{"type":"mark","symbol":"BTCUSDT","price":"60010"}"#, idempotency: "m2")
            let text = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(text.contains(#"solvent_commands_applied_total{type="deposit"} 1"#))
            #expect(text.contains(#"solvent_commands_applied_total{type="mark"} 1"#))
            #expect(text.contains(#"solvent_events_total{type="deposited"} 1"#))
            #expect(text.contains(#"solvent_accounts{status="healthy"} 1"#))
            #expect(text.contains(#"solvent_insurance_fund{asset="USDT"} 0"#))
            #expect(text.contains("solvent_journal_sequence 2"))
            #expect(text.contains("solvent_command_duration_seconds_bucket"))
        }
    }

    /// Per-key rate limit: a burst of 3 at 0.001/s allows three requests, then 429 with
    /// Retry-After for that key only; another key is unaffected.
    @Test func rateLimit() async throws {
        let f = try await Fixture(limiter: RateLimiter(perSecond: 0.001, burst: 3))
        try await f.app.test(.router) { client in
            for _ in 0..<3 { #expect(try await request(client, .get, "/v1/insurance-fund", key: f.operatorKey).status == .ok) }
            let limited = try await client.execute(uri: "/v1/insurance-fund", method: .get, headers: [.authorization: "Bearer \(f.operatorKey)"]) { $0 }
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] != nil)
            #expect(try await request(client, .get, "/v1/accounts/alice", key: f.aliceKey).status == .notFound)
        }
    }

    /// Proof of reserves over the API: the root for any key; an account key gets its own proof
    /// (which verifies against the root) and not another account's.
    @Test func reserves() async throws {
        let f = try await Fixture()
        try await f.app.test(.router) { client in
            #expect(try await request(client, .get, "/v1/reserves/root", key: f.aliceKey).status == .notFound)  // no accounts yet
            for (account, k) in [("alice", "r1"), ("bob", "r2")] {
                _ = try await request(client, .post, "/v1/commands", key: f.operatorKey,
                                      body: #"{"type":"deposit","account":"\#(account)","asset":"USDT","amount":"700","settle":"USDT"}"#, idempotency: k)
            }
            let root = try await request(client, .get, "/v1/reserves/root", key: f.aliceKey)
            #expect(root.status == .ok)
            #expect(root.json?["totals"]?["USDT"] == .string("1400"))
            guard case .string(let rootHash)? = root.json?["root_hash"], let rootBytes = [UInt8](hexString: rootHash) else { Issue.record("no root"); return }
            let proof = try await client.execute(uri: "/v1/reserves/proofs/alice", method: .get, headers: [.authorization: "Bearer \(f.aliceKey)"]) { $0 }
            #expect(proof.status == .ok)
            let parsed = try InclusionProof(json: Array(proof.body.readableBytesView))
            let verified = try parsed.verify(root: rootBytes)
            #expect(verified.balances == [FixedDecimal(700), .zero])
            #expect(try await request(client, .get, "/v1/reserves/proofs/bob", key: f.aliceKey).status == .forbidden)
            #expect(try await request(client, .get, "/v1/reserves/proofs/bob", key: f.operatorKey).status == .ok)
        }
    }

    /// POST /v1/evaluate is the evaluate contract; bad input names the path.
    @Test func evaluate() async throws {
        let f = try await Fixture()
        try await f.app.test(.router) { client in
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Examples/evaluate/portfolio.json")
            let body = try String(contentsOf: url, encoding: .utf8)
            let ok = try await request(client, .post, "/v1/evaluate", key: f.aliceKey, body: body)
            #expect(ok.status == .ok)
            guard case .array(let accounts)? = ok.json?["accounts"] else { Issue.record("no accounts"); return }
            #expect(accounts.count == 2)
            let bad = try await request(client, .post, "/v1/evaluate", key: f.aliceKey, body: #"{"assets":{"USDT":"1x"},"instruments":[],"accounts":[]}"#)
            #expect(bad.status == .badRequest && bad.json?["error"]?["field"] == .string("assets.USDT"))
        }
    }

    /// The pre-trade check answers what place_order would do, and changes nothing.
    @Test func orderCheck() async throws {
        let f = try await Fixture()
        _ = try await f.engine.submit(try JSONParser.parse(#"{"type":"deposit","account":"alice","asset":"USDT","amount":"1000"}"#), key: "d1")
        let applied = await f.engine.commandsApplied
        try await f.app.test(.router) { client in
            // 0.1 BTC at 60,000 = 6,000 notional at the bracket's 100× = 60 USDT of initial margin.
            let ok = try await request(client, .post, "/v1/orders/check", key: f.aliceKey,
                                       body: #"{"account":"alice","symbol":"BTCUSDT","quantity":"0.1","price":"60000"}"#)
            #expect(ok.status == .ok)
            #expect(ok.json?["accepted"] == .bool(true))
            #expect(ok.json?["reserved_margin"] == .string("60"))
            #expect(ok.json?["free_margin"] == .string("1000"))
            let big = try await request(client, .post, "/v1/orders/check", key: f.fillKey,
                                        body: #"{"account":"alice","symbol":"BTCUSDT","quantity":"10","price":"60000"}"#)
            #expect(big.json?["accepted"] == .bool(false))
            #expect(big.json?["code"] == .number("2001"))
            #expect(big.json?["reason"] == .string("needs 6000 initial margin, 1000 available"))
            let other = try await request(client, .post, "/v1/orders/check", key: f.aliceKey,
                                          body: #"{"account":"bob","symbol":"BTCUSDT","quantity":"1","price":"60000"}"#)
            #expect(other.status == .forbidden)
            let bad = try await request(client, .post, "/v1/orders/check", key: f.operatorKey,
                                        body: #"{"account":"alice","symbol":"BTCUSDT","quantity":"lots","price":"60000"}"#)
            #expect(bad.status == .badRequest)
            #expect(bad.json?["error"]?["field"] == .string("quantity"))
        }
        #expect(await f.engine.commandsApplied == applied, "a check journals and applies nothing")
    }
}
