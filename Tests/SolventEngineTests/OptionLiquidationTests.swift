import Foundation
import SolventCore
import SolventEngine
import SolventFuzzing
import SolventRisk
import SolventTestSupport
import Testing

/// Liquidating an option book (issue 17, docs/options.md "Liquidating an option book",
/// Engine+OptionLiquidation.swift): the order by risk cut per unit of cost, partial steps that
/// stop at the restore ratio, and the thin-book delta hedge — numbers worked by hand.
@Suite struct OptionLiquidationTests {
    let t0 = OptionBook.startTime

    /// Standard account `s` (collateral 50,000) writes 5 calls (60,000, mark 1,000) and 5 puts
    /// (40,000, mark 500) with BTC at 50,000; the option books offer asks at 1,050 (call) and
    /// 505 (put). Standard option MM (Deribit, docs/options.md), per contract:
    ///   call: 0.075·50,000 + 1,000 = 4,750 → 23,750 for 5;
    ///   put:  max(0.075·50,000, 0.075·500) + 500 = 4,250 → 21,250 for 5;
    /// pool MM 45,000, equity 50,000 (the premiums' cash offsets the options' value): ratio 0.9,
    /// above the call ratio 0.85 → a margin call with no grace period.
    func calledWriter(_ parameters: String) throws -> Engine {
        var engine = try OptionBook.scenario(collateral: "50000", parameters: parameters).makeEngine()
        _ = engine.apply(at(t0 + 1_000, .book(symbol: "BTC-60000-C", bids: [], asks: [BookLevel(price: dec("1050"), quantity: dec("10"))])))
        _ = engine.apply(at(t0 + 1_000, .book(symbol: "BTC-40000-P", bids: [], asks: [BookLevel(price: dec("505"), quantity: dec("10"))])))
        _ = engine.apply(at(t0 + 1_000, .fill(account: "s", symbol: "BTC-60000-C", quantity: dec("-5"), price: dec("1000"), fee: .zero, orderID: nil)))
        let events = engine.apply(at(t0 + 1_000, .fill(account: "s", symbol: "BTC-40000-P", quantity: dec("-5"), price: dec("500"), fee: .zero, orderID: nil)))
        #expect(events.contains { $0.kind == .marginCall && $0.account == "s" })
        let pool = engine.evaluateAccount(account(engine, "s")).cross
        #expect(pool.maintenanceMargin == dec("45000") && pool.equity == dec("50000"))
        return engine
    }

