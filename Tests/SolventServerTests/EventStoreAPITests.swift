import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import Logging
import NIOCore
import SolventCore
import SolventJournal
import SolventServer
import Testing

/// Raw text messages of a WebSocket until `done` says enough.
func rawStream(port: Int, path: String, after start: @escaping @Sendable () async throws -> Void,
               until done: @escaping @Sendable ([String]) -> Bool) async throws -> [String] {
    let collected = RawCollected()
    _ = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)\(path)", logger: Logger(label: "ws-test")) { inbound, _, _ in
        var started = false
        for try await message in inbound.messages(maxSize: 1 << 22) {
            guard case .text(let text) = message else { continue }
            let all = await collected.append(text)
            if !started { started = true; try await start() }
            if done(all) || all.count >= 500 { return }
        }
    }
    return await collected.values
}

actor RawCollected {
    var values: [String] = []
    func append(_ value: String) -> [String] { values.append(value); return values }
}

/// The raw body of a GET.
func rawGet(_ client: some TestClientProtocol, _ uri: String, key: String) async throws -> (status: HTTPResponse.Status, body: String) {
    try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer \(key)"]) { ($0.status, String(buffer: $0.body)) }
}

@Suite struct EventStoreAPITests {
    /// Every event streamed is in `/v1/events` after a restart, byte for byte, on both backends.
    @Test(arguments: ServiceBackend.available) func eventsSurviveARestartAsStreamed(backend: ServiceBackend) async throws {
        let postgres = try backend.postgres()
        let f = try await Fixture(postgres: postgres)
        let commands = [
            #"{"type":"deposit","account":"alice","asset":"USDT","amount":"1000"}"#,
            #"{"type":"deposit","account":"bob","asset":"USDT","amount":"2000"}"#,
            #"{"type":"place_order","id":"o1","account":"alice","symbol":"BTCUSDT","quantity":"0.1","price":"59000"}"#,
            #"{"type":"fill","account":"bob","symbol":"BTCUSDT","quantity":"0.5","price":"60000"}"#,
            #"{"type":"mark","symbol":"BTCUSDT","price":"59500"}"#,
            #"{"type":"withdraw","account":"alice","asset":"USDT","amount":"10"}"#,
        ]
        let streamed: [String] = try await f.app.test(.live) { client in
            let port = try #require(client.port)
            let operatorKey = f.operatorKey
            let messages = try await rawStream(port: port, path: "/v1/stream?channels=events&access_token=\(operatorKey)", after: {
                for (k, body) in commands.enumerated() {
                    var headers: HTTPFields = [.authorization: "Bearer \(operatorKey)"]
                    headers[HTTPField.Name("Idempotency-Key")!] = "c\(k)"
                    let status = try await client.execute(uri: "/v1/commands", method: .post, headers: headers, body: ByteBuffer(string: body)) { $0.status }
                    #expect(status == .ok, "\(body)")
                }
            }, until: { all in all.contains { $0.contains(#""event":{"type":"withdrew""#) } })
            // {"type":"event","stream_seq":N,"sequence":S,"event":<the event>}
            return messages.filter { $0.hasPrefix(#"{"type":"event""#) }.map { text in
                let start = text.range(of: #","event":"#)!.upperBound
                return String(text[start..<text.index(before: text.endIndex)])
            }
        }
        #expect(streamed.count >= 7)
        let live = try await f.engine.events(.init(after: 0, limit: 100_000)).events.map(\.body)
        #expect(live == streamed, "the store holds what was streamed")
        // A restart: the same folder (or schema), a new service.
        let engine = try EngineService.open(directory: f.folder, genesis: try JSONParser.parse(genesis), postgres: postgres?.url,
                                            schema: postgres?.schema ?? "solvent", clock: f.clock.clock)
        let app = SolventAPI.application(router: SolventAPI.router(engine: engine, keys: try APIKeyStore(directory: f.folder)),
                                         host: "127.0.0.1", port: 0, logger: Logger(label: "test"))
        try await app.test(.router) { client in
            let all = try await rawGet(client, "/v1/events?after=0&limit=10000", key: f.operatorKey)
            #expect(all.status == .ok)
            #expect(all.body == #"{"oldest_retained":1,"events":["# + streamed.joined(separator: ",") + "]}")
            // Paged by sequence, and filtered by account and type, from the same store.
            let page = try await rawGet(client, "/v1/events?after=2&limit=3", key: f.operatorKey)
            #expect(page.body == #"{"oldest_retained":1,"events":["# + streamed[2..<5].joined(separator: ",") + "]}")
            let alice = try await request(client, .get, "/v1/events?account=alice&type=deposited", key: f.aliceKey)
            guard case .array(let events)? = alice.json?["events"] else { Issue.record("no events"); return }
            #expect(events.count == 1 && events[0]["amount"] == .string("1000"))
        }
    }

    /// An account key places and cancels its own orders and withdraws its own funds; it cannot
    /// cancel another account's order, act on another account, or send operator commands.
    @Test func accountKeyActsOnItsOwnOrdersOnly() async throws {
        let f = try await Fixture()
        let bobKey = try await f.keys.create(role: .account, account: "bob")
        try await f.app.test(.router) { client in
            for (key, account) in [(f.aliceKey, "alice"), (bobKey, "bob")] {
                let deposit = try await request(client, .post, "/v1/commands", key: key,
                                                body: #"{"type":"deposit","account":"\#(account)","asset":"USDT","amount":"10000"}"#, idempotency: "d")
                #expect(deposit.status == .ok)
                let order = try await request(client, .post, "/v1/commands", key: key,
                                              body: #"{"type":"place_order","id":"\#(account)-o1","account":"\#(account)","symbol":"BTCUSDT","quantity":"0.1","price":"59000"}"#,
                                              idempotency: "o")
                #expect(order.status == .ok && eventTypes(order.json) == ["order_accepted"], "\(String(describing: order.json))")
            }
            // Bob's order is not Alice's to cancel: not found to her, and nothing happens.
            let theirs = try await request(client, .post, "/v1/commands", key: f.aliceKey, body: #"{"type":"cancel_order","id":"bob-o1"}"#, idempotency: "c1")
            #expect(theirs.status == .notFound && theirs.json?["error"]?["field"] == .string("id"))
            let unknown = try await request(client, .post, "/v1/commands", key: f.aliceKey, body: #"{"type":"cancel_order","id":"nope"}"#, idempotency: "c2")
            #expect(unknown.status == .notFound)
            // Her own: cancelled.
            let own = try await request(client, .post, "/v1/commands", key: f.aliceKey, body: #"{"type":"cancel_order","id":"alice-o1"}"#, idempotency: "c3")
            #expect(own.status == .ok && eventTypes(own.json) == ["order_cancelled"], "\(String(describing: own.json))")
            let withdraw = try await request(client, .post, "/v1/commands", key: f.aliceKey,
                                             body: #"{"type":"withdraw","account":"alice","asset":"USDT","amount":"5"}"#, idempotency: "w")
            #expect(withdraw.status == .ok && eventTypes(withdraw.json) == ["withdrew"])
            // Nothing on Bob's account, nothing of the operator's.
            for body in [#"{"type":"withdraw","account":"bob","asset":"USDT","amount":"5"}"#,
                         #"{"type":"place_order","id":"x","account":"bob","symbol":"BTCUSDT","quantity":"0.1","price":"59000"}"#,
                         #"{"type":"fill","account":"alice","symbol":"BTCUSDT","quantity":"0.1","price":"60000"}"#,
                         #"{"type":"mark","symbol":"BTCUSDT","price":"1"}"#, #"{"type":"tick"}"#,
                         #"{"type":"change_parameters","parameters":{"hysteresis":"0.1"}}"#] {
                let refused = try await request(client, .post, "/v1/commands", key: f.aliceKey, body: body, idempotency: "r-\(body.count)")
                #expect(refused.status == .forbidden, "\(body)")
            }
            // The fill feeder and the operator may cancel any order.
            let feeder = try await request(client, .post, "/v1/commands", key: f.fillKey, body: #"{"type":"cancel_order","id":"bob-o1"}"#, idempotency: "f")
            #expect(feeder.status == .ok && eventTypes(feeder.json) == ["order_cancelled"])
            #expect(try await request(client, .post, "/v1/commands", key: f.priceKey, body: #"{"type":"cancel_order","id":"bob-o1"}"#, idempotency: "p").status == .forbidden)
        }
    }

    /// The operators' accounts list: sorted by id, paged after an id, filtered by status.
    @Test func accountsList() async throws {
        let f = try await Fixture()
        try await f.app.test(.router) { client in
            for (k, body) in [#"{"type":"deposit","account":"carol","asset":"USDT","amount":"1000"}"#,
                              #"{"type":"deposit","account":"alice","asset":"USDT","amount":"1000"}"#,
                              #"{"type":"deposit","account":"bob","asset":"USDT","amount":"400"}"#,
                              #"{"type":"fill","account":"bob","symbol":"BTCUSDT","quantity":"1","price":"60000"}"#,
                              #"{"type":"mark","symbol":"BTCUSDT","price":"59670"}"#].enumerated() {
                #expect(try await request(client, .post, "/v1/commands", key: f.operatorKey, body: body, idempotency: "a\(k)").status == .ok)
            }
            func ids(_ json: JSONValue?) -> [String] {
                guard case .array(let rows)? = json?["accounts"] else { return [] }
                return rows.compactMap { if case .string(let id)? = $0["id"] { id } else { nil } }
            }
            let all = try await request(client, .get, "/v1/accounts", key: f.operatorKey)
            #expect(all.status == .ok && ids(all.json) == ["alice", "bob", "carol"] && all.json?["next_after"] == .null)
            let first = try await request(client, .get, "/v1/accounts?limit=2", key: f.operatorKey)
            #expect(ids(first.json) == ["alice", "bob"] && first.json?["next_after"] == .string("bob"))
            #expect(ids(try await request(client, .get, "/v1/accounts?limit=2&after=bob", key: f.operatorKey).json) == ["carol"])
            let healthy = try await request(client, .get, "/v1/accounts?status=healthy", key: f.operatorKey)
            #expect(ids(healthy.json) == ["alice", "carol"])
            let troubled = try await request(client, .get, "/v1/accounts", key: f.operatorKey).json
            guard case .array(let rows)? = troubled?["accounts"] else { Issue.record("no rows"); return }
            let bob = rows[1]
            #expect(bob["status"] != .string("healthy") && bob["positions"] == .number("1"))
            if case .string(let status)? = bob["status"] {
                #expect(ids(try await request(client, .get, "/v1/accounts?status=\(status)", key: f.operatorKey).json) == ["bob"])
            }
            #expect(try await request(client, .get, "/v1/accounts?status=sick", key: f.operatorKey).status == .badRequest)
            #expect(try await request(client, .get, "/v1/accounts?limit=0", key: f.operatorKey).status == .badRequest)
            #expect(try await request(client, .get, "/v1/accounts", key: f.aliceKey).status == .forbidden)
        }
    }

    /// A full command queue refuses at once with 503 and Retry-After.
    @Test func fullQueueRefusesWith503() async throws {
        let f = try await Fixture()
        let batcher = CommandBatcher(engine: f.engine, metrics: ServiceMetrics(), maximumBatch: 1, maximumQueue: 2, retryAfterSeconds: 3)
        let outcomes = await withTaskGroup(of: (any Error)?.self) { group in
            for k in 0..<50 {
                group.addTask {
                    do {
                        _ = try await batcher.submit(CommandRequest.decode(JSONParser.parse(#"{"type":"deposit","account":"a","asset":"USDT","amount":"1"}"#), key: "q\(k)"))
                        return nil
                    } catch { return error }
                }
            }
            var all: [(any Error)?] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        let refused = outcomes.compactMap { $0 as? APIError }
        #expect(!refused.isEmpty, "some commands found the queue full")
        #expect(refused.allSatisfy { $0.status == .serviceUnavailable && $0.retryAfter == 3 })
        #expect(outcomes.filter { $0 == nil }.count + refused.count == 50)
        #expect(await f.engine.commandsApplied == Int64(50 - refused.count))
    }
}
