import Foundation
import SolventCore
import SolventEngine
@testable import SolventJournal
import Testing

/// Snapshots of sharded engines (docs/cluster.md, stage 2): the shard state (configuration,
/// message counter, applied message ids, transfers, rankings) restores from the binary layout
/// to the same state hash, and a repeat of an applied message is still ignored after the restore.
@Suite struct ShardSnapshotTests {
    @Test func shardStatesRoundTrip() throws {
        let json = """
        {"start":{"time":"2020-03-12T00:00:00Z","policy":{"warning_ratio":"0.70","call_ratio":"0.85","restore_ratio":"0.70"},
          "assets":{"USDT":"1"},"haircuts":{},
          "instruments":[{"symbol":"BTCUSDT","kind":"linear_perpetual","base":"BTC","settle":"USDT","contract_size":"1",
            "brackets":[{"notional_floor":"0","notional_cap":"100000000","max_leverage":"125","mmr":"0.004"}]}],
          "marks":{"BTCUSDT":"8000"},
          "accounts":[{"id":"l1","settle":"USDT","collateral":{"USDT":"4000"},"positions":[{"symbol":"BTCUSDT","quantity":"10","entry_price":"8000","leverage":"20"}]},
                      {"id":"l2","settle":"USDT","collateral":{"USDT":"2500"},"positions":[{"symbol":"BTCUSDT","quantity":"5","entry_price":"8000","leverage":"20"}]},
                      {"id":"s1","settle":"USDT","collateral":{"USDT":"20000"},"positions":[{"symbol":"BTCUSDT","quantity":"-10","entry_price":"8000","leverage":"5"}]},
                      {"id":"s2","settle":"USDT","collateral":{"USDT":"5000"},"positions":[{"symbol":"BTCUSDT","quantity":"-5","entry_price":"8000","leverage":"10"}]}]},
         "insurance_fund":{"USDT":"200"},
         "parameters":{"execution":"depth","mark_staleness_ms":300000,"oracle_divergence_limit":"0.1"},
         "commands":[
          {"time":"2020-03-12T00:00:01Z","type":"index","symbol":"BTCUSDT","price":"8000"},
          {"time":"2020-03-12T00:00:01Z","type":"mark","symbol":"BTCUSDT","price":"8000"},
          {"time":"2020-03-12T00:01:00Z","type":"book","symbol":"BTCUSDT","bids":[["7300","3"],["7100","4"],["6900","20"]],"asks":[["7600","10"]]},
          {"time":"2020-03-12T00:01:00Z","type":"index","symbol":"BTCUSDT","price":"7500"},
          {"time":"2020-03-12T00:01:00Z","type":"mark","symbol":"BTCUSDT","price":"7500"}]}
        """
        let scenario = try SolventEngine.Scenario.decode(JSONParser.parse(json))
        var simulation = try ShardedSimulation(scenario: scenario, count: 2)
        for command in scenario.commands { simulation.apply(command) }
        simulation.deliverAll()
        var checked = 0
        for (k, engine) in simulation.shards.enumerated() {
            let shard = try #require(engine.state.shardStorage)
            #expect(shard.configuration == ShardConfiguration(index: k, count: 2))
            let snapshot = try Snapshot.of(engine, sequence: Int64(simulation.journals[k].count))
            let restored = try #require(snapshot.restoredEngine())
            #expect(restored.state.shardStorage == shard && restored.stateHash() == engine.stateHash())
            // A message this shard applied, delivered again after the restore: ignored.
            guard let message = simulation.delivered.first(where: { $0.to == k }) else { continue }
            var copy = restored
            let events = copy.apply(message.deliverCommand(at: engine.state.time))
            #expect(events.contains { $0.kind == .messageIgnored } && !events.contains { $0.kind == .messageApplied })
            checked += 1
        }
        #expect(checked == 2)
    }
}
