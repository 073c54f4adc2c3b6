public import SolventCore

/// N engines, one per shard, run in one process on one scenario (docs/cluster.md, stage 2): the
/// deterministic model of a sharded cluster. An account's command goes to its shard
/// (`ShardAssignment`), every other command (prices, books, funding, parameters, time) to every
/// shard; each `outbox_message` an engine emits waits in `pending` until `deliver` (or
/// `deliverAll`) appends the `deliver` command to its receiver — in emission order or a seeded
/// order, possibly repeated, as a cluster's at-least-once delivery would.
public struct ShardedSimulation: Sendable {
    /// The scenario every shard starts from (with its own `shard`).
    public let scenario: Scenario
    public private(set) var shards: [Engine]
    /// Each shard's commands, in order: its journal (replaying them on a fresh shard gives its state).
    public private(set) var journals: [[TimedCommand]]
    /// Messages sent and not yet delivered, in emission order.
    public private(set) var pending: [OutboxMessage] = []
    /// Messages delivered at least once (kept so that a repeat can be delivered).
    public private(set) var delivered: [OutboxMessage] = []
    /// Every event, per shard.
    public private(set) var events: [[EngineEvent]]
    /// Simulation time: the latest command time seen.
    public private(set) var time: Int64

    /// Shards `0 ..< count` of `scenario` (its starting accounts split by `ShardAssignment`, the
    /// opening fund in shard 0). Its `commands` are not applied (`apply` them).
    public init(scenario: Scenario, count: Int, fullRescan: Bool = false) throws(InputError) {
        self.scenario = scenario
        var engines: [Engine] = []
        for k in 0..<count {
            var s = scenario
            s.shard = ShardConfiguration(index: k, count: count)
            engines.append(try s.makeEngine(fullRescan: fullRescan))
        }
        shards = engines
        journals = Array(repeating: [], count: count)
        events = Array(repeating: [], count: count)
        time = scenario.startTime
    }

    /// The shards a command goes to: its account's, or every shard.
    public func route(_ command: EngineCommand) -> [Int] {
        if let account = command.account { return [ShardAssignment.shard(of: account, count: shards.count)] }
        return Array(shards.indices)
    }

    /// Applies a client or market command to the shard(s) it is routed to; returns their events.
    @discardableResult
    public mutating func apply(_ timed: TimedCommand) -> [EngineEvent] {
        time = Swift.max(time, timed.time)
        var all: [EngineEvent] = []
        for k in route(timed.command) { all += run(timed, on: k) }
        return all
    }

    /// Applies `timed` to shard `k` (journaled), collecting the messages it sends.
    mutating func run(_ timed: TimedCommand, on k: Int) -> [EngineEvent] {
        let emitted = shards[k].apply(timed)
        journals[k].append(timed)
        events[k] += emitted
        for event in emitted { if let message = OutboxMessage(event: event) { pending.append(message) } }
        return emitted
    }

    /// Delivers `pending[n]` to its receiver (at the simulation time, or the receiver's if later).
    @discardableResult
    public mutating func deliver(_ n: Int) -> [EngineEvent] {
        let message = pending.remove(at: n)
        delivered.append(message)
        return run(message.deliverCommand(at: Swift.max(time, shards[message.to].state.time)), on: message.to)
    }

    /// Delivers `delivered[n]` again (an at-least-once repeat: its receiver ignores it).
    @discardableResult
    public mutating func redeliver(_ n: Int) -> [EngineEvent] {
        let message = delivered[n]
        return run(message.deliverCommand(at: Swift.max(time, shards[message.to].state.time)), on: message.to)
    }

    /// Delivers until nothing is pending (deliveries send more messages): in emission order
    /// without `random`, else each time a pending message picked by `random`, and after a
    /// delivery, with probability `repeatRate`, a repeat of an already delivered one.
    public mutating func deliverAll<R: RandomNumberGenerator>(using random: inout R, repeatRate: Double = 0) {
        while !pending.isEmpty {
            deliver(Int.random(in: 0..<pending.count, using: &random))
            if repeatRate > 0, Double.random(in: 0..<1, using: &random) < repeatRate {
                redeliver(Int.random(in: 0..<delivered.count, using: &random))
            }
        }
    }

    /// Delivers until nothing is pending, in emission order (no repeats).
    public mutating func deliverAll() {
        while !pending.isEmpty { deliver(0) }
    }

    /// Money of asset `a` held across shards — Σ (balances + fund + fees + external + lender
    /// income) — plus what undelivered messages carry to their receivers. Conserved: it equals
    /// Σ (opening + deposited − withdrawn) at every step.
    public func heldAcrossShards(_ a: Int) -> RunningTotal {
        let symbol = shards[0].state.market.assets[a].symbol
        var total = RunningTotal.zero
        for engine in shards {
            let t = engine.state.totals[a]
            total = total + RunningTotal(engine.state.balances(of: a)) + t.insuranceFund + t.fees + t.external + engine.state.lenderIncome(of: a)
        }
        for message in pending { if let (asset, amount) = message.body.transfer, asset == symbol { total += amount } }
        return total
    }

    /// Σ over shards of `opening + deposited − withdrawn` in asset `a`.
    public func inflowsAcrossShards(_ a: Int) -> RunningTotal {
        var total = RunningTotal.zero
        for engine in shards {
            let t = engine.state.totals[a]
            total = total + (t.opening + t.deposited - t.withdrawn)
        }
        return total
    }
}
