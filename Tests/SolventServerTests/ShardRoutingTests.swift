import Foundation
import HTTPTypes
import SolventCore
@testable import SolventServer
import Testing

/// The serving side of shards without processes (docs/cluster.md "Running shards"): the settings'
/// rule, the shard's schema and genesis, and how the router answers a fan-out from the shards' answers.
@Suite struct ShardRoutingTests {
    static func reason(_ body: () throws(InputError) -> ServiceConfiguration) -> String? {
        do { _ = try body(); return nil } catch { return "\(error.path): \(error.reason)" }
    }

    @Test func settingsRule() throws {
        let cluster = ["--postgres", "postgres://solvent@127.0.0.1/postgres", "--node-id", "a"]
        let cases: [([String], String?)] = [
            (["--shards", "2", "--shard", "2"] + cluster, "shard: must be less than shards (2): shards are numbered 0 to 1, found 2"),
            (["--shard", "1"] + cluster, "shard: must be less than shards (1): shards are numbered 0 to 0, found 1"),
            (["--shards", "2"], "shards: several shards need a cluster: set postgres and node_id too"),
            (["--shards", "2", "--postgres", "postgres://solvent@127.0.0.1/postgres"], "shards: several shards need a cluster: set postgres and node_id too"),
            (["--shards", "0"], "--shards: must be an integer in 1...1024"),
            (["--shards", "2", "--shard", "1"] + cluster, nil),
        ]
        for (flags, expected) in cases {
            #expect(Self.reason { () throws(InputError) in try ServiceConfiguration.resolve(flags: flags) } == expected, "\(flags)")
        }
        #expect(cases.count == 6)
        let environment = try ServiceConfiguration.resolve(environment: ["SOLVENT_SHARDS": "4", "SOLVENT_SHARD": "3", "SOLVENT_POSTGRES": "postgres://solvent@h/db",
                                                                         "SOLVENT_NODE_ID": "n"])
        let settings = try #require(environment.clusterSettings)
        #expect(settings.shards == 4 && settings.shard == 3)
        #expect(settings.journalSchema == "solvent_s3", "shard K's journal is <schema>_s<K>")
        #expect(try #require(try ServiceConfiguration.resolve(flags: cluster).clusterSettings).journalSchema == "solvent", "one shard: stage 1's schema")
    }

    @Test func shardGenesis() throws {
        var settings = ClusterSettings(nodeID: "a", advertise: "http://a", postgres: "postgres://x@h/d", schema: "s")
        let genesis = try JSONParser.parse(Array(#"{"start":{"time":"2024-01-01T00:00:00Z"}}"#.utf8))
        #expect(try settings.shardGenesis(genesis) == genesis, "one shard: unchanged")
        settings.shards = 3
        settings.shard = 2
        let sharded = try settings.shardGenesis(genesis)
        #expect(sharded["shard"] == .object([("index", .number("2")), ("count", .number("3"))]))
        #expect(try settings.shardGenesis(sharded) == sharded, "already this shard's")
        settings.shard = 1
        #expect(throws: InputError.self) { try settings.shardGenesis(sharded) }
    }

    @Test func accountReads() {
        let cases: [(String, String?)] = [("/v1/accounts/a1", "a1"), ("/v1/accounts/a1/greeks", "a1"), ("/v1/accounts", nil), ("/v1/accounts/", nil),
                                          ("/v1/risk", nil), ("/v1/reserves/proofs/a1", nil), ("/v1/accounts/a%2Db", "a-b")]
        for (path, account) in cases { #expect(ShardRouterMiddleware.accountOfRead(path) == account, "\(path)") }
        #expect(cases.count == 7)
    }

    static func answer(_ shard: Int, _ status: Int, _ body: String, note: String = "") -> ShardRouter.ShardAnswer {
        ShardRouter.ShardAnswer(shard: shard, status: status, body: Array(body.utf8), note: note)
    }

    @Test func fanOutAnswers() throws {
        // Every shard acknowledged: shard 0's result on top, each shard's in `shards`.
        let ok = ShardRouter.outcome([Self.answer(0, 200, #"{"sequence":7,"duplicate":true,"events":[]}"#),
                                      Self.answer(1, 200, #"{"sequence":9,"duplicate":false,"events":[{"type":"mark_price"}]}"#)])
        #expect(ok.status == .ok && !ok.retryAfter)
        let body = try JSONParser.parse(Array(ok.body.utf8))
        #expect(body["sequence"] == .number("7"))
        #expect(body["duplicate"] == .bool(false), "a duplicate only when every shard had it")
        guard case .array(let shards)? = body["shards"] else { Issue.record("no shards: \(ok.body)"); return }
        #expect(shards.count == 2)
        #expect(shards[1]["sequence"] == .number("9"))
        #expect(shards[1]["duplicate"] == .bool(false))
        let both = ShardRouter.outcome([Self.answer(0, 200, #"{"sequence":7,"duplicate":true,"events":[]}"#),
                                        Self.answer(1, 200, #"{"sequence":9,"duplicate":true,"events":[]}"#)])
        #expect(try JSONParser.parse(Array(both.body.utf8))["duplicate"] == .bool(true))

        // Every shard refused it the same way: that answer, as is.
        let refused = ShardRouter.outcome([Self.answer(0, 403, #"{"error":"forbidden"}"#), Self.answer(1, 403, #"{"error":"forbidden"}"#)])
        #expect(refused.status == .forbidden && refused.body == #"{"error":"forbidden"}"#)

        // One shard did not acknowledge: 503 + Retry-After naming it and the shards that did.
        let partial = ShardRouter.outcome([Self.answer(0, 200, #"{"sequence":7,"duplicate":false,"events":[]}"#),
                                           Self.answer(1, 0, "", note: "shard 1 has no leader")])
        #expect(partial.status == .serviceUnavailable && partial.retryAfter)
        #expect(partial.body.contains("shard 1 has no leader") && partial.body.contains("acknowledged by shards [0]"))
        // Different refusals are not passed through as one.
        let mixed = ShardRouter.outcome([Self.answer(0, 400, "{}"), Self.answer(1, 403, "{}")])
        #expect(mixed.status == .serviceUnavailable)
        #expect(ShardRouter.outcome([]).status == .serviceUnavailable, "no shard answered: not an acknowledgement")
    }
}
