import Foundation
import SolventCore
import SolventEngine
import SolventRisk
import Testing

// Regression tests of the engine faults of issues 15 and 22, with their right values, and
// tests of each fault's kind. The case files are in `Cases/` (provenance in its README).

/// A case scenario from `Tests/SolventEngineTests/Cases`.
func loadCase(_ name: String) throws -> SolventEngine.Scenario {
    let url = packageRoot.appendingPathComponent("Tests/SolventEngineTests/Cases/\(name)")
    return try SolventEngine.Scenario.decode(JSONParser.parse([UInt8](try Data(contentsOf: url))))
}

/// Runs commands on an engine; returns the events.
func run(_ engine: inout Engine, _ commands: [TimedCommand]) -> [EngineEvent] {
    commands.flatMap { engine.apply($0) }
}

/// A scenario over USDT, BTC and ETH with linear BTCUSDT and ETHUSDT perpetuals (brackets of
/// S02a: 125× / 0.4 % up to 50,000 notional, then 100× / 0.5 %), marks 50,000 and 2,500.
func testScenario(accounts: String, parameters: String = #""execution": "depth", "mark_staleness_ms": 86400000, "oracle_divergence_limit": "0.1""#,
                  fund: String = "5000", commands: String = "") throws -> SolventEngine.Scenario {
    let brackets = """
        [{"notional_floor": "0", "notional_cap": "50000", "max_leverage": "125", "mmr": "0.004"},
         {"notional_floor": "50000", "notional_cap": "600000", "max_leverage": "100", "mmr": "0.005"},
         {"notional_floor": "600000", "notional_cap": "100000000", "max_leverage": "20", "mmr": "0.025"}]
        """
    let text = """
        {"start": {"time": 0,
                   "policy": {"warning_ratio": "0.70", "call_ratio": "0.85", "restore_ratio": "0.70"},
                   "assets": {"USDT": "1", "BTC": "50000", "ETH": "2500"}, "haircuts": {},
                   "instruments": [
                     {"symbol": "BTCUSDT", "kind": "linear_perpetual", "base": "BTC", "settle": "USDT", "contract_size": "1", "brackets": \(brackets)},
                     {"symbol": "ETHUSDT", "kind": "linear_perpetual", "base": "ETH", "settle": "USDT", "contract_size": "1", "brackets": \(brackets)}],
                   "marks": {"BTCUSDT": "50000", "ETHUSDT": "2500"},
                   "accounts": [\(accounts)]},
         "parameters": {\(parameters)},
         "insurance_fund": {"USDT": "\(fund)"},
         "commands": [\(commands)]}
        """
    return try SolventEngine.Scenario.decode(JSONParser.parse(Array(text.utf8)))
}

/// Runs a whole scenario; returns the engine and the events.
func runAll(_ scenario: SolventEngine.Scenario) throws -> (Engine, [EngineEvent]) {
    var engine = try scenario.makeEngine()
    let events = run(&engine, scenario.commands)
    return (engine, events)
}

func account(_ engine: Engine, _ id: String) -> EngineAccount { engine.state.accounts[engine.state.accountIndex[id]!] }

func position(_ engine: Engine, _ id: String, _ symbol: String) -> FixedDecimal {
    let record = account(engine, id)
    let i = engine.state.market.instruments.firstIndex { $0.symbol == symbol }!
    return record.positionIndex(i).map { record.account.positions[$0].quantity } ?? .zero
}

@Suite struct IsolationRegressionTests {
    /// S02a: the isolated pool (margin 1,000, equity −500) is closed whole at 48,400 against a
    /// bankruptcy price of 49,000: the deficit of 600 is drawn from the fund (5,000 → 4,400),
    /// no liquidation fee is charged (no surplus), and the cross wallet stays 10,000.
    @Test func isolatedDeficitDrawsTheFundNotTheCrossWallet() throws {
        let (engine, events) = try runAll(try loadCase("S02a-isolated-deficit.json"))
        let fill = try #require(events.first { $0.kind == .liquidationFill })
        #expect(fill.decimal("price") == dec("48400"))
        #expect(fill.decimal("quantity") == dec("-1"))
        #expect(fill.decimal("bankruptcy_price") == dec("49000"))
        let draw = try #require(events.first { $0.kind == .insuranceFundDraw })
        #expect(draw.decimal("amount") == dec("600"))
        #expect(draw.text("pool") == "isolated:BTCUSDT")
        #expect(!events.contains { $0.kind == .insuranceFundContribution })
        #expect(engine.state.totals[0].insuranceFund == dec("4400"))
        #expect(account(engine, "mia").balance(0) == dec("10000"))
        #expect(account(engine, "mia").account.positions.isEmpty)
        #expect(account(engine, "mia").badDebt.isZero)
        #expect(conserved(engine))
    }

    /// The fee never exceeds the liquidated pool's surplus: an isolated pool closed at 49,100
    /// keeps 100 of its 1,000 margin; the fee (0.5 % × 49,100 = 245.5) is capped at 100, and
    /// the cross wallet gets nothing and pays nothing.
    @Test func liquidationFeeCappedAtIsolatedSurplus() throws {
        let scenario = try testScenario(
            accounts: #"{"id": "mia", "settle": "USDT", "collateral": {"USDT": "10000"}, "positions": [{"symbol": "BTCUSDT", "quantity": "1", "entry_price": "50000", "leverage": "50", "margin_mode": "isolated", "isolated_margin": "1000"}]}"#,
            commands: """
                {"time": 1000, "type": "index", "symbol": "BTCUSDT", "price": "49150"},
                {"time": 2000, "type": "book", "symbol": "BTCUSDT", "bids": [["49100", "5"]], "asks": [["49200", "5"]]},
                {"time": 3000, "type": "mark", "symbol": "BTCUSDT", "price": "49150"}
                """)
        let (engine, events) = try runAll(scenario)
        let fill = try #require(events.first { $0.kind == .liquidationFill })
        #expect(fill.decimal("price") == dec("49100"))
        let fee = try #require(events.first { $0.kind == .insuranceFundContribution })
        #expect(fee.decimal("amount") == dec("100"))
        #expect(fee.decimal("pool_surplus") == dec("100"))
        #expect(engine.state.totals[0].insuranceFund == dec("5100"))
        #expect(account(engine, "mia").balance(0) == dec("10000"))
        #expect(conserved(engine))
    }

