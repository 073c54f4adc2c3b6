import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SolventCore
import SolventJournal
import SolventServer
import Testing

/// The `time` of the events a response carries.
func eventTimes(_ json: JSONValue?) -> [Int64] {
    guard case .array(let events)? = json?["events"] else { return [] }
    return events.compactMap { event -> Int64? in if case .number(let t)? = event["time"] { return Int64(t) } else { return nil } }
}

func eventTypes(_ json: JSONValue?) -> [String] {
    guard case .array(let events)? = json?["events"] else { return [] }
    return events.compactMap { event -> String? in if case .string(let t)? = event["type"] { return t } else { return nil } }
}

@Suite struct ServerTimeTests {
    /// Engine time is the server's: stamped from the injected clock when a command is accepted,
    /// never going back; `time` from a non-operator key is refused (400 naming `time`); an
    /// operator's `time` may not go back either.
    @Test func engineTimeIsTheServers() async throws {
        let f = try await Fixture()
        try await f.app.test(.router) { client in
            f.clock.now = genesisTime + 1_000
            let first = try await request(client, .post, "/v1/commands", key: f.operatorKey,
                                          body: #"{"type":"deposit","account":"alice","asset":"USDT","amount":"100"}"#, idempotency: "t1")
            #expect(first.status == .ok)
            #expect(Set(eventTimes(first.json)) == [genesisTime + 1_000])

            // The clock steps back (NTP, another host): engine time stays monotonic.
            f.clock.now = genesisTime + 500
            let second = try await request(client, .post, "/v1/commands", key: f.operatorKey,
                                           body: #"{"type":"deposit","account":"alice","asset":"USDT","amount":"1"}"#, idempotency: "t2")
            #expect(Set(eventTimes(second.json)) == [genesisTime + 1_000])

            // An account key, a price feeder and a fill feeder may not send a time.
            let applied = try await request(client, .get, "/readyz", key: nil).json?["commands_applied"]
            let ahead = Timestamp.formatISO8601(genesisTime + 5 * 3_600_000)
            for (key, body) in [(f.aliceKey, #"{"type":"deposit","account":"alice","asset":"USDT","amount":"1","time":"\#(ahead)"}"#),
                                (f.priceKey, #"{"type":"mark","symbol":"BTCUSDT","price":"60000","time":\#(genesisTime + 18_000_000)}"#),
                                (f.fillKey, #"{"type":"fill","account":"alice","symbol":"BTCUSDT","quantity":"0.001","price":"60000","time":"\#(ahead)"}"#)] {
                let refused = try await request(client, .post, "/v1/commands", key: key, body: body, idempotency: "ahead-\(key.suffix(6))")
                #expect(refused.status == .badRequest)
                #expect(refused.json?["error"]?["field"] == .string("time"))
            }
            #expect(try await request(client, .get, "/readyz", key: nil).json?["commands_applied"] == applied, "nothing applied")

            // A price feeder's source time stays data (for staleness), engine time is the server's.
            f.clock.now = genesisTime + 2_000
            let mark = try await request(client, .post, "/v1/commands", key: f.priceKey,
                                         body: #"{"type":"mark","symbol":"BTCUSDT","price":"60010","source_time":\#(genesisTime + 1_900)}"#, idempotency: "m1")
            #expect(mark.status == .ok)

            // The operator's replay tools may set time, forward only.
            let back = try await request(client, .post, "/v1/commands", key: f.operatorKey,
                                         body: #"{"type":"tick","time":\#(genesisTime)}"#, idempotency: "op-back")
            #expect(back.status == .badRequest)
            #expect(back.json?["error"]?["field"] == .string("command.time"))
            let forward = try await request(client, .post, "/v1/commands", key: f.operatorKey,
                                            body: #"{"type":"deposit","account":"alice","asset":"USDT","amount":"1","time":\#(genesisTime + 60_000)}"#,
                                            idempotency: "op-fwd")
            #expect(forward.status == .ok)
            #expect(Set(eventTimes(forward.json)) == [genesisTime + 60_000])
            // The server clock is now behind the engine: the next stamp is the engine's time.
            let after = try await request(client, .post, "/v1/commands", key: f.aliceKey,
                                          body: #"{"type":"deposit","account":"alice","asset":"USDT","amount":"1"}"#, idempotency: "a-after")
            #expect(Set(eventTimes(after.json)) == [genesisTime + 60_000])
        }
    }

    /// The attack of issue 14: an account key's deposit "five hours ahead" would have expired
    /// another account's margin call. It is refused, and the victim's call keeps its deadline.
    @Test func anAccountKeyCannotExpireAnothersMarginCall() async throws {
        let f = try await Fixture()
        let bobKey = try await f.keys.create(role: .account, account: "bob")
        try await f.app.test(.router) { client in
            // A 4-hour grace period. Bob: 1,000 USDT, 1 BTC long at 60,000 (MM 0.5 %). A mark of
            // 59,330 leaves equity 330 against MM 296.65 (ratio 0.90 ≥ 0.85): a margin call.
            for (k, body) in [#"{"type":"change_parameters","parameters":{"grace_period_ms":14400000}}"#,#"{"type":"deposit","account":"bob","asset":"USDT","amount":"1000"}"#,
                              #"{"type":"deposit","account":"alice","asset":"USDT","amount":"1000"}"#].enumerated() {
                #expect(try await request(client, .post, "/v1/commands", key: f.operatorKey, body: body, idempotency: "setup\(k)").status == .ok)
            }
            #expect(try await request(client, .post, "/v1/commands", key: f.fillKey,
                                      body: #"{"type":"fill","account":"bob","symbol":"BTCUSDT","quantity":"1","price":"60000"}"#, idempotency: "fill").status == .ok)
            f.clock.now = genesisTime + 60_000
            let drop = try await request(client, .post, "/v1/commands", key: f.priceKey,
                                         body: #"{"type":"mark","symbol":"BTCUSDT","price":"59330"}"#, idempotency: "drop")
            #expect(eventTypes(drop.json).contains("margin_call"), "\(eventTypes(drop.json))")
            let before = try await request(client, .get, "/v1/accounts/bob", key: bobKey).json?["state"]?["procedures"]

            let ahead = genesisTime + 5 * 3_600_000
            let attack = try await request(client, .post, "/v1/commands", key: f.aliceKey,
                                           body: #"{"type":"deposit","account":"alice","asset":"USDT","amount":"1","time":\#(ahead)}"#, idempotency: "attack")
            #expect(attack.status == .badRequest)
            #expect(attack.json?["error"]?["field"] == .string("time"))
            // Without a time the deposit is applied at the server's time: the call still stands.
            let honest = try await request(client, .post, "/v1/commands", key: f.aliceKey,
                                           body: #"{"type":"deposit","account":"alice","asset":"USDT","amount":"1"}"#, idempotency: "honest")
            #expect(honest.status == .ok)
            #expect(!eventTypes(honest.json).contains("liquidation_started"))
            #expect(try await request(client, .get, "/v1/accounts/bob", key: bobKey).json?["state"]?["procedures"] == before)
            // The honest price feeder's next mark is not "time went backwards".
            f.clock.now = genesisTime + 120_000
            let next = try await request(client, .post, "/v1/commands", key: f.priceKey,
                                         body: #"{"type":"mark","symbol":"BTCUSDT","price":"59340"}"#, idempotency: "next")
            #expect(next.status == .ok)
            #expect(!eventTypes(next.json).contains("rejected"), "\(eventTypes(next.json))")
        }
    }
}

/// The journal backends of the service: SQLite always; PostgreSQL when `SOLVENT_TEST_POSTGRES_URL`
/// is set (scripts/test starts a throwaway cluster; under CI a missing URL is a failure).
enum ServiceBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite, postgres
    var description: String { rawValue }
    static let postgresURL = ProcessInfo.processInfo.environment["SOLVENT_TEST_POSTGRES_URL"]
    static var available: [ServiceBackend] {
        postgresURL != nil || ProcessInfo.processInfo.environment["CI"] != nil ? [.sqlite, .postgres] : [.sqlite]
    }

    /// The PostgreSQL URL and a fresh schema, or nil for SQLite.
    func postgres() throws -> (url: String, schema: String)? {
        guard self == .postgres else { return nil }
        let url = try #require(Self.postgresURL, "SOLVENT_TEST_POSTGRES_URL is not set: run ./scripts/test, which starts PostgreSQL")
        return (url, "svc_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased())
    }
}

@Suite struct ScopedIdempotencyTests {
    /// Keys are scoped per API key and bound to the request: a retry (members in any order)
    /// gets the original result, another body under the same key is 422 and applies nothing,
    /// another key's use of the same text is its own command; all of it also after a restart.
    @Test(arguments: ServiceBackend.available) func keysAreScopedAndBoundToTheRequest(backend: ServiceBackend) async throws {
        let postgres = try backend.postgres()
        let f = try await Fixture(postgres: postgres)
        let bobKey = try await f.keys.create(role: .account, account: "bob")
        let deposit = #"{"type":"deposit","account":"alice","asset":"USDT","amount":"100"}"#
        let reordered = #"{ "amount": "100", "asset": "USDT", "type": "deposit", "account": "alice" }"#
        let other = #"{"type":"deposit","account":"alice","asset":"USDT","amount":"200"}"#
        let original: JSONValue? = try await f.app.test(.router) { client in
            let first = try await request(client, .post, "/v1/commands", key: f.operatorKey, body: deposit, idempotency: "k1")
            #expect(first.status == .ok && first.json?["duplicate"] == .bool(false))
            let original = first.json?["events"]
            let retry = try await request(client, .post, "/v1/commands", key: f.operatorKey, body: reordered, idempotency: "k1")
            #expect(retry.status == .ok && retry.json?["duplicate"] == .bool(true))
            #expect(retry.json?["events"] == original)

            let conflict = try await request(client, .post, "/v1/commands", key: f.operatorKey, body: other, idempotency: "k1")
            #expect(conflict.status.code == 422)
            #expect(conflict.json?["error"]?["field"] == .string("Idempotency-Key"))
            #expect(try await request(client, .get, "/v1/accounts/alice", key: f.operatorKey).json?["state"]?["balances"]?["USDT"] == .string("100"))

            // Bob's key uses the same text for its own withdrawal... of a deposit: its own command,
            // never the operator's events.
            let bob = try await request(client, .post, "/v1/commands", key: bobKey,
                                        body: #"{"type":"deposit","account":"bob","asset":"USDT","amount":"50"}"#, idempotency: "k1")
            #expect(bob.status == .ok && bob.json?["duplicate"] == .bool(false))
            guard case .array(let events)? = bob.json?["events"] else { Issue.record("no events"); return original }
            #expect(!events.isEmpty && events.allSatisfy { $0["account"] == .string("bob") })
            // Alice's key too: the operator's use of "k1" is not hers.
            let alice = try await request(client, .post, "/v1/commands", key: f.aliceKey,
                                          body: #"{"type":"deposit","account":"alice","asset":"USDT","amount":"5"}"#, idempotency: "k1")
            #expect(alice.status == .ok && alice.json?["duplicate"] == .bool(false))
            #expect(try await request(client, .get, "/v1/accounts/alice", key: f.operatorKey).json?["state"]?["balances"]?["USDT"] == .string("105"))
            return original
        }

        // A restart: the same folder, a new engine service and router.
        let engine = try EngineService.open(directory: f.folder, genesis: try JSONParser.parse(genesis), postgres: postgres?.url,
                                            schema: postgres?.schema ?? "solvent", clock: f.clock.clock)
        let app = SolventAPI.application(router: SolventAPI.router(engine: engine, keys: try APIKeyStore(directory: f.folder)),
                                         host: "127.0.0.1", port: 0, logger: Logger(label: "test"))
        try await app.test(.router) { client in
            let retry = try await request(client, .post, "/v1/commands", key: f.operatorKey, body: deposit, idempotency: "k1")
            #expect(retry.status == .ok && retry.json?["duplicate"] == .bool(true))
            #expect(retry.json?["events"] == original)
            let conflict = try await request(client, .post, "/v1/commands", key: f.operatorKey, body: other, idempotency: "k1")
            #expect(conflict.status.code == 422)
            #expect(try await request(client, .get, "/v1/accounts/alice", key: f.operatorKey).json?["state"]?["balances"]?["USDT"] == .string("105"))
        }
    }

    /// A data folder journaled before keys were scoped (unscoped keys, no request hash) opens
    /// and keeps its state; the old entries are left as they are (docs/service.md "Idempotency").
    @Test func anOlderJournalStillWorks() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("solvent-legacy-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var legacy = try JournaledEngine.create(scenario: try JSONParser.parse(genesis), sqliteDirectory: folder)
        _ = try legacy.submit(try JSONParser.parse(#"{"type":"deposit","account":"alice","asset":"USDT","amount":"70","key":"w1"}"#))
        let keys = try APIKeyStore(directory: folder)
        let operatorKey = try await keys.create(role: .operator_, account: nil)
        let engine = try EngineService.open(directory: folder, genesis: try JSONParser.parse(genesis), clock: TestClock().clock)
        let app = SolventAPI.application(router: SolventAPI.router(engine: engine, keys: keys), host: "127.0.0.1", port: 0, logger: Logger(label: "test"))
        try await app.test(.router) { client in
            #expect(try await request(client, .get, "/v1/accounts/alice", key: operatorKey).json?["state"]?["balances"]?["USDT"] == .string("70"))
            let deposit = #"{"type":"deposit","account":"alice","asset":"USDT","amount":"5"}"#
            let first = try await request(client, .post, "/v1/commands", key: operatorKey, body: deposit, idempotency: "w1")
            #expect(first.status == .ok && first.json?["duplicate"] == .bool(false) && first.json?["sequence"] == .number("2"))
            let retry = try await request(client, .post, "/v1/commands", key: operatorKey, body: deposit, idempotency: "w1")
            #expect(retry.json?["duplicate"] == .bool(true))
            #expect(try await request(client, .get, "/v1/accounts/alice", key: operatorKey).json?["state"]?["balances"]?["USDT"] == .string("75"))
        }
    }

    /// Concurrent writers in one batch with the same key from different API keys are separate commands.
    @Test func sameKeyTextFromTwoKeysInOneBatch() async throws {
        let f = try await Fixture()
        let bobKey = try await f.keys.create(role: .account, account: "bob")
        try await f.app.test(.router) { client in
            async let a = request(client, .post, "/v1/commands", key: f.aliceKey,
                                  body: #"{"type":"deposit","account":"alice","asset":"USDT","amount":"7"}"#, idempotency: "same")
            async let b = request(client, .post, "/v1/commands", key: bobKey,
                                  body: #"{"type":"deposit","account":"bob","asset":"USDT","amount":"9"}"#, idempotency: "same")
            let (ra, rb) = try await (a, b)
            #expect(ra.json?["duplicate"] == .bool(false) && rb.json?["duplicate"] == .bool(false))
            #expect(try await request(client, .get, "/v1/accounts/bob", key: bobKey).json?["state"]?["balances"]?["USDT"] == .string("9"))
            #expect(try await request(client, .get, "/v1/accounts/alice", key: f.aliceKey).json?["state"]?["balances"]?["USDT"] == .string("7"))
        }
    }
}
