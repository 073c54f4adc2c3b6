import Foundation
import SolventCore
import SolventEngine
import SolventFuzzing
import SolventRisk
import SolventTestSupport
import Testing

/// Portfolio-margined accounts in the engine (issue 17, docs/options.md): option marks, option
/// fills with their premium, the portfolio pool from `PortfolioMargin` (the `evaluate`
/// implementation) through the margin-call procedure, the marginal pre-trade check and the
/// withdrawal check.
@Suite struct PortfolioEngineTests {
    let t0 = OptionBook.startTime

    /// Premium moves in the settle asset at the option's contract size; the engine's pool is the
    /// pool `evaluate` computes for the same account (the one implementation).
    @Test func optionFillPaysPremiumAndPoolIsEvaluates() throws {
        var engine = try OptionBook.engine()
        // Short 5 calls at 1,000: +5,000 premium. Long 2 puts at 500: −1,000. Long 0.5 BTCUSDT.
        for command in [EngineCommand.fill(account: "p", symbol: "BTC-60000-C", quantity: dec("-5"), price: dec("1000"), fee: dec("3"), orderID: nil),
                        .fill(account: "p", symbol: "BTC-40000-P", quantity: dec("2"), price: dec("500"), fee: .zero, orderID: nil),
                        .fill(account: "p", symbol: "BTCUSDT", quantity: dec("0.5"), price: dec("50000"), fee: .zero, orderID: nil)] {
            let events = engine.apply(at(t0 + 1_000, command))
            #expect(!events.contains { $0.kind == .rejected }, "\(events.map(\.json))")
        }
        let p = account(engine, "p")
        // 100,000 + 5,000 − 3 (fee) − 1,000.
        #expect(p.balance(0) == dec("103997"))
        #expect(p.account.positions.count == 3)
        // External (the clearing side) received −5,000 + 1,000 of premium.
        #expect(engine.state.totals[0].external.description == "-4000")
        #expect(conserved(engine))
        // The engine's pool = evaluate's pool for the account as the evaluate contract states it.
        let mine = engine.evaluateAccount(p).cross
        let theirs = try OptionBook.evaluatePool(OptionBook.evaluateDocument(engine, account: "p")).pool
        #expect(mine.equity == theirs.equity && mine.initialMargin == theirs.initialMargin && mine.maintenanceMargin == theirs.maintenanceMargin)
        #expect(mine.status == theirs.status && mine.marginRatio == theirs.marginRatio && mine.callAmount == theirs.callAmount)
        // Equity = cash + Σ q·cs·mark = 103,997 − 5·1,000 + 2·500 + 0 (perp at entry).
        #expect(mine.equity == dec("99997"))
        #expect(mine.initialMargin.isPositive && mine.maintenanceMargin == Engine.portfolioPolicy.maintenanceFraction * mine.initialMargin)
        EngineFuzzer.checkInvariants(engine)
    }