    /// A healthy cross position beside a bankrupt isolated one is untouched: the isolated
    /// deficit is not the cross pool's loss, so the cross pool is never called or liquidated.
    @Test func bankruptIsolatedPoolLeavesCrossPositionAlone() throws {
        let scenario = try testScenario(
            accounts: """
                {"id": "mia", "settle": "USDT", "collateral": {"USDT": "500"},
                 "positions": [{"symbol": "BTCUSDT", "quantity": "1", "entry_price": "50000", "leverage": "50", "margin_mode": "isolated", "isolated_margin": "1000"},
                               {"symbol": "ETHUSDT", "quantity": "4", "entry_price": "2500", "leverage": "25"}]}
                """,
            fund: "0",
            commands: """
                {"time": 1000, "type": "index", "symbol": "BTCUSDT", "price": "47000"},
                {"time": 2000, "type": "book", "symbol": "BTCUSDT", "bids": [["47000", "5"]], "asks": [["47100", "5"]]},
                {"time": 3000, "type": "mark", "symbol": "BTCUSDT", "price": "47000"}
                """)
        let (engine, events) = try runAll(scenario)
        // Closed at 47,000: realized −3,000, deficit 2,000; no fund, ADL finds nobody, no one to
        // socialize over: bad debt borne by the clearing side, not the cross wallet.
        let fills = events.filter { $0.kind == .liquidationFill }
        #expect(fills.allSatisfy { $0.text("symbol") == "BTCUSDT" })
        #expect(position(engine, "mia", "ETHUSDT") == dec("4"))
        #expect(account(engine, "mia").balance(0) == dec("500"))
        let crossActions = events.filter { (event: EngineEvent) -> Bool in
            event.kind == EventKind.marginCall || (event.kind == EventKind.liquidationStarted && event.text("pool") == "cross")
        }
        #expect(crossActions.isEmpty)
        let debt = try #require(events.first { $0.kind == .badDebt })
        #expect(debt.decimal("amount") == dec("2000"))
        #expect(debt.text("pool") == "isolated:BTCUSDT")
        #expect(engine.state.totals[0].insuranceFund.isZero)
        #expect(conserved(engine))
    }

