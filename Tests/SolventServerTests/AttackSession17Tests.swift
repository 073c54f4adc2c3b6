import Foundation
import SolventCore
@testable import SolventServer
import Testing

/// Session 17's outside attack on the sharded service edge (docs/cluster.md "Running shards").
@Suite struct AttackSession17ServerTests {
    /// The router sent a command by its raw `"account"` member. The command decoder ignores
    /// members a command does not have, so `{"type":"mark",…,"account":"x"}` (a feeder's or an
    /// operator's key) was journaled in x's shard alone — a market command in one shard, which
    /// the forwarding secret exists to prevent — and the shards' marks diverged. Now the typed
    /// command decides: a market command names no account (fanned out to every shard), an
    /// account's command names its own, a body that is no command is answered where it arrived.
    /// Since unknown members are refused (docs/range-contract.md), a market command carrying
    /// `"account"` is no command at all: the decoder throws naming `command.account`, so it is
    /// answered (400) where it arrived and reaches no shard; without the member it fans out.
    @Test func routedByTheTypedCommand() throws {
        func routed(_ body: String) throws -> String? { try ShardRouterMiddleware.routedAccount(JSONParser.parse(Array(body.utf8))) }
        let market = [
            #"{"type":"mark","symbol":"BTCUSDT","price":"65000","account":"x"}"#,
            #"{"type":"index","symbol":"BTCUSDT","price":"65000","account":"x"}"#,
            #"{"type":"tick","account":"x"}"#,
            #"{"type":"funding","symbol":"BTCUSDT","rate":"0.0001","account":"x"}"#,
        ]
        var checked = 0
        for body in market {
            do {
                _ = try routed(body)
                Issue.record("routed \(body)")
            } catch let error as InputError {
                #expect(error.path == "command.account", "\(body)")
            }
            #expect(try routed(body.replacingOccurrences(of: #","account":"x""#, with: "")) == nil, "\(body)")
            checked += 1
        }
        #expect(try routed(#"{"type":"deposit","account":"x","asset":"USDT","amount":"1"}"#) == "x")
        #expect(try routed(#"{"type":"cancel_order","id":"o1","account":"y"}"#) == "y")
        #expect(try routed(#"{"type":"cancel_order","id":"o1"}"#) == nil)  // an account key's: its own (the middleware)
        #expect(throws: InputError.self) { try routed(#"{"type":"deposit","account":"x","asset":"USDT","amount":"1x"}"#) }
        #expect(checked == market.count)
    }

    /// `POST /v1/orders/check` was not routed: an order check of another shard's account was
    /// answered by this shard's engine, which does not hold the account ("unknown account").
    /// The router now reads the body's account and sends the check to that shard's leader.
    @Test func orderChecksAreRoutedByAccount() {
        let cases: [(String, String?)] = [
            (#"{"account":"alice","symbol":"BTCUSDT","quantity":"1","price":"65000"}"#, "alice"),
            (#"{"symbol":"BTCUSDT","quantity":"1","price":"65000"}"#, nil),
            (#"{"account":7}"#, nil),
            ("not json", nil),
        ]
        for (body, account) in cases { #expect(ShardRouterMiddleware.accountOfOrderCheck(Array(body.utf8)) == account, "\(body)") }
        #expect(cases.count == 4)
    }
}
