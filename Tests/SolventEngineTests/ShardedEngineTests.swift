@_spi(Internals) import PropertyBased
import Foundation
import SolventCore
import SolventEngine
import Testing

/// Shards, engine side (docs/cluster.md "Stage 2"; issue 19): 1 of 1 is today's engine, `deliver`
/// is an idempotent consumer with typed rejections, and a scenario run over 2 shards ends with the
/// money of a single node, while money is conserved across shards at every step.
@Suite struct ShardedEngineTests {
    // MARK: 1 of 1

    /// Every example scenario, run as it is and with `"shard": {"index": 0, "count": 1}`: the same
    /// events, byte for byte, and the same state hash; no shard state is kept.
    @Test func oneShardIsTodaysEngine() throws {
        let folder = packageRoot.appendingPathComponent("Examples/scenarios")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        var compared = 0
        for name in names {
            let bytes = try [UInt8](Data(contentsOf: folder.appendingPathComponent(name)))
            guard case .object(var members) = try JSONParser.parse(bytes) else { Issue.record("\(name) is not an object"); continue }
            let plain = try Scenario.decode(.object(members))
            members.append((key: "shard", value: .object([(key: "index", value: .number("0")), (key: "count", value: .number("1"))])))
            let configured = try Scenario.decode(.object(members))
            #expect(configured.shard == .single)
            var a = try plain.makeEngine(), b = try configured.makeEngine()
            for command in plain.commands {
                #expect(a.apply(command).map(\.json) == b.apply(command).map(\.json), "\(name)")
            }
            #expect(a.stateHash() == b.stateHash(), "\(name)")
            #expect(b.state.shardStorage == nil && b.canonicalState() == a.canonicalState())
            compared += 1
        }
        #expect(compared >= 10)
    }

    // MARK: deliver