    /// A fill (not a liquidation) that closes an isolated position below its bankruptcy price:
    /// the deficit goes to the fund, the wallet pays only the trading fee.
    @Test func isolatedFillBelowBankruptcyDrawsTheFund() throws {
        let scenario = try testScenario(
            accounts: #"{"id": "mia", "settle": "USDT", "collateral": {"USDT": "10000"}, "positions": [{"symbol": "BTCUSDT", "quantity": "1", "entry_price": "50000", "leverage": "50", "margin_mode": "isolated", "isolated_margin": "1000"}]}"#,
            commands: #"{"time": 1000, "type": "fill", "account": "mia", "symbol": "BTCUSDT", "quantity": "-1", "price": "48800", "fee": "5"}"#)
        let (engine, events) = try runAll(scenario)
        let draw = try #require(events.first { $0.kind == .insuranceFundDraw })
        #expect(draw.decimal("amount") == dec("200"))
        #expect(engine.state.totals[0].insuranceFund == dec("4800"))
        #expect(account(engine, "mia").balance(0) == dec("9995"))
        #expect(conserved(engine))
    }

    /// A pool waiting on its instrument (no liquidity for BTCUSDT) does not hold up another
    /// pool of the same account: the bankrupt ETHUSDT isolated pool is closed at 2,945 (deficit
    /// 450 from the fund) while the BTCUSDT pool waits.
    @Test func waitingPoolDoesNotHoldUpAnother() throws {
        let scenario = try testScenario(
            accounts: """
                {"id": "m", "settle": "USDT", "collateral": {"USDT": "1000"},
                 "positions": [{"symbol": "BTCUSDT", "quantity": "1", "entry_price": "50000", "leverage": "50", "margin_mode": "isolated", "isolated_margin": "1000"},
                               {"symbol": "ETHUSDT", "quantity": "10", "entry_price": "2500", "leverage": "50", "margin_mode": "isolated", "isolated_margin": "100"}]}
                """,
            parameters: #""mark_staleness_ms": 86400000, "liquidation_step_fraction": "1", "liquidation_fee_rate": "0""#,
            fund: "10000",
            commands: """
                {"time": 1000, "type": "mark", "symbol": "BTCUSDT", "price": "48500"},
                {"time": 1000, "type": "mark", "symbol": "ETHUSDT", "price": "2490"},
                {"time": 2000, "type": "book", "symbol": "ETHUSDT", "bids": [["2445", "100"]], "asks": [["2460", "100"]]},
                {"time": 3000, "type": "tick"}
                """)
        let (engine, events) = try runAll(scenario)
        #expect(events.contains { $0.kind == .liquidationFill && $0.text("symbol") == "ETHUSDT" && $0.decimal("price") == dec("2445") })
        #expect(position(engine, "m", "ETHUSDT") == .zero)
        #expect(position(engine, "m", "BTCUSDT") == dec("1"))
        #expect(engine.state.totals[0].insuranceFund == dec("9550"))
        #expect(account(engine, "m").balance(0) == dec("1000"))
        #expect(conserved(engine))
    }

    /// A trader's own fill that leaves the cross pool flat with a negative balance leaves a
    /// deficit settled like any other: the fund pays it (1,000 − 1,200 → fund 5,000 → 4,800).
    @Test func flatCrossDeficitAfterATraderFillDrawsTheFund() throws {
        let scenario = try testScenario(
            accounts: #"{"id": "l", "settle": "USDT", "collateral": {"USDT": "1000"}, "positions": [{"symbol": "BTCUSDT", "quantity": "1", "entry_price": "50000", "leverage": "50"}]}"#,
            parameters: #""mark_staleness_ms": 86400000, "liquidation_step_fraction": "1""#,
            commands: """
                {"time": 1000, "type": "mark", "symbol": "BTCUSDT", "price": "48900"},
                {"time": 2000, "type": "fill", "account": "l", "symbol": "BTCUSDT", "quantity": "-1", "price": "48800"}
                """)
        let (engine, events) = try runAll(scenario)
        #expect(events.contains { $0.kind == .insuranceFundDraw && $0.decimal("amount") == dec("200") })
        #expect(account(engine, "l").balance(0).isZero)
        #expect(engine.state.totals[0].insuranceFund == dec("4800"))
        #expect(conserved(engine))
    }

    /// Closing an isolated position with a surplus returns exactly that surplus to the wallet.
    @Test func isolatedSurplusReturnsToTheWallet() throws {
        let scenario = try testScenario(
            accounts: #"{"id": "mia", "settle": "USDT", "collateral": {"USDT": "10000"}, "positions": [{"symbol": "BTCUSDT", "quantity": "1", "entry_price": "50000", "leverage": "50", "margin_mode": "isolated", "isolated_margin": "1000"}]}"#,
            commands: #"{"time": 1000, "type": "fill", "account": "mia", "symbol": "BTCUSDT", "quantity": "-1", "price": "50300"}"#)
        let (engine, events) = try runAll(scenario)
        #expect(!events.contains { $0.kind == .insuranceFundDraw })
        #expect(account(engine, "mia").balance(0) == dec("11300"))
        #expect(conserved(engine))
    }
}

@Suite struct BadDebtRegressionTests {
    /// Bad debt is written off once: an account left at −1,000 (bad debt 1,000) that trades
    /// again and is liquidated again at no further loss records no more bad debt and draws no
    /// fund for the old debt; paying the balance back clears what was written off.
    @Test func badDebtIsNotCountedTwice() throws {
        let scenario = try testScenario(
            accounts: #"{"id": "l", "settle": "USDT", "collateral": {"USDT": "1000"}, "positions": [{"symbol": "BTCUSDT", "quantity": "1", "entry_price": "50000", "leverage": "50"}]}"#,
            parameters: #""execution": "depth", "adl": false, "mark_staleness_ms": 86400000, "liquidation_fee_rate": "0""#,
            fund: "0",
            commands: """
                {"time": 1000, "type": "book", "symbol": "BTCUSDT", "bids": [["48000", "5"]], "asks": [["48100", "5"]]},
                {"time": 2000, "type": "mark", "symbol": "BTCUSDT", "price": "48000"}
                """)
        var (engine, _) = try runAll(scenario)
        #expect(account(engine, "l").badDebt == dec("1000"))
        #expect(account(engine, "l").balance(0) == dec("-1000"))
        engine.fundInsurance(asset: 0, amount: 5000)  // a refilled fund does not pay the old, written-off debt
        let again = run(&engine, [TimedCommand(time: 4000, command: .fill(account: "l", symbol: "BTCUSDT", quantity: 1, price: 48_000, fee: 0, orderID: nil))])
        #expect(again.contains { $0.kind == .liquidationFill })
        #expect(!again.contains { $0.kind == .badDebt || $0.kind == .insuranceFundDraw })
        #expect(engine.state.totals[0].insuranceFund == dec("5000"))
        #expect(account(engine, "l").badDebt == dec("1000"))
        #expect(account(engine, "l").balance(0) == dec("-1000"))
        _ = engine.apply(TimedCommand(time: 5000, command: .deposit(account: "l", asset: "USDT", amount: 1000, settle: nil)))
        #expect(account(engine, "l").writtenOff.isZero)
        #expect(conserved(engine))
    }
}

@Suite struct SocializationRegressionTests {
    /// With socialization over profitable accounts, the population is the profitable holders
    /// of the bankrupt position's instrument, weighted by their unrealized profit in it: an
    /// account profitable only in ETHUSDT pays nothing of a BTCUSDT deficit.
    @Test func profitableBaseIsTheBankruptInstrumentsHolders() throws {
        let scenario = try testScenario(
            accounts: """
                {"id": "bust", "settle": "USDT", "collateral": {"USDT": "1000"},
                 "positions": [{"symbol": "BTCUSDT", "quantity": "1", "entry_price": "50000", "leverage": "50"}]},
                {"id": "s1", "settle": "USDT", "collateral": {"USDT": "20000"},
                 "positions": [{"symbol": "BTCUSDT", "quantity": "-0.3", "entry_price": "50000", "leverage": "10"}]},
                {"id": "s2", "settle": "USDT", "collateral": {"USDT": "20000"},
                 "positions": [{"symbol": "BTCUSDT", "quantity": "-0.1", "entry_price": "50000", "leverage": "10", "margin_mode": "isolated", "isolated_margin": "2000"}]},
                {"id": "eth", "settle": "USDT", "collateral": {"USDT": "20000"},
                 "positions": [{"symbol": "ETHUSDT", "quantity": "10", "entry_price": "2000", "leverage": "10"}]}
                """,
            parameters: #""execution": "depth", "adl": false, "mark_staleness_ms": 86400000, "oracle_divergence_limit": "0.1""#,
            fund: "0",
            commands: """
                {"time": 1000, "type": "index", "symbol": "BTCUSDT", "price": "48000"},
                {"time": 2000, "type": "book", "symbol": "BTCUSDT", "bids": [["48000", "5"]], "asks": [["48100", "5"]]},
                {"time": 3000, "type": "mark", "symbol": "BTCUSDT", "price": "48000"}
                """)
        let (engine, events) = try runAll(scenario)
        // Closed at 48,000: realized −2,000 on a wallet of 1,000; deficit 1,000, no fund.
        // s1 holds 600 of BTCUSDT profit, s2 200 (isolated), eth 5,000 of ETHUSDT profit only.
        let shares = events.filter { $0.kind == .socializedLoss }
        #expect(shares.map(\.account) == ["s1", "s2"])
        #expect(shares.map { $0.decimal("amount")! } == [dec("600"), dec("200")])
        #expect(shares.map { $0.decimal("weight")! } == [dec("600"), dec("200")])
        #expect(shares[1].text("pool") == "isolated:BTCUSDT")
        #expect(account(engine, "eth").balance(0) == dec("20000"))
        #expect(account(engine, "s1").balance(0) == dec("19400"))
        #expect(account(engine, "s2").balance(0) == dec("20000"))  // charged to its isolated pool
        // At most the population's profit (800) is charged: 200 stays as bad debt.
        #expect(account(engine, "bust").badDebt == dec("200"))
        #expect(account(engine, "bust").balance(0) == dec("-200"))
        #expect(conserved(engine))
    }

    /// Pro rata by profit in the instrument: two holders with 300 and 100 of profit share a
    /// deficit of 200 as 150 / 50.
    @Test func profitableBaseWeightsByProfitInTheInstrument() throws {
        let scenario = try testScenario(
            accounts: """
                {"id": "bust", "settle": "USDT", "collateral": {"USDT": "1000"},
                 "positions": [{"symbol": "BTCUSDT", "quantity": "1", "entry_price": "50000", "leverage": "50"}]},
                {"id": "s1", "settle": "USDT", "collateral": {"USDT": "20000"},
                 "positions": [{"symbol": "BTCUSDT", "quantity": "-0.3", "entry_price": "49800", "leverage": "10"}]},
                {"id": "s2", "settle": "USDT", "collateral": {"USDT": "20000"},
                 "positions": [{"symbol": "BTCUSDT", "quantity": "-0.1", "entry_price": "49800", "leverage": "10"},
                               {"symbol": "ETHUSDT", "quantity": "10", "entry_price": "1000", "leverage": "10"}]}
                """,
            parameters: #""execution": "depth", "adl": false, "mark_staleness_ms": 86400000, "oracle_divergence_limit": "0.1""#,
            fund: "0",
            commands: """
                {"time": 1000, "type": "index", "symbol": "BTCUSDT", "price": "48800"},
                {"time": 2000, "type": "book", "symbol": "BTCUSDT", "bids": [["48800", "5"]], "asks": [["48900", "5"]]},
                {"time": 3000, "type": "mark", "symbol": "BTCUSDT", "price": "48800"}
                """)
        let (engine, events) = try runAll(scenario)
        // Deficit: 1,000 − 1,200 = −200. Profits in BTCUSDT: s1 0.3 × 1,000 = 300, s2 100 (its ETH profit of 15,000 does not count).
        let shares = events.filter { $0.kind == .socializedLoss }
        #expect(shares.map { $0.decimal("amount")! } == [dec("150"), dec("50")])
        #expect(shares.map { $0.decimal("weight")! } == [dec("300"), dec("100")])
        #expect(account(engine, "bust").balance(0).isZero)
        #expect(conserved(engine))
    }
}

@Suite struct ReduceOnlyRegressionTests {
    /// S13: `o-too-big` (−2 on a long of 1) is rejected (the rule: a reduce-only order larger
    /// than the position — or taking the resting reduce-only total past it — is rejected, not
    /// resized); `o1` (−1) rests; `o2` (−0.5) is rejected (total 1.5 > 1). The fill of −0.5
    /// without an order id leaves 0.5 and resizes `o1` to −0.5; the fill of −1 on `o1` applies
    /// −0.5 (position 0) and rejects the excess −0.5: never a new short.
    @Test func restingReduceOnlyNeverFlips() throws {
        let scenario = try loadCase("S13-reduce-only-resting.json")
        var engine = try scenario.makeEngine()
        let placed = run(&engine, Array(scenario.commands[0..<3]))
        #expect(placed.map(\.kind) == [.rejected, .orderAccepted, .rejected])
        #expect(placed[0]["code"] == .integer(Int64(RejectReason.Code.wouldNotReduce.rawValue)))
        #expect(engine.state.orders.keys.sorted() == ["o1"])
        let first = engine.apply(scenario.commands[3])
        #expect(position(engine, "ro", "BTCUSDT") == dec("0.5"))
        #expect(engine.state.orders["o1"]?.quantity == dec("-0.5"))
        #expect(first.contains { $0.kind == .orderResized && $0.decimal("quantity") == dec("-0.5") })
        let second = engine.apply(scenario.commands[4])
        #expect(position(engine, "ro", "BTCUSDT") == .zero)
        #expect(account(engine, "ro").account.positions.isEmpty)
        let filled = try #require(second.first { $0.kind == .filled })
        #expect(filled.decimal("quantity") == dec("-0.5"))
        #expect(filled.decimal("position") == .zero)
        let excess = try #require(second.first { $0.kind == .rejected })
        #expect(excess.decimal("excess") == dec("-0.5"))
        #expect(engine.state.orders.isEmpty)
        // 10,000 + 0.5 × 500 + 0.5 × 1,000 realized; nothing of the excess applied.
        #expect(account(engine, "ro").balance(0) == dec("10750"))
        #expect(conserved(engine))
    }

    /// A fill that flips the position (no order id, not in a call: the matching engine's
    /// trade stands) cancels the resting reduce-only order, which would now add to the new side.
    @Test func flipCancelsRestingReduceOnly() throws {
        let scenario = try testScenario(
            accounts: #"{"id": "ro", "settle": "USDT", "collateral": {"USDT": "10000"}, "positions": [{"symbol": "BTCUSDT", "quantity": "1", "entry_price": "50000", "leverage": "10"}]}"#,
            commands: """
                {"time": 1000, "type": "place_order", "id": "o1", "account": "ro", "symbol": "BTCUSDT", "quantity": "-1", "price": "51000", "reduce_only": true},
                {"time": 2000, "type": "fill", "account": "ro", "symbol": "BTCUSDT", "quantity": "-2", "price": "50000"},
                {"time": 3000, "type": "fill", "account": "ro", "symbol": "BTCUSDT", "quantity": "-1", "price": "50000", "order_id": "o1"}
                """)
        let (engine, events) = try runAll(scenario)
        #expect(events.contains { $0.kind == .orderCancelled && $0.text("reason") == "reduce_only_exceeds_position" })
        #expect(engine.state.orders.isEmpty)
        #expect(position(engine, "ro", "BTCUSDT") == dec("-1"))  // the fill on the cancelled order is rejected
        #expect(events.last?.kind == .rejected)
    }

    /// In a margin call nothing may open a position: a fill that would add is rejected whole;
    /// one that would flip applies only the closing part and rejects the excess.
    @Test func marginCallFillsOnlyReduce() throws {
        let scenario = try testScenario(
            accounts: #"{"id": "u", "settle": "USDT", "collateral": {"USDT": "1000"}, "positions": [{"symbol": "BTCUSDT", "quantity": "1", "entry_price": "50000", "leverage": "50"}]}"#,
            parameters: #""grace_period_ms": 3600000, "execution": "backstop", "backstop": true, "mark_staleness_ms": 86400000"#,
            commands: """
                {"time": 1000, "type": "mark", "symbol": "BTCUSDT", "price": "49210"},
                {"time": 2000, "type": "fill", "account": "u", "symbol": "BTCUSDT", "quantity": "0.5", "price": "49210"},
                {"time": 3000, "type": "fill", "account": "u", "symbol": "BTCUSDT", "quantity": "-1.5", "price": "49210"}
                """)
        var engine = try scenario.makeEngine()
        let called = engine.apply(scenario.commands[0])
        #expect(called.contains { $0.kind == .marginCall })
        let add = engine.apply(scenario.commands[1])
        #expect(add.map(\.kind) == [.rejected])
        #expect(add[0]["code"] == .integer(Int64(RejectReason.Code.reduceOnlyInMarginCall.rawValue)))
        #expect(position(engine, "u", "BTCUSDT") == dec("1"))
        let flip = engine.apply(scenario.commands[2])
        #expect(flip.first { $0.kind == .filled }?.decimal("quantity") == dec("-1"))
        #expect(flip.first { $0.kind == .rejected }?.decimal("excess") == dec("-0.5"))
        #expect(position(engine, "u", "BTCUSDT") == .zero)
        #expect(conserved(engine))
    }

    /// A liquidation step that shrinks a position leaves no resting reduce-only order larger
    /// than what remains (liquidation cancels the account's orders first; ADL resizes the
    /// counterparty's).
    @Test func adlResizesCounterpartyReduceOnly() throws {
        let scenario = try testScenario(
            accounts: """
                {"id": "bust", "settle": "USDT", "collateral": {"USDT": "1000"},
                 "positions": [{"symbol": "BTCUSDT", "quantity": "1", "entry_price": "50000", "leverage": "50"}]},
                {"id": "s1", "settle": "USDT", "collateral": {"USDT": "20000"},
                 "positions": [{"symbol": "BTCUSDT", "quantity": "-1", "entry_price": "50000", "leverage": "10"}]}
                """,
            fund: "400",
            commands: """
                {"time": 500, "type": "place_order", "id": "tp", "account": "s1", "symbol": "BTCUSDT", "quantity": "1", "price": "45000", "reduce_only": true},
                {"time": 1000, "type": "index", "symbol": "BTCUSDT", "price": "48000"},
                {"time": 2000, "type": "book", "symbol": "BTCUSDT", "bids": [["48000", "0.4"], ["47900", "5"]], "asks": [["48100", "5"]]},
                {"time": 3000, "type": "mark", "symbol": "BTCUSDT", "price": "48000"}
                """)
        let (engine, events) = try runAll(scenario)
        let adl = try #require(events.first { $0.kind == .autoDeleveraged })
        #expect(adl.account == "s1")
        let left = position(engine, "s1", "BTCUSDT")
        #expect(left.isNegative && left > dec("-1"))
        let tp = try #require(engine.state.orders["tp"])
        #expect(tp.quantity == -left)
        #expect(conserved(engine))
    }
}

@Suite struct OrderMarginRegressionTests {
    /// An order against the position reserves initial margin only for the part that opens: a
    /// buy of 15 on a short of 6.667 opens 8.333 (8.333 × 3,048 / 20 = 1,269.9492 of margin, within
    /// the 2,000 available; the whole 15 would need 2,286).
    @Test func flipReservesOnlyTheOpeningPart() throws {
        let scenario = try testScenario(
            accounts: #"{"id": "a3", "settle": "USDT", "collateral": {"USDT": "2000"}, "positions": [{"symbol": "ETHUSDT", "quantity": "-6.667", "entry_price": "2910", "leverage": "20", "margin_mode": "isolated", "isolated_margin": "1057.35"}]}"#,
            commands: """
                {"time": 1000, "type": "mark", "symbol": "ETHUSDT", "price": "3000"},
                {"time": 2000, "type": "place_order", "id": "p10", "account": "a3", "symbol": "ETHUSDT", "quantity": "15", "price": "3048"},
                {"time": 3000, "type": "fill", "account": "a3", "symbol": "ETHUSDT", "quantity": "15", "price": "3000", "order_id": "p10"}
                """)
        let (engine, events) = try runAll(scenario)
        let accepted = try #require(events.first { $0.kind == .orderAccepted })
        #expect(accepted.decimal("reserved_margin") == dec("1269.9492"))
        // The fill flips the isolated position: the old pool's margin (1,057.35 − 600.03) returns
        // to the wallet, the new 8.333 long gets 8.333 × 3,000 / 20 = 1,249.95.
        #expect(position(engine, "a3", "ETHUSDT") == dec("8.333"))
        #expect(account(engine, "a3").balance(0) == dec("1207.37"))
        #expect(conserved(engine))
    }
}

@Suite struct CallAmountRegressionTests {
    /// M02: MM 495, equity 500, restore 0.7: the demand 495 / 0.7 − 500 = 207.142857… is
    /// rounded up to 207.142857142857142858; paying exactly it cures the call, and the deadline
    /// passes without a liquidation.
    @Test func payingTheDemandCures() throws {
        let scenario = try loadCase("M02-pay-call-amount.json")
        var engine = try scenario.makeEngine()
        let call = try #require(engine.apply(scenario.commands[0]).first { $0.kind == .marginCall })
        let demand = try #require(call.decimal("call_amount"))
        #expect(demand == dec("207.142857142857142858"))
        let paid = engine.apply(TimedCommand(time: scenario.commands[1].time,
                                             command: .deposit(account: "u", asset: "USDT", amount: demand, settle: nil)))
        #expect(paid.contains { $0.kind == .marginCallCured })
        let later = engine.apply(scenario.commands[2])
        #expect(!later.contains { $0.kind == .liquidationStarted || $0.kind == .liquidationFill })
        #expect(position(engine, "u", "BTCUSDT") == dec("1"))
    }

    /// The file's own deposit is the old, rounded-down demand (…857): 10⁻¹⁸ short, so the
    /// call rightly stays open — the direction of the rounding is what the fix is about.
    @Test func theOldRoundedDownDemandIsShort() throws {
        let (_, events) = try runAll(try loadCase("M02-pay-call-amount.json"))
        #expect(!events.contains { $0.kind == .marginCallCured })
        #expect(events.contains { $0.kind == .liquidationStarted })
    }

    /// The kind: for many marks and restore ratios, paying the evaluator's call amount always
    /// brings the pool to the restore ratio (MM ≤ restore · equity), and it is the least such
    /// amount on the 18-digit grid.
    @Test func callAmountAlwaysCures() {
        let rows: [BracketTable.Row] = [.init(floor: 0, cap: 100_000_000, maxLeverage: 50, mmr: dec("0.01"))]
        for restore in ["0.7", "0.3", "0.65", "0.123456789"] {
            for cents in stride(from: 4_900_000, to: 4_960_000, by: 1_337) {
                let policy = MarginPolicy(warningRatio: dec("0.7"), callRatio: dec("0.85"), restoreRatio: dec(restore))
                var market = btcMarket(rows)
                market.marks = [FixedDecimal(cents) / 100]
                let evaluator = MarginEvaluator(market: market, policy: policy)
                let account = Account(id: "u", settle: 0, collateral: [CollateralBalance(asset: 0, amount: 1000)],
                                      positions: [Position(instrument: 0, quantity: 1, entryPrice: 50_000, leverage: 50, marginMode: .cross)])
                let pool = evaluator.evaluate(account).cross
                guard pool.status >= .marginCall, pool.status < .bankrupt else { continue }
                let paid = pool.equity + pool.callAmount
                #expect(FixedDecimal.compareProducts(pool.maintenanceMargin, .one, paid, dec(restore)) <= 0, "restore \(restore) mark \(cents)")
                let less = paid - FixedDecimal(raw: 1)
                #expect(FixedDecimal.compareProducts(pool.maintenanceMargin, .one, less, dec(restore)) > 0, "restore \(restore) mark \(cents)")
            }
        }
    }
}

@Suite struct ParameterChangeRegressionTests {
    /// M08a: a change naming only `liquidation_fee_rate` keeps backstop execution and the
    /// one-day mark staleness: no stale-mark pause, the backstop fills at 49,000; the event
    /// lists exactly the one change with its old and new values.
    @Test func partialChangeKeepsTheRest() throws {
        let (engine, events) = try runAll(try loadCase("M08a-partial-parameter-change.json"))
        let applied = try #require(events.first { $0.kind == .parametersApplied })
        #expect(applied["changes"] == .list([[("field", .text("liquidation_fee_rate")), ("old", .text("0.005")), ("new", .text("0.004"))]]))
        #expect(engine.state.parameters.liquidationFeeRate == dec("0.004"))
        #expect(engine.state.parameters.execution == .backstop)
        #expect(engine.state.parameters.backstopEnabled)
        #expect(engine.state.parameters.markStalenessMs == 86_400_000)
        #expect(engine.state.parameters.gracePeriodMs == 3_600_000)
        #expect(!events.contains { $0.kind == .liquidationsPaused })
        let fill = try #require(events.first { $0.kind == .liquidationFill })
        #expect(fill.text("executor") == "backstop")
        #expect(fill.decimal("price") == dec("49000"))
        #expect(position(engine, "u", "BTCUSDT") == .zero)
    }

    /// The kind: every field merges; policy ratios too; `null` clears the notional cap; the
    /// dry run shows the merged result; changes scheduled for the same time merge in order.
    @Test func changesMergeFieldByField() throws {
        var engine = try loadCase("M08a-partial-parameter-change.json").makeEngine()
        var update = ParameterUpdate()
        update.callRatio = dec("0.9")
        let change = ParameterChange(update: update)
        let merged = engine.mergedParameters(change)
        #expect(merged.policy.callRatio == dec("0.9"))
        #expect(merged.policy.restoreRatio == dec("0.70"))
        #expect(merged.execution == .backstop && merged.markStalenessMs == 86_400_000)
        #expect(ParameterUpdate.differences(engine.state.parameters, merged).map(\.field) == ["call_ratio"])
        var cap = ParameterUpdate()
        cap.liquidationNotionalCap = Nullable(dec("1000000"))
        var clear = ParameterUpdate()
        clear.liquidationNotionalCap = Nullable(nil)
        clear.hysteresis = dec("0.01")
        let time = engine.state.time + 10
        _ = engine.apply(TimedCommand(time: time, command: .changeParameters(ParameterChange(update: cap), effectiveTime: time + 5)))
        _ = engine.apply(TimedCommand(time: time, command: .changeParameters(ParameterChange(update: clear), effectiveTime: time + 5)))
        let events = engine.apply(TimedCommand(time: time + 5, command: .tick))
        let applied = events.filter { $0.kind == .parametersApplied }
        #expect(applied.count == 2)
        #expect(engine.state.parameters.liquidationNotionalCap == nil)
        #expect(engine.state.parameters.hysteresis == dec("0.01"))
        #expect(engine.state.parameters.execution == .backstop)
        #expect(engine.state.parameters.policy.callRatio == dec("0.85"))
    }

    /// A partial change is checked once merged: a hysteresis that is fine alone but not with
    /// the warning ratio in force is rejected, and the scenario decoder names unknown fields.
    @Test func mergedChangeIsValidated() throws {
        var engine = try loadCase("M08a-partial-parameter-change.json").makeEngine()
        var update = ParameterUpdate()
        update.hysteresis = dec("0.8")  // ≥ warning ratio 0.70
        let events = engine.apply(TimedCommand(time: engine.state.time + 1, command: .changeParameters(ParameterChange(update: update), effectiveTime: engine.state.time + 1)))
        #expect(events.first?.kind == .rejected)
        #expect(events.first?.text("field") == "parameters.hysteresis")
        #expect(engine.state.parameters.hysteresis == dec("0.05"))
        let bad = #"{"type": "change_parameters", "parameters": {"liquidation_fee": "0.1"}}"#
        #expect(throws: InputError.self) {
            _ = try SolventEngine.Scenario.decodeCommand(JSONReader(try JSONParser.parse(Array(bad.utf8)), path: "c"), assetIndex: [:], defaultTime: 0)
        }
    }
}

/// Runs `scenario` as the journal does on a reorganization notice at command `notice`: the
/// engine as it was (`old`), a rebuild from the start without the orphaned deposits (each a
/// tick), then `completeReorganization`. Returns the rebuilt engine and the notice's events.
func journaledReorg(_ scenario: SolventEngine.Scenario, notice: Int) throws -> (Engine, [EngineEvent]) {
    var old = try scenario.makeEngine()
    _ = run(&old, Array(scenario.commands[0..<notice]))
    guard case let .chainReorg(chain, fork, hashes) = scenario.commands[notice].command else { throw InputError(path: "", reason: "not a reorg") }
    let orphaned = old.orphans(chain: chain, forkHeight: fork, newHashes: hashes)
    let excluded = Set(orphaned.map(\.identity))
    var rebuilt = try scenario.makeEngine()
    let affected = Set(orphaned.map { old.state.accounts[$0.account].id })
    rebuilt.beginReplay(notice: scenario.commands[notice].time, affected: affected, from: orphaned.map(\.sequence).min()!)
    var replayed: [EngineEvent] = []
    for var command in scenario.commands[0..<notice] {
        if case let .chainDeposit(_, _, _, _, c, h, hash) = command.command, excluded.contains("\(c):\(h):\(hash)") { command.command = .tick }
        replayed += rebuilt.apply(command)
    }
    let events = rebuilt.completeReorganization(replacing: old, orphaned: orphaned,
                                                replayed: replayed.filter { $0.account.map(affected.contains) ?? false },
                                                notice: scenario.commands[notice])
    return (rebuilt, events)
}

@Suite struct ReorganizationRegressionTests {
    /// C01, rebuilt as the journal does: the withdrawal of 5,000 already left, so it stays:
    /// balance −4,000, withdrawn 5,000, and with no fund and nobody to socialize over, 4,000
    /// of bad debt; `reorganization_cost` says what the reorganization cost.
    @Test func payoutSurvivesRebuild() throws {
        let (engine, events) = try journaledReorg(try loadCase("C01-withdraw-then-reorg.json"), notice: 3)
        #expect(account(engine, "dbl").balance(0) == dec("-4000"))
        #expect(engine.state.totals[0].withdrawn == dec("5000"))
        #expect(engine.state.totals[0].deposited.isZero)
        let cost = try #require(events.first { $0.kind == .reorganizationCost })
        #expect(cost.decimal("orphaned_credit") == dec("5000"))
        #expect(cost.decimal("payouts_kept") == dec("5000"))
        #expect(cost.decimal("balance_before") == dec("1000"))
        #expect(cost.decimal("balance_after") == dec("-4000"))
        #expect(cost.decimal("deficit") == dec("4000"))
        #expect(account(engine, "dbl").badDebt == dec("4000"))
        #expect(engine.state.payouts.map(\.amount) == [dec("5000")])
        #expect(conserved(engine))
    }

