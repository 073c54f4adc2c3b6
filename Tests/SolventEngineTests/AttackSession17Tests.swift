import Foundation
import SolventCore
import SolventEngine
import Testing

/// Session 17's outside attack on the sharded waterfall (docs/cluster.md, stage 2): every
/// message a shard sends about an in-contract state is accepted by its receiver, and money is
/// conserved across shards once everything is delivered.
@Suite struct AttackSession17Tests {
    /// An account id that `ShardAssignment` puts in shard `k` of `n`.
    static func account(in k: Int, of n: Int, prefix: String) -> String {
        var m = 0
        while ShardAssignment.shard(of: "\(prefix)\(m)", count: n) != k { m += 1 }
        return "\(prefix)\(m)"
    }

    static let policy = #""policy":{"warning_ratio":"0.70","call_ratio":"0.85","restore_ratio":"0.70"}"#

    static func linear(_ symbol: String, contractSize: String) -> String {
        #"{"symbol":"\#(symbol)","kind":"linear_perpetual","base":"BTC","settle":"USDT","contract_size":"\#(contractSize)","brackets":[{"notional_floor":"0","notional_cap":"1000000000000000","max_leverage":"125","mmr":"0.004"}]}"#
    }

    /// Eleven 1e9-BTC longs at 1e8 (each inside the contract: size 1e9, price 1e8) in one account
    /// of shard 1 of 2; the marks fall to 1e-8 while no book can take them, then books at 1e-8
    /// close them all: the cross pool's deficit is 11 × (1e17 − 10) − 1e15 ≈ 1.099e18.
    static func elevenLongs(id: String) throws -> Scenario {
        let symbols = (0..<11).map { "P\($0)" }
        let marks = symbols.map { #""\#($0)":"100000000""# }.joined(separator: ",")
        let positions = symbols.map { #"{"symbol":"\#($0)","quantity":"1000000000","entry_price":"100000000","leverage":"1000"}"# }.joined(separator: ",")
        var commands: [String] = []
        for s in symbols {
            commands.append(#"{"time":"2020-03-12T00:00:01Z","type":"index","symbol":"\#(s)","price":"0.00000001"}"#)
            commands.append(#"{"time":"2020-03-12T00:00:01Z","type":"mark","symbol":"\#(s)","price":"0.00000001"}"#)
        }
        for s in symbols {
            commands.append(#"{"time":"2020-03-12T00:00:02Z","type":"book","symbol":"\#(s)","bids":[["0.00000001","1000000000"]],"asks":[["0.00000002","1000000000"]]}"#)
        }
        commands.append(#"{"time":"2020-03-12T00:00:03Z","type":"tick"}"#)
        let json = """
        {"start":{"time":"2020-03-12T00:00:00Z",\(policy),"assets":{"USDT":"1","BTC":"8000"},
          "instruments":[\(symbols.map { linear($0, contractSize: "1") }.joined(separator: ","))],
          "marks":{\(marks)},
          "accounts":[{"id":"\(id)","settle":"USDT","collateral":{"USDT":"1000000000000000"},"positions":[\(positions)]}]},
         "insurance_fund":{"USDT":"1000"},
         "parameters":{"execution":"depth","mark_staleness_ms":300000,"adl":true},
         "commands":[\(commands.joined(separator: ","))]}
        """
        return try Scenario.decode(JSONParser.parse(Array(json.utf8)))
    }

    /// Runs `scenario` over `count` shards, delivering everything after each command in order.
    static func run(_ scenario: Scenario, count: Int) throws -> ShardedSimulation {
        var simulation = try ShardedSimulation(scenario: scenario, count: count)
        for command in scenario.commands {
            simulation.apply(command)
            simulation.deliverAll()
        }
        return simulation
    }

    static func rejections(_ simulation: ShardedSimulation) -> [String] {
        simulation.events.flatMap { $0.filter { $0.kind == .rejected }.map(\.json) }
    }

    /// Before the fix the whole deficit went in one `fund_draw` of 1.099e18; the fund shard
    /// refused it (1009 `body.amount`, above the 1e18 a delivery may carry) after the account's
    /// shard had credited the account that deficit: 1.099e18 USDT created (held 1.1e18 + 890
    /// across shards against 1e15 + 1000 of inflows). Now the claim goes in parts of ≤ 1e18,
    /// each accepted: the fund pays its 1000 once, the rest is the clearing side's bad debt.
    @Test func deficitAbove1e18IsClaimedInParts() throws {
        let id = Self.account(in: 1, of: 2, prefix: "x")
        let simulation = try Self.run(Self.elevenLongs(id: id), count: 2)
        let draws = simulation.delivered.compactMap { message -> FundDraw? in if case .fundDraw(let d) = message.body { d } else { nil } }
        #expect(draws.count == 2, "\(draws.map(\.amount))")
        #expect(draws.allSatisfy { $0.amount <= FixedDecimal("1000000000000000000")! })
        let claimed = draws.reduce(FixedDecimal.zero) { $0 + $1.amount }
        #expect(claimed > FixedDecimal("1000000000000000000")!)
        #expect(draws.first?.fills.isEmpty == false && draws.dropFirst().allSatisfy { $0.fills.isEmpty })
        #expect(Self.rejections(simulation).isEmpty, "\(Self.rejections(simulation))")
        #expect(simulation.heldAcrossShards(0) == simulation.inflowsAcrossShards(0))
        let fund = simulation.shards[0].state
        #expect(fund.totals[0].insuranceFund.isZero)
        #expect(fund.shardStorage?.badDebt[0] == RunningTotal(claimed - FixedDecimal(1000)))
    }

    /// A contract of 0.01 BTC: 2e9 contracts are a size of 2e7 (inside the contract, ≤ 1e9). The
    /// fund shard counted contracts, not size, against 1e9: the long's `fund_draw` (fills of 2e9
    /// contracts) was refused — its deficit created — and so were the short's `adl_candidates`
    /// (quantity −2e9) and the `adl_reduce` of 1.99…e9 contracts. Now bounded as sizes, all apply:
    /// the short is deleveraged at the bankruptcy price, and money is conserved.
    @Test func smallContractMessagesAreBoundedBySize() throws {
        let long = Self.account(in: 1, of: 2, prefix: "l"), short = Self.account(in: 1, of: 2, prefix: "s")
        let json = """
        {"start":{"time":"2020-03-12T00:00:00Z",\(Self.policy),"assets":{"USDT":"1","BTC":"100"},
          "instruments":[\(Self.linear("D", contractSize: "0.01"))], "marks":{"D":"100"},
          "accounts":[{"id":"\(long)","settle":"USDT","collateral":{"USDT":"100000000"},"positions":[{"symbol":"D","quantity":"2000000000","entry_price":"100","leverage":"20"}]},
                      {"id":"\(short)","settle":"USDT","collateral":{"USDT":"1000000000000"},"positions":[{"symbol":"D","quantity":"-2000000000","entry_price":"100","leverage":"20"}]}]},
         "insurance_fund":{"USDT":"1000"},
         "parameters":{"execution":"depth","mark_staleness_ms":300000,"adl":true},
         "commands":[
          {"time":"2020-03-12T00:00:01Z","type":"book","symbol":"D","bids":[["46","3000000000"]],"asks":[["60","3000000000"]]},
          {"time":"2020-03-12T00:00:01Z","type":"index","symbol":"D","price":"50"},
          {"time":"2020-03-12T00:00:01Z","type":"mark","symbol":"D","price":"50"},
          {"time":"2020-03-12T00:00:02Z","type":"tick"}]}
        """
        let simulation = try Self.run(Scenario.decode(JSONParser.parse(Array(json.utf8))), count: 2)
        #expect(Self.rejections(simulation).isEmpty, "\(Self.rejections(simulation))")
        let kinds = Set(simulation.delivered.map(\.body.typeName))
        #expect(kinds.isSuperset(of: ["fund_draw", "adl_candidates", "adl_reduce"]), "\(kinds)")
        let deleveraged = simulation.events[1].filter { $0.kind == .autoDeleveraged && $0.account == short }
        #expect(!deleveraged.isEmpty)
        #expect(simulation.heldAcrossShards(0) == simulation.inflowsAcrossShards(0))
    }
}