    /// Malformed deliveries are rejected naming the field, and change nothing but the counters.
    @Test func deliveryRejections() throws {
        var one = try crashScenario(accounts: ["l2"], fund: "0", adl: true).makeEngine()
        #expect(rejectedField(one.apply(shardDeliver("s1-1", from: 1, .fundCredit(asset: "USDT", amount: 1, account: "x")))) == "type")
        var shard0 = try shardEngine(0, of: 2), shard1 = try shardEngine(1, of: 2)
        let credit = OutboxBody.fundCredit(asset: "USDT", amount: 1, account: "l2")
        func rejects(_ engine: inout Engine, _ command: TimedCommand, _ expected: String) {
            let before = engine.state
            let events = engine.apply(command)
            #expect(rejectedField(events) == expected, "\(command.command)")
            #expect(engine.state.shardStorage == before.shardStorage && engine.state.totals == before.totals && engine.state.accounts == before.accounts)
        }
        rejects(&shard0, shardDeliver("s0-1", from: 0, credit), "from_shard")  // from itself
        rejects(&shard0, shardDeliver("s2-1", from: 2, credit), "from_shard")  // no shard 2 of 2
        rejects(&shard0, shardDeliver("s1-0", from: 1, credit), "message_id")
        rejects(&shard0, shardDeliver("s0-1", from: 1, credit), "message_id")  // another sender's id
        rejects(&shard0, shardDeliver("s1-01", from: 1, credit), "message_id")
        rejects(&shard1, shardDeliver("s0-1", from: 0, credit), "body.type")  // a fund credit is for the fund shard
        rejects(&shard0, shardDeliver("s1-1", from: 1, .socialize(asset: "USDT", symbol: "BTCUSDT", bankruptAccount: "l2", charges: [])), "from_shard")
        rejects(&shard1, shardDeliver("s0-1", from: 0, .adlReduce(account: "s2", symbol: "BTCUSDT", quantity: 1, price: 7600, bankruptAccount: "l1", deficitCovered: 0)),
                "body.account")  // s2 lives in shard 0
        rejects(&shard1, shardDeliver("s0-1", from: 0, .adlReduce(account: "s1", symbol: "NOPE", quantity: 1, price: 7600, bankruptAccount: "l1", deficitCovered: 0)),
                "body.symbol")
        rejects(&shard0, shardDeliver("s1-1", from: 1, .fundCredit(asset: "DOGE", amount: 1, account: "l2")), "body.asset")
        rejects(&shard0, shardDeliver("s1-1", from: 1, .fundCredit(asset: "USDT", amount: FixedDecimal("10000000000000000000")!, account: "l2")), "body.amount")  // the range contract
        let tooMany = FundDraw(asset: "USDT", amount: 1, account: "l2", symbol: "BTCUSDT", side: 1, bankruptcyPrice: 7500,
                               fills: [BookLevel(price: 7300, quantity: 600_000_000), BookLevel(price: 7100, quantity: 600_000_000)])
        rejects(&shard0, shardDeliver("s1-1", from: 1, .fundDraw(tooMany)), "body.fills")  // more than 1e9 contracts in one step
        rejects(&shard1, shardDeliver("s0-1", from: 0, .socialize(asset: "USDT", symbol: "BTCUSDT", bankruptAccount: "l2",
                                                                  charges: Array(repeating: SocializeCharge(account: "s1", amount: FixedDecimal("600000000000000000")!), count: 2))),
                "body.charges")  // together more than 1e18
        // The scenario shape: an unknown body is an input error naming its path.
        let json = try JSONParser.parse(#"{"type":"deliver","message_id":"s1-1","from_shard":1,"body":{"type":"refund","asset":"USDT"}}"#)
        var decoded = false
        do { _ = try Scenario.decodeCommand(JSONReader(json, path: "c"), assetIndex: [:], defaultTime: 0); decoded = true } catch { #expect(error.path == "c.body.type") }
        #expect(!decoded)
    }

    /// A message is applied once: a repeat is `message_ignored` and changes nothing; numbers
    /// arriving out of order are remembered and compacted.
    @Test func idempotentConsumer() throws {
        var fund = try shardEngine(0, of: 2)
        func credit(_ n: Int) -> TimedCommand { shardDeliver("s1-\(n)", from: 1, .fundCredit(asset: "USDT", amount: FixedDecimal(n), account: "l2")) }
        let opening = fund.state.totals[0].insuranceFund  // 200
        #expect(Array(fund.apply(credit(2)).map(\.kind).prefix(2)) == [.messageApplied, .insuranceFundContribution])
        let once = fund.state.totals[0].insuranceFund
        #expect(once == opening + FixedDecimal(2))
        let hash = fund.canonicalState()
        #expect(fund.apply(credit(2)).map(\.kind).filter { $0 != .liquidationsPaused && $0 != .liquidationsResumed } == [.messageIgnored])
        #expect(fund.state.totals[0].insuranceFund == once)
        #expect(fund.canonicalState() != hash)  // only the counters moved
        #expect(fund.state.shardStorage?.delivered[1]?.through == 0 && fund.state.shardStorage?.delivered[1]?.beyond == [2])
        _ = fund.apply(credit(1))
        _ = fund.apply(credit(3))
        #expect(fund.state.shardStorage?.delivered[1]?.through == 3 && fund.state.shardStorage?.delivered[1]?.beyond == [])
        #expect(fund.state.totals[0].insuranceFund == opening + FixedDecimal(6))  // 1 + 2 + 3, each once
        #expect(fund.apply(credit(1)).map(\.kind).filter { $0 != .liquidationsPaused && $0 != .liquidationsResumed } == [.messageIgnored])
        // The shard state is in the state hash, and survives a snapshot (the state's Codable form) and a restore.
        let data = try JSONEncoder().encode(fund.state)
        let restored = Engine(restoring: try JSONDecoder().decode(EngineState.self, from: data))
        #expect(restored.stateHash() == fund.stateHash() && restored.state.shardStorage == fund.state.shardStorage)
        var other = fund
        _ = other.apply(credit(9))
        #expect(other.stateHash() != fund.stateHash())
    }

    /// Every body survives the canonical encoding and the scenario decoder (what the receiver's
    /// journal stores and replays), amounts past the 10^15 of client input and a saturated ADL score included.
    @Test func messagesRoundTrip() throws {
        let big = FixedDecimal("50000000000000000")!  // 5e16: a profit a 1e9-contract position can hold
        let bodies: [OutboxBody] = [
            .fundDraw(FundDraw(asset: "USDT", amount: big, account: "l1", symbol: "BTCUSDT", side: 1, bankruptcyPrice: 7600,
                               fills: [BookLevel(price: 7300, quantity: FixedDecimal("0.66666666")!), BookLevel(price: 7100, quantity: 4)])),
            .fundDraw(FundDraw(asset: "USDT", amount: 1, account: "l1")),
            .fundCredit(asset: "USDT", amount: FixedDecimal("0.000000000000000001")!, account: "t2"),
            .adlReduce(account: "s1", symbol: "BTCUSDT", quantity: FixedDecimal("-4.33333334")!, price: 7600, bankruptAccount: "l1", deficitCovered: big),
            .socialize(asset: "USDT", symbol: "BTCUSDT", bankruptAccount: "l2", charges: [SocializeCharge(account: "s1", amount: 800)]),
            .adlCandidates(symbol: "BTCUSDT", candidates: [AdlCandidate(account: "s1", quantity: -10, score: .max, profit: big, settle: "USDT"),
                                                           AdlCandidate(account: "l1", quantity: 10, score: FixedDecimal("-0.0125")!, profit: -5000, settle: "USDT")]),
        ]
        var checked = 0
        for (n, body) in bodies.enumerated() {
            let message = OutboxMessage(id: "s1-\(n + 1)", from: 1, to: 0, body: body)
            let command = message.deliverCommand(at: 1_584_000_060_000)
            let decoded = try Scenario.decodeCommand(JSONReader(JSONParser.parse(command.canonicalJSON), path: "c"), assetIndex: [:], defaultTime: 0)
            #expect(decoded.command == command.command && decoded.time == command.time, "\(body.typeName)")
            checked += 1
        }
        #expect(checked == bodies.count)
    }

    // MARK: sharded against single node

    /// A liquidation in shard 1 whose deficit the fund (in shard 0) covers: after every delivery,
    /// the balances, the fund and the external totals equal the single node's.
    @Test func fundCoversDeficit() throws {
        let scenario = try crashScenario(accounts: ["l2", "s1", "s2"], fund: "100000", adl: true)
        let (single, sharded) = try runBoth(scenario, count: 2)
        let draws = sharded.events[1].compactMap(OutboxMessage.init(event:)).filter { if case .fundDraw = $0.body { true } else { false } }
        #expect(draws.count == 1 && draws[0].to == 0)
        if case .fundDraw(let draw)? = draws.first?.body { #expect(draw.amount == FixedDecimal(1400) && draw.account == "l2") }  // 2500 − (3·700 + 2·900)
        expectSameMoney(single, sharded)
        #expect(sharded.shards[0].state.totals[0].insuranceFund == FixedDecimal(98_600))
    }

    /// ADL (the fund is too small): bankrupt longs in both shards, their ADL counterparties in the
    /// other shard. The same quantities are deleveraged at the same bankruptcy prices, and the
    /// money per asset ends as on a single node.
    @Test func autoDeleveragingAcrossShards() throws {
        let scenario = try crashScenario(accounts: ["l1", "l2", "s1", "s2"], fund: "200", adl: true)
        #expect(ShardAssignment.shard(of: "l1", count: 2) == 0 && ShardAssignment.shard(of: "s1", count: 2) == 1)
        #expect(ShardAssignment.shard(of: "l2", count: 2) == 1 && ShardAssignment.shard(of: "s2", count: 2) == 0)
        let (single, sharded) = try runBoth(scenario, count: 2)
        let adlSingle = adlByCounterparty(single.1), adlSharded = adlByCounterparty(sharded.events.flatMap { $0 })
        #expect(!adlSingle.isEmpty && adlSingle == adlSharded)  // per (counterparty, price): the total quantity
        let reductions = sharded.delivered.filter { if case .adlReduce = $0.body { true } else { false } }
        #expect(reductions.contains { $0.from == 0 && $0.to == 1 })  // l1's counterparty s1 is in shard 1
        expectSameMoney(single, sharded)
    }

    /// Socialized loss (no ADL, a small fund): the profitable shorts of both shards pay the rest
    /// of the deficit in proportion to their profit, the same shares as on one node.
    @Test func socializedLossAcrossShards() throws {
        let scenario = try crashScenario(accounts: ["l2", "s1", "s2"], fund: "200", adl: false)
        let (single, sharded) = try runBoth(scenario, count: 2)
        // 1400 deficit − 200 fund = 1200 over profits 5000 (s1) and 2500 (s2): 800 and 400.
        #expect(socializedByAccount(single.1) == ["s1": FixedDecimal(800), "s2": FixedDecimal(400)])
        #expect(socializedByAccount(sharded.events.flatMap { $0 }) == ["s1": FixedDecimal(800), "s2": FixedDecimal(400)])
        expectSameMoney(single, sharded)
    }

    /// A liquidation fee (a pool's surplus) in shard 1 reaches the fund in shard 0 by `fund_credit`.
    @Test func feeReachesFundShard() throws {
        var scenario = try crashScenario(accounts: ["t2"], fund: "0", adl: true)
        scenario.commands = scenario.commands.map { command in
            guard case .book(let symbol, _, let asks) = command.command else { return command }
            return TimedCommand(time: command.time, command: .book(symbol: symbol, bids: [BookLevel(price: 7499, quantity: 5)], asks: asks))
        }
        let (single, sharded) = try runBoth(scenario, count: 2)
        // t2: 1 long at 8000 with 520: at 7500 equity 20 ≤ MM 30; sold at 7499, 19 left; fee min(0.005·7499, 19) = 19.
        #expect(single.0.state.totals[0].insuranceFund == FixedDecimal(19))
        #expect(sharded.delivered.map(\.body.typeName).contains("fund_credit"))
        expectSameMoney(single, sharded)
    }

    // MARK: property

    /// Totality: hostile deliveries (random senders, ids, bodies, accounts of any shard, amounts up
    /// to past the bounds) to the shards of a crash, mixed with its commands. Each is applied or
    /// rejected naming a field, never traps; the debug invariants (each shard's identity with its
    /// transfers, the shard state) hold after every one (`apply` checks them in test builds).
    @Test(.shrinking(false)) func hostileDeliveries() async {
        let applied = Counter(), rejected = Counter()
        await propertyCheck(count: 20, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            var engines = (0..<2).map { try! shardEngine($0, of: 2) }
            let scenario = try! crashScenario(accounts: ["l1", "l2", "s1", "s2"], fund: "200", adl: true)
            let accounts = ["l1", "l2", "s1", "s2", "t9", "x"]
            func amount() -> FixedDecimal {
                [FixedDecimal("0.000000000000000001")!, 1, 7, 1400, FixedDecimal("123456.789")!, FixedDecimal("1000000000000000000")!,
                 FixedDecimal("1000000000000000001")!, -5][Int.random(in: 0..<8, using: &rng)]
            }
            func pick<T>(_ values: [T]) -> T { values[Int.random(in: 0..<values.count, using: &rng)] }
            var time: Int64 = 1_584_000_000_000
            for step in 0..<60 {
                time += Int64.random(in: 0...20_000, using: &rng)
                if step % 12 == 0, step / 12 < scenario.commands.count {
                    let command = scenario.commands[step / 12]
                    for k in 0..<2 { _ = engines[k].apply(TimedCommand(time: Swift.max(time, command.time), command: command.command)) }
                    continue
                }
                let body: OutboxBody
                switch Int.random(in: 0..<5, using: &rng) {
                case 0:
                    body = .fundDraw(FundDraw(asset: pick(["USDT", "BTC"]), amount: amount(), account: pick(accounts), symbol: pick(["BTCUSDT", ""]),
                                              side: pick([1, -1, 0]), bankruptcyPrice: pick([nil, 7600, 1, 100_000_000]),
                                              fills: (0..<Int.random(in: 0...3, using: &rng)).map { _ in BookLevel(price: pick([7300, 7100, 9000, 1]), quantity: pick([1, 3, 1_000_000_000])) }))
                case 1: body = .fundCredit(asset: pick(["USDT", "BTC"]), amount: amount(), account: pick(accounts))
                case 2: body = .adlReduce(account: pick(accounts), symbol: "BTCUSDT", quantity: pick([1, -1, 4, -20, 1_000_000_000]), price: pick([7600, 7500, 1]),
                                          bankruptAccount: pick(accounts), deficitCovered: pick([0, 100]))
                case 3: body = .socialize(asset: "USDT", symbol: pick(["BTCUSDT", ""]), bankruptAccount: pick(accounts),
                                          charges: (0..<Int.random(in: 0...3, using: &rng)).map { _ in SocializeCharge(account: pick(accounts), amount: amount()) })
                default: body = .adlCandidates(symbol: "BTCUSDT", candidates: [AdlCandidate(account: pick(accounts), quantity: pick([-10, 5, -1_000_000_000]), score: pick([0, 3, .max]),
                                                                                            profit: amount(), settle: "USDT")])
                }
                let from = Int.random(in: 0...2, using: &rng), to = Int.random(in: 0..<2, using: &rng)
                let id = pick(["s\(from)-\(Int.random(in: 1...6, using: &rng))", "s\(from)-0", "x"])
                let events = engines[to].apply(TimedCommand(time: time, command: .deliver(messageID: id, fromShard: from, body: body)))
                if events.contains(where: { $0.kind == .rejected }) { rejected.add(1) } else { applied.add(1) }
            }
            for engine in engines { #expect(engine.invariantViolation() == nil, "seed \(seed)") }
        }
        #expect(applied.value > 0 && rejected.value > 0)
    }

    /// Random books and price paths over 2–3 shards, messages delivered in a random order with
    /// repeats: per asset, Σ shards (balances + fund + fees + external + lender income) + what
    /// undelivered messages carry = Σ (opening + deposited − withdrawn) after every step; every
    /// message is applied exactly once; each shard's journal replays to its state hash.
    @Test(.shrinking(false)) func conservedAcrossShards() async {
        let checked = Counter(), messages = Counter(), draws = Counter(), reductions = Counter(), shares = Counter()
        await propertyCheck(count: 8, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            let count = Int.random(in: 2...3, using: &rng)
            let scenario = randomShardScenario(seed: seed)
            guard var simulation = try? ShardedSimulation(scenario: scenario, count: count) else { Issue.record("seed \(seed)"); return }
            let assets = simulation.shards[0].state.market.assets.indices
            func conserved() -> Bool {
                assets.allSatisfy { simulation.heldAcrossShards($0) == simulation.inflowsAcrossShards($0) }
            }
            for command in scenario.commands {
                simulation.apply(command)
                #expect(conserved(), "seed \(seed) after \(command.command)")
                // Deliver part of what is pending, in a random order, sometimes twice.
                for _ in 0..<Int.random(in: 0...simulation.pending.count, using: &rng) where !simulation.pending.isEmpty {
                    simulation.deliver(Int.random(in: 0..<simulation.pending.count, using: &rng))
                    if Bool.random(using: &rng), !simulation.delivered.isEmpty { simulation.redeliver(Int.random(in: 0..<simulation.delivered.count, using: &rng)) }
                    #expect(conserved(), "seed \(seed) delivering")
                }
                checked.add(1)
            }
            simulation.deliverAll(using: &rng, repeatRate: 0.3)
            #expect(conserved(), "seed \(seed) at the end")
            // Exactly once: one `message_applied` per message sent, whatever the repeats.
            var applied: [String: Int] = [:]
            for event in simulation.events.flatMap({ $0 }) where event.kind == .messageApplied { applied[event.text("message_id")!, default: 0] += 1 }
            let sent = simulation.events.flatMap { $0 }.compactMap(OutboxMessage.init(event:)).map(\.id)
            #expect(Set(sent).count == sent.count && applied.count == sent.count && applied.values.allSatisfy { $0 == 1 }, "seed \(seed)")
            messages.add(sent.count)
            for message in simulation.delivered {
                switch message.body {
                case .fundDraw: draws.add(1)
                case .adlReduce: reductions.add(1)
                case .socialize: shares.add(1)
                default: break
                }
            }
            // Each shard is a pure function of its journal.
            for k in 0..<count {
                var s = scenario
                s.shard = ShardConfiguration(index: k, count: count)
                guard var replay = try? s.makeEngine() else { continue }
                for command in simulation.journals[k] { _ = replay.apply(command) }
                #expect(replay.stateHash() == simulation.shards[k].stateHash(), "seed \(seed) shard \(k)")
            }
        }
        #expect(checked.value > 0 && messages.value > 0)
        print("conservedAcrossShards: \(checked.value) steps, \(messages.value) messages, \(draws.value) fund_draw, \(reductions.value) adl_reduce, \(shares.value) socialize delivered")
        #expect(draws.value > 0)  // the random crashes reach the cross-shard waterfall
    }
}

// MARK: helpers

/// The crash of `Examples/scenarios/crash-adl.json` (BTCUSDT 8000 → 7500 through a thin book),
/// with the named accounts only (l1: 10 long with 4000; l2: 5 long with 2500; s1: 10 short with
/// 20000; s2: 5 short with 5000; t2: 1 long with 520), the fund and ADL given, and a mark at 8000
/// before the crash (each shard sends its ADL ranking at every mark).
func crashScenario(accounts: [String], fund: String, adl: Bool) throws -> Scenario {
    let book: [String: String] = [
        "l1": #"{"id":"l1","settle":"USDT","collateral":{"USDT":"4000"},"positions":[{"symbol":"BTCUSDT","quantity":"10","entry_price":"8000","leverage":"20"}]}"#,
        "l2": #"{"id":"l2","settle":"USDT","collateral":{"USDT":"2500"},"positions":[{"symbol":"BTCUSDT","quantity":"5","entry_price":"8000","leverage":"20"}]}"#,
        "s1": #"{"id":"s1","settle":"USDT","collateral":{"USDT":"20000"},"positions":[{"symbol":"BTCUSDT","quantity":"-10","entry_price":"8000","leverage":"5"}]}"#,
        "s2": #"{"id":"s2","settle":"USDT","collateral":{"USDT":"5000"},"positions":[{"symbol":"BTCUSDT","quantity":"-5","entry_price":"8000","leverage":"10"}]}"#,
        "t2": #"{"id":"t2","settle":"USDT","collateral":{"USDT":"520"},"positions":[{"symbol":"BTCUSDT","quantity":"1","entry_price":"8000","leverage":"20"}]}"#,
    ]
    let json = """
    {"start":{"time":"2020-03-12T00:00:00Z","policy":{"warning_ratio":"0.70","call_ratio":"0.85","restore_ratio":"0.70"},
      "assets":{"USDT":"1","BTC":"8000"},"haircuts":{"BTC":"0.05"},
      "instruments":[{"symbol":"BTCUSDT","kind":"linear_perpetual","base":"BTC","settle":"USDT","contract_size":"1",
        "brackets":[{"notional_floor":"0","notional_cap":"50000","max_leverage":"125","mmr":"0.004"},
                    {"notional_floor":"50000","notional_cap":"600000","max_leverage":"100","mmr":"0.005"},
                    {"notional_floor":"600000","notional_cap":"100000000","max_leverage":"20","mmr":"0.025"}]}],
      "marks":{"BTCUSDT":"8000"},
      "accounts":[\(accounts.map { book[$0]! }.joined(separator: ","))]},
     "insurance_fund":{"USDT":"\(fund)"},
     "parameters":{"execution":"depth","mark_staleness_ms":300000,"oracle_divergence_limit":"0.1","adl":\(adl)},
     "commands":[
      {"time":"2020-03-12T00:00:01Z","type":"index","symbol":"BTCUSDT","price":"8000"},
      {"time":"2020-03-12T00:00:01Z","type":"mark","symbol":"BTCUSDT","price":"8000"},
      {"time":"2020-03-12T00:01:00Z","type":"book","symbol":"BTCUSDT","bids":[["7300","3"],["7100","4"],["6900","20"]],"asks":[["7600","10"]]},
      {"time":"2020-03-12T00:01:00Z","type":"index","symbol":"BTCUSDT","price":"7500"},
      {"time":"2020-03-12T00:01:00Z","type":"mark","symbol":"BTCUSDT","price":"7500"}]}
    """
    return try Scenario.decode(JSONParser.parse(json))
}

/// Shard `k` of `n` of the crash scenario with every account.
func shardEngine(_ k: Int, of n: Int) throws -> Engine {
    var scenario = try crashScenario(accounts: ["l1", "l2", "s1", "s2"], fund: "200", adl: true)
    scenario.shard = ShardConfiguration(index: k, count: n)
    return try scenario.makeEngine()
}

func shardDeliver(_ id: String, from: Int, _ body: OutboxBody) -> TimedCommand {
    TimedCommand(time: 1_584_000_000_000, command: .deliver(messageID: id, fromShard: from, body: body))
}

/// The `field` of the first `rejected` event.
func rejectedField(_ events: [EngineEvent]) -> String? { events.first { $0.kind == .rejected }?.text("field") }

/// The scenario on one node, and over `count` shards with every message delivered after each
/// command in emission order.
func runBoth(_ scenario: Scenario, count: Int) throws -> ((Engine, [EngineEvent]), ShardedSimulation) {
    var engine = try scenario.makeEngine()
    var events: [EngineEvent] = []
    for command in scenario.commands { events += engine.apply(command) }
    var sharded = try ShardedSimulation(scenario: scenario, count: count)
    for command in scenario.commands {
        sharded.apply(command)
        sharded.deliverAll()
    }
    return ((engine, events), sharded)
}

/// Per asset, after every delivery: Σ shards of balances, the fund, fees, external, socialized
/// totals equal the single node's; each account's balances equal too (no account is in two shards).
func expectSameMoney(_ single: (Engine, [EngineEvent]), _ sharded: ShardedSimulation) {
    #expect(sharded.pending.isEmpty)
    let one = single.0.state
    for a in one.market.assets.indices {
        let shards = sharded.shards.map(\.state)
        #expect(shards.reduce(FixedDecimal.zero) { $0 + $1.balances(of: a) } == one.balances(of: a), "balances of asset \(a)")
        #expect(shards.reduce(FixedDecimal.zero) { $0 + $1.totals[a].insuranceFund } == one.totals[a].insuranceFund, "fund of asset \(a)")
        #expect(shards.reduce(RunningTotal.zero) { $0 + $1.totals[a].fees } == one.totals[a].fees)
        #expect(shards.reduce(RunningTotal.zero) { $0 + $1.totals[a].external } == one.totals[a].external, "external of asset \(a)")
        #expect(shards.reduce(RunningTotal.zero) { $0 + $1.totals[a].socializedLoss } == one.totals[a].socializedLoss)
        #expect(sharded.heldAcrossShards(a) == sharded.inflowsAcrossShards(a))
    }
    for record in one.accounts {
        let k = ShardAssignment.shard(of: record.id, count: sharded.shards.count)
        let there = sharded.shards[k].state
        guard let b = there.accountIndex[record.id] else { Issue.record("\(record.id) missing in shard \(k)"); continue }
        #expect(there.accounts[b].account.collateral == record.account.collateral, "\(record.id)")
        #expect(there.accounts[b].account.positions == record.account.positions, "\(record.id)")
    }
}

/// ADL by (counterparty, price): total quantity.
func adlByCounterparty(_ events: [EngineEvent]) -> [String: FixedDecimal] {
    var result: [String: FixedDecimal] = [:]
    for event in events where event.kind == .autoDeleveraged {
        result["\(event.account ?? "?")@\(event.decimal("price")!)", default: .zero] += event.decimal("quantity")!
    }
    return result
}

/// Socialized loss by account.
func socializedByAccount(_ events: [EngineEvent]) -> [String: FixedDecimal] {
    var result: [String: FixedDecimal] = [:]
    for event in events where event.kind == .socializedLoss { result[event.account ?? "?", default: .zero] += event.decimal("amount")! }
    return result
}

/// A random crash: 6–10 accounts (ids t1…), longs and shorts at 8000 with random collateral and
/// leverage, a fund, random books and a random price path (marks, index) with ticks.
func randomShardScenario(seed: UInt64) -> Scenario {
    var rng = SplitMix64(seed: seed &+ 7)
    let accounts = (1...Int.random(in: 6...10, using: &rng)).map { n -> String in
        let quantity = Int.random(in: 1...10, using: &rng) * (Bool.random(using: &rng) ? 1 : -1)
        let collateral = Int.random(in: 300...8000, using: &rng)
        let mode = Int.random(in: 0..<4, using: &rng) == 0 ? #","margin_mode":"isolated","isolated_margin":"\#(collateral / 4)""# : ""
        return #"{"id":"t\#(n)","settle":"USDT","collateral":{"USDT":"\#(collateral)"},"positions":[{"symbol":"BTCUSDT","quantity":"\#(quantity)","entry_price":"8000","leverage":"20"\#(mode)}]}"#
    }
    var commands: [String] = []
    var price = 8000, time = 1_584_000_001_000
    for _ in 0..<30 {
        time += Int.random(in: 1_000...20_000, using: &rng)
        switch Int.random(in: 0..<5, using: &rng) {
        case 0:
            let top = price - Int.random(in: 0...300, using: &rng)
            commands.append(#"{"time":\#(time),"type":"book","symbol":"BTCUSDT","bids":[["\#(top)","\#(Int.random(in: 1...5, using: &rng))"],["\#(top - 200)","\#(Int.random(in: 1...20, using: &rng))"]],"asks":[["\#(price + Int.random(in: 1...300, using: &rng))","\#(Int.random(in: 1...20, using: &rng))"]]}"#)
        case 1: commands.append(#"{"time":\#(time),"type":"tick"}"#)
        case 2:
            let n = Int.random(in: 1...3, using: &rng)
            commands.append(#"{"time":\#(time),"type":"deposit","account":"t\#(n)","asset":"USDT","amount":"\#(Int.random(in: 1...500, using: &rng))"}"#)
        default:
            price = max(1000, price + Int.random(in: -500...450, using: &rng))
            commands.append(#"{"time":\#(time),"type":"index","symbol":"BTCUSDT","price":"\#(price)"}"#)
            commands.append(#"{"time":\#(time),"type":"mark","symbol":"BTCUSDT","price":"\#(price)"}"#)
        }
    }
    let json = """
    {"start":{"time":"2020-03-12T00:00:00Z","policy":{"warning_ratio":"0.70","call_ratio":"0.85","restore_ratio":"0.70"},
      "assets":{"USDT":"1","BTC":"8000"},"haircuts":{"BTC":"0.05"},
      "instruments":[{"symbol":"BTCUSDT","kind":"linear_perpetual","base":"BTC","settle":"USDT","contract_size":"1",
        "brackets":[{"notional_floor":"0","notional_cap":"50000","max_leverage":"125","mmr":"0.004"},
                    {"notional_floor":"50000","notional_cap":"100000000","max_leverage":"20","mmr":"0.025"}]}],
      "marks":{"BTCUSDT":"8000"},"accounts":[\(accounts.joined(separator: ","))]},
     "insurance_fund":{"USDT":"\(Int.random(in: 0...3000, using: &rng))"},
     "parameters":{"execution":"depth","mark_staleness_ms":300000,"oracle_divergence_limit":"0.2","adl":\(Bool.random(using: &rng)),
                   "backstop":\(Int.random(in: 0..<3, using: &rng) == 0)},
     "commands":[\(commands.joined(separator: ","))]}
    """
    return try! Scenario.decode(JSONParser.parse(json))
}