    /// C01 on the engine alone (the in-place reversal): the same balance, withdrawn and debt.
    @Test func payoutSurvivesInPlaceReversal() throws {
        let (engine, events) = try runAll(try loadCase("C01-withdraw-then-reorg.json"))
        #expect(account(engine, "dbl").balance(0) == dec("-4000"))
        #expect(engine.state.totals[0].withdrawn == dec("5000"))
        #expect(events.contains { $0.kind == .reorganizationCost && $0.decimal("deficit") == dec("4000") })
        #expect(account(engine, "dbl").badDebt == dec("4000"))
        #expect(conserved(engine))
    }

    /// D9: a call known before the orphaned deposit (the starting book's, grace 0) runs as it
    /// did: the replay reproduces its liquidation (capped at 500,000 notional): short
    /// 20.05700001, balance 3,342.833334999999999997, the fund untouched.
    @Test func knownCallRunsAsItDidInTheReplay() throws {
        let (engine, _) = try journaledReorg(try loadCase("D9-reorg-replay-loses-genesis-call.json"), notice: 2)
        #expect(position(engine, "a0", "BTCUSDT") == dec("-20.05700001"))
        #expect(account(engine, "a0").balance(0) == dec("3342.833334999999999997"))
        #expect(engine.state.totals[0].insuranceFund == dec("5000"))
        #expect(conserved(engine))
    }

