import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SolventCore
import SolventServer
import SolventTestSupport
import Testing

/// The HTTP edge refuses a command member its type does not know: 400 with the error JSON naming
/// `command.<member>`, nothing applied (docs/service.md "Engine time", docs/range-contract.md).
@Suite struct UnknownMemberAPITests {
    static func body(_ text: String, adding name: String) throws -> String {
        guard case .object(let members) = try JSONParser.parse(text) else { throw InputError(path: "", reason: "not an object") }
        var w = JSONWriter()
        w.value(.object(members + [(key: name, value: .bool(true))]))
        return w.string
    }

    /// Every command type, with `reduceOnly` beside its members: 400 naming `command.reduceOnly`,
    /// the applied count and the state hash unchanged; the body without it is not a 400 (applied,
    /// or for `deliver` 403: internal). A `key` member is refused too (the header is the key).
    @Test func commandsRefuseStrangers() async throws {
        let f = try await Fixture()
        try await f.app.test(.router) { client in
            func state() async throws -> [JSONValue?] {
                let ready = try await request(client, .get, "/readyz", key: nil).json
                let cluster = try await request(client, .get, "/v1/cluster", key: nil).json
                return [ready?["commands_applied"], cluster?["state_hash"]]
            }
            var refused = 0
            for (n, (type, text)) in CommandBodies.all.enumerated() {
                let before = try await state()
                let bad = try await request(client, .post, "/v1/commands", key: f.operatorKey, body: Self.body(text, adding: "reduceOnly"), idempotency: "bad-\(n)")
                #expect(bad.status == .badRequest, "\(type)")
                #expect(bad.json?["error"]?["field"] == .string("command.reduceOnly"), "\(type)")
                if case .string(let reason)? = bad.json?["error"]?["reason"] {
                    #expect(reason.hasPrefix("unknown member of \"\(type)\" (known: time, type, key"), "\(type)")
                    refused += 1
                }
                #expect(try await state() == before, "\(type)")
                let good = try await request(client, .post, "/v1/commands", key: f.operatorKey, body: text, idempotency: "good-\(n)")
                #expect(good.status == (type == "deliver" ? .forbidden : .ok), "\(type): \(String(describing: good.json))")
            }
            #expect(refused == CommandBodies.all.count)

            let before = try await state()
            let keyed = try await request(client, .post, "/v1/commands", key: f.operatorKey,
                                          body: #"{"type":"tick","key":"mine"}"#, idempotency: "keyed")
            #expect(keyed.status == .badRequest && keyed.json?["error"]?["field"] == .string("command.key"))
            // An account key's misspelled reduce-only order: refused, not placed as a plain order.
            let order = try await request(client, .post, "/v1/commands", key: f.aliceKey,
                                          body: #"{"type":"place_order","id":"o7","account":"alice","symbol":"BTCUSDT","quantity":"-1","price":"60000","reduce-only":true}"#,
                                          idempotency: "alice-1")
            #expect(order.status == .badRequest && order.json?["error"]?["field"] == .string("command.reduce-only"))
            #expect(try await state() == before)
        }
    }

    /// `POST /v1/orders/check`: a stranger is a 400 naming it; `type` and `time` stay ignored.
    @Test func orderChecksRefuseStrangers() async throws {
        let f = try await Fixture()
        try await f.app.test(.router) { client in
            let base = #"{"account":"alice","symbol":"BTCUSDT","quantity":"1","price":"60000"}"#
            let bad = try await request(client, .post, "/v1/orders/check", key: f.operatorKey, body: Self.body(base, adding: "reduceOnly"))
            #expect(bad.status == .badRequest)
            #expect(bad.json?["error"]?["field"] == .string("reduceOnly"))
            let ignored = #"{"type":"whatever","time":5,"account":"alice","symbol":"BTCUSDT","quantity":"1","price":"60000","reduce_only":false}"#
            #expect(try await request(client, .post, "/v1/orders/check", key: f.operatorKey, body: ignored).status == .ok)
        }
    }
}