    /// A short strangle pushed through a crash with a vol shock: warning / call with its demand
    /// and deadline / liquidation after the grace period, from the portfolio pool's numbers.
    /// Only the put is re-marked on the way down; the call keeps its fed mark through the −20 %
    /// (`option_mark_tolerance` 1: the stale-mark rule, StaleOptionMarkTests, would re-mark it by
    /// the model after the first 1 % and the pool would not be called on this path).
    @Test func portfolioPoolRunsTheMarginCallProcedure() throws {
        var engine = try OptionBook.scenario(collateral: "30000", parameters: #"{"backstop": true, "adl": false, "option_mark_tolerance": "1"}"#).makeEngine()
        var all: [EngineEvent] = []
        all += engine.apply(at(t0 + 1_000, .fill(account: "p", symbol: "BTC-60000-C", quantity: dec("-5"), price: dec("1000"), fee: .zero, orderID: nil)))
        all += engine.apply(at(t0 + 1_000, .fill(account: "p", symbol: "BTC-40000-P", quantity: dec("-5"), price: dec("500"), fee: .zero, orderID: nil)))
        #expect(engine.evaluateAccount(account(engine, "p")).cross.status == .healthy)
        // The crash: BTC falls in 0.5 % steps towards −20 %, the put's mark towards 3,500 and its vol to 1.2,
        // until the portfolio pool is called.
        var time = t0 + 60_000
        for step in 1...40 where !all.contains(where: { $0.kind == .marginCall }) {
            time += 60_000
            let price = dec("50000") - FixedDecimal(step) * dec("250")
            let put = dec("500") + FixedDecimal(step) * dec("75")
            all += engine.apply(at(time, .markPrice(symbol: "BTCUSDT", price: price, sourceTime: time)))
            all += engine.apply(at(time, .optionMark(symbol: "BTC-40000-P", price: put, impliedVol: dec("0.7") + FixedDecimal(step) * dec("0.0125"), sourceTime: time)))
        }
        #expect(all.contains { $0.kind == .marginWarning && $0.account == "p" })
        #expect(!all.contains { $0.kind == .liquidationStarted })
        let pool = engine.evaluateAccount(account(engine, "p")).cross
        let calls = all.filter { $0.kind == .marginCall && $0.account == "p" }
        #expect(calls.count == 1, "\(all.filter { $0.account == "p" }.map(\.json))")
        if let call = calls.first {
            #expect(call.text("pool") == "portfolio")  // a portfolio account's one pool (Engine+EventPoolName.swift)
            #expect(call.decimal("call_amount")?.isPositive == true)
            #expect(call["deadline"] == .integer(call.time + engine.state.parameters.gracePeriodMs))
        }
        #expect(pool.status >= .marginCall)
        // Uncured past the deadline: liquidated; the first step closes a short option (the put, the largest contributor).
        let late = time + engine.state.parameters.gracePeriodMs + 1
        let events = engine.apply(at(late, .tick))
        #expect(events.contains { $0.kind == .liquidationStarted && $0.account == "p" })
        let fills = events.filter { $0.kind == .liquidationFill && $0.account == "p" }
        #expect(fills.first?.text("symbol") == "BTC-40000-P")
        #expect(conserved(engine))
        EngineFuzzer.checkInvariants(engine)
    }

    /// A bankrupt option book goes through the same waterfall as a linear one: the short option
    /// is closed at the mark (backstop), the liquidation fee is charged only out of a surplus, and
    /// the deficit is drawn from the insurance fund; money is conserved.
    @Test func bankruptOptionBookDrawsTheFund() throws {
        var engine = try OptionBook.engine(collateral: "12000")
        _ = engine.apply(at(t0 + 1_000, .fill(account: "p", symbol: "BTC-40000-P", quantity: dec("-5"), price: dec("500"), fee: .zero, orderID: nil)))
        #expect(engine.evaluateAccount(account(engine, "p")).cross.status < .marginCall)
        let fund = engine.state.totals[0].insuranceFund
        // The put jumps to 4,000 with BTC at 37,000: equity 12,000 − 5·(4,000 − 500) = −5,500.
        let time = t0 + 120_000
        var events = engine.apply(at(time, .markPrice(symbol: "BTCUSDT", price: dec("37000"), sourceTime: time)))
        events += engine.apply(at(time, .optionMark(symbol: "BTC-40000-P", price: dec("4000"), impliedVol: dec("1.1"), sourceTime: time)))
        #expect(events.contains { $0.kind == .liquidationStarted && $0.account == "p" })
        #expect(events.contains { $0.kind == .liquidationFill && $0.text("symbol") == "BTC-40000-P" })
        #expect(account(engine, "p").account.positions.isEmpty)
        // The deficit: 12,000 + 2,500 premium − 5·4,000 = −5,500, drawn from the fund (no fee: no surplus).
        #expect(engine.state.totals[0].insuranceFund == fund - dec("5500"))
        #expect(account(engine, "p").balance(0).isZero && account(engine, "p").badDebt.isZero)
        #expect(conserved(engine))
        EngineFuzzer.checkInvariants(engine)
    }

    /// Pre-trade from the marginal portfolio margin: a risk-increasing order reserves exactly
    /// IM(after) − IM(before) from `PortfolioMargin`; a hedge that lowers the IM reserves 0;
    /// an order beyond the free margin is refused (2001) and changes nothing.
    @Test func preTradeUsesMarginalPortfolioMargin() throws {
        var engine = try OptionBook.engine(collateral: "20000")
        _ = engine.apply(at(t0 + 1_000, .fill(account: "p", symbol: "BTC-60000-C", quantity: dec("-5"), price: dec("1000"), fee: .zero, orderID: nil)))
        let margin = engine.portfolioMargin
        let before = margin.evaluate(engine.evaluationView(account(engine, "p"))).pool.initialMargin
        var more = account(engine, "p")
        more.account.positions[0].quantity = dec("-6")
        let after = margin.evaluate(engine.evaluationView(more)).pool.initialMargin
        let check = try engine.checkOrder(id: "o1", account: "p", symbol: "BTC-60000-C", quantity: dec("-1"), price: dec("1000"), reduceOnly: false)
        #expect(check.reservedMargin == after - before && check.reservedMargin.isPositive)
        // Buying BTCUSDT hedges the short calls against a rise: reserves max(0, ΔIM).
        var hedged = account(engine, "p")
        hedged.account.positions.append(Position(instrument: 0, quantity: dec("1"), entryPrice: dec("50000"), leverage: nil, marginMode: .cross))
        let hedgedIM = margin.evaluate(engine.evaluationView(hedged)).pool.initialMargin
        let hedge = try engine.checkOrder(id: "o2", account: "p", symbol: "BTCUSDT", quantity: dec("1"), price: dec("50000"), reduceOnly: false)
        #expect(hedge.reservedMargin == FixedDecimal.maximum(.zero, hedgedIM - before))
        // Writing 100 more calls does not fit.
        let hash = engine.stateHash()
        let refused = engine.apply(at(t0 + 2_000, .placeOrder(id: "big", account: "p", symbol: "BTC-60000-C", quantity: dec("-100"), price: dec("1000"), reduceOnly: false)))
        #expect(refused.first?["code"] == .integer(2001))
        // A rejection changes nothing but the command count and time.
        #expect(engine.state.orders.isEmpty && account(engine, "p").account.positions.count == 1)
        _ = hash
        let accepted = engine.apply(at(t0 + 2_000, .placeOrder(id: "o1", account: "p", symbol: "BTC-60000-C", quantity: dec("-1"), price: dec("1000"), reduceOnly: false)))
        #expect(accepted.first?.kind == .orderAccepted && accepted.first?.decimal("reserved_margin") == after - before)
    }

    /// The withdrawal check of a portfolio account: `collateral − IM + min(0, uPnL) − order
    /// margin` of the portfolio pool; exactly the withdrawable amount is accepted, a unit more refused.
    @Test func withdrawalCheckUsesThePortfolioPool() throws {
        var engine = try OptionBook.engine(collateral: "20000")
        _ = engine.apply(at(t0 + 1_000, .fill(account: "p", symbol: "BTC-60000-C", quantity: dec("-5"), price: dec("1000"), fee: .zero, orderID: nil)))
        let pool = engine.evaluateAccount(account(engine, "p"), prices: false).cross
        let expected = pool.collateral + FixedDecimal.minimum(.zero, pool.equity - pool.collateral) - pool.initialMargin
        let free = try #require(engine.withdrawable("p"))
        #expect(free == FixedDecimal.maximum(.zero, expected) && free.isPositive)
        // The premium received (5,000) is in the wallet but not withdrawable: collateral is 20,000.
        #expect(account(engine, "p").balance(0) == dec("25000") && pool.collateral == dec("20000"))
        let tooMuch = engine.apply(at(t0 + 2_000, .withdraw(account: "p", asset: "USDT", amount: free + dec("0.000001"))))
        #expect(tooMuch.first?["code"] == .integer(2001))
        let exact = engine.apply(at(t0 + 2_000, .withdraw(account: "p", asset: "USDT", amount: free)))
        #expect(exact.first?.kind == .withdrew)
        #expect(conserved(engine))
    }

    /// The new commands are typed, checked and journaled: option_mark (an option, vol in
    /// (0, 10]), set_account_mode (no positions or orders), settlement_price (dated, before expiry).
    @Test func commandsAreCheckedAndRoundTrip() throws {
        var engine = try OptionBook.engine()
        func code(_ events: [EngineEvent]) -> EventValue? { events.first { $0.kind == .rejected }?["code"] }
        #expect(code(engine.apply(at(t0 + 1, .optionMark(symbol: "BTCUSDT", price: dec("1"), impliedVol: dec("0.5"), sourceTime: t0 + 1)))) == .integer(1001))
        #expect(code(engine.apply(at(t0 + 1, .optionMark(symbol: "BTC-60000-C", price: dec("1"), impliedVol: dec("0"), sourceTime: t0 + 1)))) == .integer(1009))
        #expect(code(engine.apply(at(t0 + 1, .optionMark(symbol: "BTC-60000-C", price: dec("1"), impliedVol: dec("10.5"), sourceTime: t0 + 1)))) == .integer(1009))
        #expect(code(engine.apply(at(t0 + 1, .settlementPrice(symbol: "BTCUSDT", price: dec("1"))))) == .integer(1001))
        _ = engine.apply(at(t0 + 2, .fill(account: "s", symbol: "BTCUSDT", quantity: dec("1"), price: dec("50000"), fee: .zero, orderID: nil)))
        #expect(code(engine.apply(at(t0 + 3, .setAccountMode(account: "s", portfolio: true)))) == .integer(2010))
        // A portfolio account has one pool: no isolated margin; and no inverse contracts.
        #expect(code(engine.apply(at(t0 + 3, .setMarginMode(account: "p", symbol: "BTCUSDT", isolated: true)))) == .integer(1001))
        // Accepted: a new account switched to portfolio, an option mark moving the valuation time.
        _ = engine.apply(at(t0 + 4, .deposit(account: "q", asset: "USDT", amount: dec("1000"), settle: nil)))
        #expect(engine.apply(at(t0 + 4, .setAccountMode(account: "q", portfolio: true))).first?.kind == .accountModeSet)
        #expect(account(engine, "q").isPortfolio)
        _ = engine.apply(at(t0 + 5, .optionMark(symbol: "BTC-60000-C", price: dec("900"), impliedVol: dec("0.55"), sourceTime: t0 + 5)))
        #expect(engine.state.optionMarks?.valuationTime == t0 + 5 && engine.state.optionMarks?.impliedVols[1] == dec("0.55"))
        #expect(engine.state.market.marks[1] == dec("900"))
        // Every new command encodes canonically and decodes back to itself.
        for command in [EngineCommand.optionMark(symbol: "BTC-60000-C", price: dec("900"), impliedVol: dec("0.55"), sourceTime: t0 + 5),
                        .setAccountMode(account: "q", portfolio: true), .setAccountMode(account: "q", portfolio: false),
                        .settlementPrice(symbol: "BTC-60000-C", price: dec("61000"))] {
            let timed = TimedCommand(time: t0 + 9, command: command)
            let decoded = try SolventEngine.Scenario.decodeCommand(JSONReader(JSONParser.parse(timed.canonicalJSON), path: ""), assetIndex: [:], defaultTime: 0)
            #expect(decoded == timed)
        }
        EngineFuzzer.checkInvariants(engine)
    }

    /// Snapshot and restore keep the account mode and the option inputs (state hash and the
    /// answers to the following commands identical).
    @Test func snapshotKeepsModeAndOptionMarks() throws {
        var engine = try OptionBook.engine(collateral: "30000")
        _ = engine.apply(at(t0 + 1_000, .fill(account: "p", symbol: "BTC-60000-C", quantity: dec("-5"), price: dec("1000"), fee: .zero, orderID: nil)))
        _ = engine.apply(at(t0 + 2_000, .settlementPrice(symbol: "BTC-60000-C", price: dec("61000"))))
        let data = try JSONEncoder().encode(engine.state)
        var restored = Engine(restoring: try JSONDecoder().decode(EngineState.self, from: data))
        #expect(restored.stateHash() == engine.stateHash())
        #expect(account(restored, "p").isPortfolio && restored.state.optionMarks == engine.state.optionMarks)
        let next = at(t0 + 3_000, .markPrice(symbol: "BTCUSDT", price: dec("58000"), sourceTime: t0 + 3_000))
        #expect(restored.apply(next).map(\.json) == engine.apply(next).map(\.json))
        #expect(restored.stateHash() == engine.stateHash())
    }
}