    /// With an insurance fund, the debt is a deficit like any other: the fund covers it.
    @Test func reorgDebtDrawsTheFund() throws {
        var scenario = try loadCase("C01-withdraw-then-reorg.json")
        scenario.insuranceFund = [("USDT", dec("10000"))]
        let (engine, events) = try journaledReorg(scenario, notice: 3)
        #expect(events.contains { $0.kind == .insuranceFundDraw && $0.decimal("amount") == dec("4000") })
        #expect(engine.state.totals[0].insuranceFund == dec("6000"))
        #expect(account(engine, "dbl").balance(0).isZero)
        #expect(engine.state.totals[0].withdrawn == dec("5000"))
        #expect(conserved(engine))
    }

    /// A call restated by a reorganization: without the orphaned deposit the account was in a
    /// call since 00:05 (deadline 01:05 with a one-hour grace); the notice comes at 02:00, so
    /// the restated deadline is 03:00 — no liquidation inside the replay (a command at 01:30
    /// falls after the old deadline), none at 02:00, one just after 03:00.
    @Test func restatedCallGetsAFullGracePeriod() throws {
        let hour: Int64 = 3_600_000
        let t0: Int64 = 1_704_067_200_000
        let scenario = try testScenario(
            accounts: #"{"id": "u", "settle": "USDT", "collateral": {"USDT": "1000"}, "positions": [{"symbol": "BTCUSDT", "quantity": "1", "entry_price": "50000", "leverage": "50"}]}"#,
            parameters: #""grace_period_ms": 3600000, "execution": "backstop", "backstop": true, "mark_staleness_ms": 86400000, "finality_depth": 1"#,
            commands: """
                {"time": \(t0 + 60_000), "type": "chain_deposit", "account": "u", "asset": "USDT", "amount": "5000", "chain": "eth", "height": 10, "block_hash": "a10"},
                {"time": \(t0 + 60_000), "type": "chain_tip", "chain": "eth", "height": 10},
                {"time": \(t0 + 300_000), "type": "mark", "symbol": "BTCUSDT", "price": "49210"},
                {"time": \(t0 + 90 * 60_000), "type": "tick"},
                {"time": \(t0 + 2 * hour), "type": "chain_reorg", "chain": "eth", "fork_height": 10, "new_hashes": {"10": "b10"}}
                """)
        for journaled in [true, false] {
            var engine: Engine
            var events: [EngineEvent]
            if journaled {
                (engine, events) = try journaledReorg(scenario, notice: 4)
            } else {
                engine = try scenario.makeEngine()
                events = run(&engine, scenario.commands)
            }
            #expect(!events.contains { $0.kind == .liquidationStarted }, "journaled \(journaled)")
            let a = engine.state.accountIndex["u"]!
            guard case .called(let deadline, _)? = engine.state.accounts[a].procedures[.cross] else {
                Issue.record("no call after the reorganization (journaled \(journaled))")
                continue
            }
            #expect(deadline == t0 + 3 * hour, "journaled \(journaled)")
            let before = engine.apply(TimedCommand(time: t0 + 3 * hour, command: .tick))
            #expect(!before.contains { $0.kind == .liquidationStarted })
            let after = engine.apply(TimedCommand(time: t0 + 3 * hour + 1, command: .tick))
            #expect(after.contains { $0.kind == .liquidationStarted && $0.text("reason") == "margin_call_deadline_passed" })
        }
    }
}

@Suite struct WithdrawableRegressionTests {
    /// Wallet 1,000, initial margin 1,000, unrealized profit 10,000: nothing is withdrawable
    /// (profit counts as margin but is not withdrawable until realized).
    @Test func unrealizedProfitIsNotWithdrawable() throws {
        let scenario = try testScenario(
            accounts: #"{"id": "u", "settle": "USDT", "collateral": {"USDT": "1000"}, "positions": [{"symbol": "BTCUSDT", "quantity": "1", "entry_price": "50000", "leverage": "60"}]}"#,
            commands: #"{"time": 1000, "type": "mark", "symbol": "BTCUSDT", "price": "60000"}"#)
        var (engine, _) = try runAll(scenario)
        // Notional 60,000 → bracket 1 (100×): IM at 60× = 1,000.
        #expect(engine.withdrawable("u") == .zero)
        let rejected = engine.apply(TimedCommand(time: 2000, command: .withdraw(account: "u", asset: "USDT", amount: 1000)))
        #expect(rejected.first?.kind == .rejected)
        #expect(rejected.first?["code"] == .integer(Int64(RejectReason.Code.insufficientMargin.rawValue)))
        #expect(account(engine, "u").balance(0) == dec("1000"))
        // Realized, the profit is withdrawable.
        _ = engine.apply(TimedCommand(time: 3000, command: .fill(account: "u", symbol: "BTCUSDT", quantity: -1, price: 60_000, fee: 0, orderID: nil)))
        #expect(engine.withdrawable("u") == dec("11000"))
    }

    /// Withdrawable = wallet − IM − open-order margin + min(0, uPnL), exactly: a withdrawal of
    /// exactly it is accepted, one more unit (10⁻¹⁸) is not.
    @Test func withdrawableIsExact() throws {
        let scenario = try testScenario(
            accounts: #"{"id": "u", "settle": "USDT", "collateral": {"USDT": "5000"}, "positions": [{"symbol": "BTCUSDT", "quantity": "1", "entry_price": "50000", "leverage": "50"}]}"#,
            commands: """
                {"time": 1000, "type": "mark", "symbol": "BTCUSDT", "price": "49000"},
                {"time": 1500, "type": "place_order", "id": "o", "account": "u", "symbol": "ETHUSDT", "quantity": "1", "price": "2400"}
                """)
        var (engine, _) = try runAll(scenario)
        // 5,000 − 49,000/50 − 2,400/125 − 1,000 = 5,000 − 980 − 19.2 − 1,000.
        let w = try #require(engine.withdrawable("u"))
        #expect(w == dec("3000.8"))
        let over = engine.apply(TimedCommand(time: 2000, command: .withdraw(account: "u", asset: "USDT", amount: w + FixedDecimal(raw: 1))))
        #expect(over.first?.kind == .rejected)
        let exact = engine.apply(TimedCommand(time: 2000, command: .withdraw(account: "u", asset: "USDT", amount: w)))
        #expect(exact.first?.kind == .withdrew)
    }

    /// `evaluate` reports `withdrawable` beside `available`: with 10,000 of unrealized profit on
    /// an initial margin of 1,000 and a wallet of 1,000, `available` is 10,000 (margin for new
    /// positions) and `withdrawable` 0; an isolated pool's profit stays in the pool.
    @Test func evaluateReportsWithdrawable() throws {
        let text = """
            {"assets": {"USDT": "1"}, "policy": {},
             "instruments": [{"symbol": "BTCUSDT", "kind": "linear_perpetual", "base": "BTC", "settle": "USDT", "contract_size": "1",
                              "brackets": [{"notional_floor": "0", "notional_cap": "100000000", "max_leverage": "100", "mmr": "0.005"}]}],
             "marks": {"BTCUSDT": "60000"},
             "accounts": [{"id": "u", "settle": "USDT", "collateral": {"USDT": "1000"},
                           "positions": [{"symbol": "BTCUSDT", "quantity": "1", "entry_price": "50000", "leverage": "60"}]},
                          {"id": "v", "settle": "USDT", "collateral": {"USDT": "3000"},
                           "positions": [{"symbol": "BTCUSDT", "quantity": "-1", "entry_price": "59000", "leverage": "60",
                                          "margin_mode": "isolated", "isolated_margin": "1500"}]}]}
            """
        let input = try EvaluateInput.decode(JSONParser.parse(Array(text.utf8)))
        let output = String(decoding: EvaluateOutput.render(input), as: UTF8.self)
        #expect(output.contains(#""available":"10000","withdrawable":"0""#))
        // v: cross 3,000, nothing held there: all withdrawable; isolated: 1,500 − 1,000 − 1,000 (loss) → 0.
        #expect(output.contains(#""available":"3000","withdrawable":"3000""#))
        #expect(output.contains(#""available":"0","withdrawable":"0""#))
        let pools = MarginEvaluator(market: input.market, policy: input.policy).evaluate(input.accounts[0]).pools
        #expect(pools[0].withdrawable == .zero && pools[0].available == dec("10000"))
    }

    /// Margin moved out of an isolated pool follows the same rule: its unrealized profit stays.
    @Test func isolatedProfitStaysInThePool() throws {
        let scenario = try testScenario(
            accounts: #"{"id": "u", "settle": "USDT", "collateral": {"USDT": "0"}, "positions": [{"symbol": "BTCUSDT", "quantity": "1", "entry_price": "50000", "leverage": "50", "margin_mode": "isolated", "isolated_margin": "1500"}]}"#,
            commands: #"{"time": 1000, "type": "mark", "symbol": "BTCUSDT", "price": "55000"}"#)
        var (engine, _) = try runAll(scenario)
        // IM 55,000 / 50 = 1,100; removable 1,500 − 1,100 = 400 (the 5,000 profit stays).
        let over = engine.apply(TimedCommand(time: 2000, command: .moveIsolatedMargin(account: "u", symbol: "BTCUSDT", amount: dec("-400.000000000000000001"))))
        #expect(over.first?.kind == .rejected)
        let ok = engine.apply(TimedCommand(time: 2000, command: .moveIsolatedMargin(account: "u", symbol: "BTCUSDT", amount: dec("-400"))))
        #expect(ok.first?.kind == .isolatedMarginMoved)
    }
}

@Suite struct WaterfallRegressionTests {
    func fills(_ events: [EngineEvent], _ id: String) -> [(FixedDecimal, FixedDecimal, String)] {
        events.filter { $0.kind == .liquidationFill && $0.account == id }.map { ($0.decimal("quantity")!, $0.decimal("price")!, $0.text("executor")!) }
    }

    /// D1: what ADL cannot take goes to the backstop at the bankruptcy price, not to the book.
    @Test func backstopTakesWhatADLCannot() throws {
        let (engine, events) = try runAll(try loadCase("D1-backstop-after-fund-dry.json"))
        #expect(fills(events, "l").map { "\($0.0)@\($0.1):\($0.2)" } == ["-0.2@48500:depth", "-0.8@49000:backstop"])
        #expect(account(engine, "l").balance(0).isZero)
        #expect(account(engine, "l").badDebt.isZero)
        #expect(engine.state.totals[0].insuranceFund.isZero)
        #expect(conserved(engine))
    }

    /// D2: without a backstop the book is walked on at its own levels and quantities.
    @Test func bookWalkedOnAfterTheFundRunsDry() throws {
        let (engine, events) = try runAll(try loadCase("D2-walk-after-fund-dry.json"))
        #expect(fills(events, "l").map { "\($0.0)@\($0.1)" } == ["-0.2@48500", "-0.3@48500", "-0.5@48000"])
        #expect(account(engine, "l").balance(0) == dec("-650"))
        #expect(account(engine, "l").badDebt == dec("650"))
        #expect(conserved(engine))
    }

    /// D3: a fill is always at a level of the book, never at the mark.
    @Test func fillsAreAtBookLevels() throws {
        let (engine, events) = try runAll(try loadCase("D3-walk-after-fund-dry-at-mark.json"))
        #expect(fills(events, "l").map { "\($0.0)@\($0.1)" } == ["-1@47000"])
        #expect(account(engine, "l").badDebt == dec("2000"))
        #expect(conserved(engine))
    }

    /// D8: bad debt written off once (the kind is tested in BadDebtRegressionTests).
    @Test func badDebtCase() throws {
        let scenario = try loadCase("D8-bad-debt-counted-twice.json")
        let (engine, events) = try runAll(scenario)
        let recorded = events.filter { $0.kind == .badDebt }.reduce(FixedDecimal.zero) { $0 + $1.decimal("amount")! }
        let carried = engine.state.accounts.reduce(FixedDecimal.zero) { $0 + $1.writtenOff }
        let total = engine.state.accounts.reduce(FixedDecimal.zero) { $0 + $1.badDebt }
        #expect(recorded == total)
        #expect(carried <= total)
        // 19,918.5 from the first liquidation, 4.4 more from the second: 19,922.9 in all.
        #expect(account(engine, "a0").badDebt == dec("19922.9"))
        #expect(account(engine, "a0").balance(0) == dec("-19922.9"))
        #expect(engine.state.totals[0].insuranceFund.isZero)
        #expect(engine.state.accounts.allSatisfy { $0.writtenOff <= FixedDecimal.maximum(.zero, -$0.balance($0.account.settle)) })
        #expect(conserved(engine))
    }

    /// D4 and D5 as filed (the kind is tested in IsolationRegressionTests).
    @Test func waitingPoolAndFlatDeficitCases() throws {
        let (d4, _) = try runAll(try loadCase("D4-other-pool-of-a-waiting-account.json"))
        #expect(d4.state.totals[0].insuranceFund == dec("9550"))
        #expect(position(d4, "m", "BTCUSDT") == dec("1") && position(d4, "m", "ETHUSDT") == .zero)
        let (d5, _) = try runAll(try loadCase("D5-flat-by-trader-fill-deficit.json"))
        #expect(d5.state.totals[0].insuranceFund == dec("4800"))
        #expect(account(d5, "l").balance(0).isZero)
    }

    /// D6: a step fraction of 0.5 closes half the position per step.
    @Test func halfStepsHalve() throws {
        let (engine, events) = try runAll(try loadCase("D6-step-fraction-half-closes-whole.json"))
        #expect(fills(events, "l").first?.0 == dec("-10"))
        #expect(engine.state.totals[0].insuranceFund == dec("4000"))
        #expect(account(engine, "l").account.positions.isEmpty)
    }

    /// D7: a level outside the band is skipped; the walk goes on inside it.
    @Test func levelOutsideTheBandIsSkipped() throws {
        let (engine, events) = try runAll(try loadCase("D7-level-above-band-stops-walk.json"))
        #expect(fills(events, "l").map { "\($0.0)@\($0.1):\($0.2)" } == ["-0.3@48900:depth", "-0.7@49000:backstop"])
        #expect(engine.state.totals[0].insuranceFund == dec("970"))
        #expect(position(engine, "s", "BTCUSDT") == dec("-5"))
        #expect(conserved(engine))
    }
}
