import Foundation
import HTTPTypes
import HummingbirdTesting
import SolventCore
import SolventServer
import Testing

/// `GET /v1/accounts/{id}/greeks` (docs/options.md "Greeks") and the role of `vol_surface`.
@Suite struct GreeksRouteTests {
    @Test func greeksRouteAndVolSurfaceRole() async throws {
        let f = try await Fixture()
        try await f.app.test(.router) { client in
            for (account, k) in [("alice", "d1"), ("bob", "d2")] {
                let r = try await request(client, .post, "/v1/commands", key: f.operatorKey,
                                          body: #"{"type":"deposit","account":"\#(account)","asset":"USDT","amount":"1000","settle":"USDT"}"#, idempotency: k)
                #expect(r.status == .ok)
            }
            #expect(try await request(client, .post, "/v1/commands", key: f.fillKey,
                                      body: #"{"type":"fill","account":"alice","symbol":"BTCUSDT","quantity":"0.01","price":"60000"}"#, idempotency: "f1").status == .ok)
            let own = try await request(client, .get, "/v1/accounts/alice/greeks", key: f.aliceKey)
            #expect(own.status == .ok)
            guard case .array(let totals)? = own.json?["totals"], case .array(let positions)? = own.json?["positions"] else {
                Issue.record("no totals or positions: \(String(describing: own.json))"); return
            }
            // A linear perpetual: delta = quantity·contract size, nothing else.
            #expect(positions.count == 1 && positions[0]["delta"] == .string("0.01") && positions[0]["vega"] == .string("0"))
            #expect(totals.count == 1 && totals[0]["pool"] == .string("cross") && totals[0]["underlying"] == .string("BTCUSDT")
                    && totals[0]["delta"] == .string("0.01"))
            #expect(try await request(client, .get, "/v1/accounts/bob/greeks", key: f.aliceKey).status == .forbidden)
            #expect(try await request(client, .get, "/v1/accounts/nobody/greeks", key: f.operatorKey).status == .notFound)
            #expect(try await request(client, .get, "/v1/accounts/alice/greeks", key: nil).status == .unauthorized)
            // vol_surface is a price input: an account key may not send it, a price feeder may.
            let surface = #"{"type":"vol_surface","underlying":"BTCUSDT","expiry":"2024-02-01T00:00:00Z","strikes":["60000"],"vols":["0.6"]}"#
            #expect(try await request(client, .post, "/v1/commands", key: f.aliceKey, body: surface, idempotency: "v1").status == .forbidden)
            #expect(try await request(client, .post, "/v1/commands", key: f.priceKey, body: surface, idempotency: "v2").status != .forbidden)
        }
    }
}