    /// The ratio order differs from the pure-risk order. Closing all 5 calls cuts the MM most
    /// (23,750 > 21,250), but costs more: buying 5 calls at the 1,050 ask gives up 5·50 = 250
    /// against the mark, plus the fee 0.005·5·1,000 = 25 → 275; the puts cost 5·5 = 25 + 0.005·5·500
    /// = 12.5 → 37.5. Ratios: puts 21,250 / 37.5 = 566.7, calls 23,750 / 275 = 86.4 → the puts
    /// go first. The step is partial (step fraction 1 here): at the call's deadline the pool must
    /// reach the restore ratio 0.70; closing x puts leaves MM = 45,000 − 4,250·x and equity
    /// 50,000 − 7.5·x (5 slippage + 2.5 fee per contract), so it needs
    /// 45,000 − 4,250·x ≤ 0.7·(50,000 − 7.5·x) ⇔ x ≥ 2.356 → 3 whole contracts (2 leaves
    /// 36,500 > 0.7·49,985 = 34,989.5). The fill: +3 puts at 505, fee 0.005·3·505 = 7.575.
    @Test func ratioOrderDiffersFromRiskOrder() throws {
        var engine = try calledWriter(#"{"backstop": false, "adl": false, "liquidation_step_fraction": "1"}"#)
        let plan = engine.optionLiquidationPlan(of: "s")
        #expect(plan.map(\.symbol) == ["BTC-40000-P", "BTC-60000-C"])
        #expect(plan.count == 2)
        if plan.count == 2 {
            #expect(plan[0].riskCut == dec("21250") && plan[0].cost == dec("37.5") && plan[0].quantity == dec("5"))
            #expect(plan[1].riskCut == dec("23750") && plan[1].cost == dec("275") && plan[1].quantity == dec("5"))
            #expect(plan[1].riskCut > plan[0].riskCut)  // the pure-risk order would take the calls
        }
        let fund = engine.state.totals[0].insuranceFund
        let events = engine.apply(at(t0 + 2_000, .tick))
        #expect(events.contains { $0.kind == .liquidationStarted && $0.account == "s" })
        let fills = events.filter { $0.kind == .liquidationFill && $0.account == "s" }
        #expect(fills.map { $0.text("symbol") } == ["BTC-40000-P"])
        #expect(fills.first?.decimal("quantity") == dec("3") && fills.first?.decimal("price") == dec("505"))
        #expect(engine.state.totals[0].insuranceFund == fund + dec("7.575"))
        #expect(events.contains { $0.kind == .liquidationEnded && $0.account == "s" })
        let s = account(engine, "s").account
        #expect(s.positions.first { engine.state.market.instruments[$0.instrument].symbol == "BTC-40000-P" }?.quantity == dec("-2"))
        #expect(s.positions.first { engine.state.market.instruments[$0.instrument].symbol == "BTC-60000-C" }?.quantity == dec("-5"))
        #expect(conserved(engine))
        EngineFuzzer.checkInvariants(engine)
    }

    /// The partial steps of the linear path (at most 25 % of the position a step, in whole
    /// contracts: ⌈1.25⌉ = 2, then ⌈0.75⌉ = 1) stop at the restore ratio: after +2 puts MM is
    /// 36,500 against 0.7·(50,000 − 10 − 5.05) = 34,989.5 (not cured); the next step ranks the
    /// puts first again (1 contract: 4,250 / 7.5 against the calls' 2 contracts: 9,500 / 110)
    /// and +1 put cures it: MM 32,250 ≤ 0.7·(49,984.95 − 5 − 2.525) = 34,984.2. 3 of 5 puts closed.
    @Test func partialStepsStopAtTheRestoreRatio() throws {
        var engine = try calledWriter(#"{"backstop": false, "adl": false}"#)
        let events = engine.apply(at(t0 + 2_000, .tick))
        let fills = events.filter { $0.kind == .liquidationFill && $0.account == "s" }
        #expect(fills.map { $0.text("symbol") ?? "" } == ["BTC-40000-P", "BTC-40000-P"])
        #expect(fills.compactMap { $0.decimal("quantity") } == [dec("2"), dec("1")])
        #expect(events.contains { $0.kind == .liquidationEnded && $0.account == "s" && $0.text("reason") == "margin call cured by the liquidation" })
        let pool = engine.evaluateAccount(account(engine, "s")).cross
        #expect(pool.maintenanceMargin == dec("32250"))
        #expect(FixedDecimal.compareProducts(pool.maintenanceMargin, .one, pool.equity, dec("0.70")) <= 0)
        #expect(conserved(engine))
        EngineFuzzer.checkInvariants(engine)
    }

    /// The thin-book delta hedge. Portfolio account `p` writes 5 calls (60,000) with BTC at
    /// 50,000, vol 0.60, 30 days to expiry, and pays a 12,000 fee: equity 8,000, under its
    /// scenario MM → liquidated at once. No option book and no backstop: the call cannot be
    /// bought back, so with `option_delta_hedge` the liquidator buys the perpetual instead.
    /// Black-76 call delta: T = 30/365 = 0.0821918, σ√T = 0.1720150,
    /// d1 = (ln(50,000/60,000) + σ²T/2) / σ√T = (−0.1823216 + 0.0147945) / 0.1720150 = −0.9739114,
    /// Δ = N(d1) = 0.16505026 (to 8 digits); pool delta = −5 · 0.16505026 = −0.8252513 BTC, so
    /// the hedge buys 0.8252513 BTCUSDT (contract size 1) at the 50,010 ask.
    @Test func deltaHedgeWhenTheOptionBookIsThin() throws {
        func run(hedge: Bool) throws -> (Engine, [EngineEvent]) {
            var engine = try OptionBook.scenario(collateral: "20000", parameters: #"{"backstop": false, "adl": false, "option_delta_hedge": \#(hedge)}"#).makeEngine()
            #expect(engine.state.parameters.deltaHedgeEnabled == hedge)
            _ = engine.apply(at(t0 + 1_000, .book(symbol: "BTCUSDT", bids: [], asks: [BookLevel(price: dec("50010"), quantity: dec("10"))])))
            let events = engine.apply(at(t0 + 1_000, .fill(account: "p", symbol: "BTC-60000-C", quantity: dec("-5"), price: dec("1000"), fee: dec("12000"), orderID: nil)))
            return (engine, events)
        }
        let (hedged, events) = try run(hedge: true)
        #expect(events.contains { $0.kind == .liquidationStarted && $0.account == "p" })
        let fills = events.filter { $0.kind == .liquidationFill && $0.account == "p" }
        #expect(fills.count == 1)
        if let fill = fills.first {
            #expect(fill.text("symbol") == "BTCUSDT" && fill.text("executor") == "delta_hedge" && fill.text("hedged_option") == "BTC-60000-C")
            #expect(fill.decimal("quantity") == dec("0.8252513") && fill.decimal("price") == dec("50010"))
            #expect(fill.decimal("pool_delta") == dec("-0.8252513"))
        }
        #expect(hedged.poolDelta(account(hedged, "p"), base: "BTC").magnitude <= dec("0.00000001"))
        #expect(conserved(hedged))
        EngineFuzzer.checkInvariants(hedged)
        // Off (the default): the step waits for liquidity, visibly; nothing trades.
        let (plain, off) = try run(hedge: false)
        #expect(!off.contains { $0.kind == .liquidationFill })
        #expect(off.contains { $0.kind == .liquidationThrottled && $0.account == "p" })
        #expect(plain.stateHash() != hedged.stateHash())
    }

    /// Material steps first: in the short-strangle example (docs/options.md) the 9,500 calls are
    /// nearly worthless after the crash (mark 0.2): closing 3 of them cuts the MM by about 1 for a
    /// cost of about 0.003 (the best ratio), but that is under a tenth of the puts' cut (about
    /// 1,370 for 3, cost about 30), so the puts go first; the pool is back above maintenance
    /// with every call kept, as the example describes.
    @Test func materialStepsFirstInTheShortStrangle() throws {
        let (engine, events) = try runScenario("short-strangle-2020-crash.json")
        let fills = events.filter { $0.kind == .liquidationFill && $0.account == "olga" }
        #expect(!fills.isEmpty)
        #expect(fills.allSatisfy { $0.text("symbol") == "BTC-27MAR20-6500-P" })
        let calls = account(engine, "olga").account.positions.first { engine.state.market.instruments[$0.instrument].symbol == "BTC-27MAR20-9500-C" }
        #expect(calls?.quantity == dec("-10"))
    }

    /// The flag is in the state hash only when on: a state with it off hashes as one without it
    /// (nil); a snapshot of the parameters without the key decodes to off.
    @Test func hedgeFlagInHashAndSnapshot() throws {
        let off = try OptionBook.scenario(parameters: #"{"backstop": true, "adl": false, "option_delta_hedge": false}"#).makeEngine()
        let absent = try OptionBook.scenario(parameters: #"{"backstop": true, "adl": false}"#).makeEngine()
        let on = try OptionBook.scenario(parameters: #"{"backstop": true, "adl": false, "option_delta_hedge": true}"#).makeEngine()
        #expect(off.stateHash() == absent.stateHash())
        #expect(on.stateHash() != absent.stateHash())
        #expect(off.state.parameters.optionDeltaHedge == nil)
        let encoded = try JSONEncoder().encode(on.state.parameters)
        #expect(try JSONDecoder().decode(EngineParameters.self, from: encoded).deltaHedgeEnabled)
        let plain = try JSONEncoder().encode(absent.state.parameters)
        #expect(!String(decoding: plain, as: UTF8.self).contains("optionDeltaHedge"))
        #expect(try !JSONDecoder().decode(EngineParameters.self, from: plain).deltaHedgeEnabled)
    }
}
