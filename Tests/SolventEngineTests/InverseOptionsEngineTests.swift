import Foundation
import SolventCore
import SolventEngine
import SolventFuzzing
import SolventRisk
import SolventTestSupport
import Testing

/// A small coin-settled option market (Deribit-style BTC options, docs/options.md "Coin-settled
/// (inverse) options"): USD and BTC, an inverse perpetual BTC-PERP (10 USD contracts) at 50,000,
/// an inverse future BTC-FUT expiring with the options, BTC-settled options on BTC-PERP — a
/// 60,000 call (mark 0.02 BTC, vol 0.60) and a 40,000 put (mark 0.01 BTC, vol 0.70), both
/// expiring 30 days after the start — and a linear perpetual BTCUSD-L settled in USD (a
/// coin-settled option on it is refused by the scenario decoder, and by the engine's trading
/// rule, `inverseOptionUnderlying`). Accounts: `s` (standard, 10 BTC),
/// `w` (standard, 1 BTC), `u` (standard, USD 100,000), `p` (portfolio, 10 BTC).
enum InverseOptionBook {
    static let start = OptionBook.start
    static let expiry = OptionBook.expiry
    static let startTime = OptionBook.startTime
    static let expiryTime = OptionBook.expiryTime

    static func text(extraAccounts: String = "", commands: String = "[]", parameters: String = #"{"backstop": true, "adl": false}"#,
                     optionKind: String = "inverse_option") -> String {
        let brackets = #"[{"notional_floor": "0", "notional_cap": "1000000000", "max_leverage": "50", "mmr": "0.01"}]"#
        return """
        {"start": {"time": "\(start)", "valuation_time": "\(start)",
          "policy": {"warning_ratio": "0.70", "call_ratio": "0.85", "restore_ratio": "0.70"},
          "assets": {"USD": "1", "BTC": "50000"}, "haircuts": {},
          "instruments": [
            {"symbol": "BTC-PERP", "kind": "inverse_perpetual", "base": "BTC", "settle": "BTC", "contract_size": "10", "brackets": \(brackets)},
            {"symbol": "BTC-FUT", "kind": "inverse_future", "expiry": "\(expiry)", "base": "BTC", "settle": "BTC", "contract_size": "10", "brackets": \(brackets)},
            {"symbol": "BTCUSD-L", "kind": "linear_perpetual", "base": "BTC", "settle": "USD", "contract_size": "1", "brackets": \(brackets)},
            {"symbol": "BTC-60000-C", "kind": "\(optionKind)", "right": "call", "strike": "60000", "expiry": "\(expiry)", "underlying": "BTC-PERP",
             "base": "BTC", "settle": "BTC", "contract_size": "1", "brackets": \(brackets)},
            {"symbol": "BTC-40000-P", "kind": "\(optionKind)", "right": "put", "strike": "40000", "expiry": "\(expiry)", "underlying": "BTC-PERP",
             "base": "BTC", "settle": "BTC", "contract_size": "1", "brackets": \(brackets)}],
          "marks": {"BTC-PERP": "50000", "BTC-FUT": "50000", "BTCUSD-L": "50000", "BTC-60000-C": "0.02", "BTC-40000-P": "0.01"},
          "implied_vols": {"BTC-60000-C": "0.60", "BTC-40000-P": "0.70"},
          "accounts": [
           {"id": "s", "settle": "BTC", "collateral": {"BTC": "10"}, "positions": []},
           {"id": "w", "settle": "BTC", "collateral": {"BTC": "1"}, "positions": []},
           {"id": "u", "settle": "USD", "collateral": {"USD": "100000"}, "positions": []},
           {"id": "p", "mode": "portfolio", "settle": "BTC", "collateral": {"BTC": "10"}, "positions": []}\(extraAccounts)]},
         "parameters": \(parameters),
         "insurance_fund": {"BTC": "100"},
         "commands": \(commands)}
        """
    }

    static func scenario(extraAccounts: String = "", commands: String = "[]", parameters: String = #"{"backstop": true, "adl": false}"#) throws -> SolventEngine.Scenario {
        try SolventEngine.Scenario.decode(JSONParser.parse([UInt8](text(extraAccounts: extraAccounts, commands: commands, parameters: parameters).utf8)))
    }

    static func engine() throws -> Engine { try scenario().makeEngine() }
}

@Suite struct InverseOptionsEngineTests {
    let t0 = InverseOptionBook.startTime

    func fill(_ a: String, _ symbol: String, _ q: String, _ p: String) -> EngineCommand {
        .fill(account: a, symbol: symbol, quantity: dec(q), price: dec(p), fee: .zero, orderID: nil)
    }

    /// Trading rules: a coin-settled option trades in a standard account settled in its coin; a
    /// USD account is refused (settle mismatch 1008), and so is an isolated option (2012).
    @Test func tradingRules() throws {
        var engine = try InverseOptionBook.engine()
        #expect(engine.state.market.instruments[3].isInverseOption)
        let ok = engine.apply(at(t0 + 1, fill("s", "BTC-60000-C", "1", "0.02")))
        #expect(!ok.contains { $0.kind == .rejected }, "\(ok.map(\.json))")
        let usd = engine.apply(at(t0 + 2, fill("u", "BTC-60000-C", "1", "0.02")))
        #expect(usd.first?["code"] == .integer(1008))
        let isolate = engine.apply(at(t0 + 4, .setMarginMode(account: "w", symbol: "BTC-40000-P", isolated: true)))
        #expect(isolate.first?["code"] == .integer(2012))
        #expect(conserved(engine))
        EngineFuzzer.checkInvariants(engine)
    }

    /// Premium in coin and Deribit's standard rule in coin per coin of underlying, by hand with
    /// F = 50,000 (spec item 7; docs/options.md):
    /// s buys 2 calls at 0.02 BTC: pays 0.04 BTC, IM = 2·0.02 = 0.04, MM = 0, equity 10;
    /// s writes 1 put K = 40,000 at m = 0.01: OTM = 10,000, OTM/F = 0.2,
    /// IM = max(max(0.15 − 0.2, 0.10) + 0.01, MM) = 0.11, MM = max(0.075, 0.075·0.01) + 0.01 = 0.085;
    /// a short call K = 60,000 at m = 0.02: IM = max(0.15 − 0.2, 0.10) + 0.02 = 0.12, MM = 0.075 + 0.02 = 0.095.
    @Test func premiumAndStandardRuleInCoin() throws {
        var engine = try InverseOptionBook.engine()
        _ = engine.apply(at(t0 + 1, fill("s", "BTC-60000-C", "2", "0.02")))
        let btc = engine.state.market.assets.firstIndex { $0.symbol == "BTC" }!
        #expect(account(engine, "s").balance(btc) == dec("9.96"))
        var pool = engine.evaluateAccount(account(engine, "s")).cross
        #expect(pool.initialMargin == dec("0.04") && pool.maintenanceMargin.isZero && pool.equity == dec("10"))
        _ = engine.apply(at(t0 + 2, fill("s", "BTC-40000-P", "-1", "0.01")))
        #expect(account(engine, "s").balance(btc) == dec("9.97"))
        pool = engine.evaluateAccount(account(engine, "s")).cross
        #expect(pool.initialMargin == dec("0.15") && pool.maintenanceMargin == dec("0.085") && pool.equity == dec("10"))
        // w (1 BTC) writes one call: 0.12 reserved; nine (1.08) do not fit.
        let one = try engine.checkOrder(id: "c1", account: "w", symbol: "BTC-60000-C", quantity: dec("-1"), price: dec("0.02"), reduceOnly: false)
        #expect(one.reservedMargin == dec("0.12"))
        let nine = engine.apply(at(t0 + 3, .placeOrder(id: "c9", account: "w", symbol: "BTC-60000-C", quantity: dec("-9"), price: dec("0.02"), reduceOnly: false)))
        #expect(nine.first?["code"] == .integer(2001))
        _ = engine.apply(at(t0 + 4, fill("w", "BTC-60000-C", "-1", "0.02")))
        let w = engine.evaluateAccount(account(engine, "w")).cross
        #expect(w.initialMargin == dec("0.12") && w.maintenanceMargin == dec("0.095") && w.equity == dec("1"))
        // A rally to 60,000 with the call at 0.10 BTC: OTM 0, IM = 0.15 + 0.10 = 0.25, MM = 0.175; equity 1.02 − 0.10 = 0.92.
        _ = engine.apply(at(t0 + 60_000, .markPrice(symbol: "BTC-PERP", price: dec("60000"), sourceTime: t0 + 60_000)))
        _ = engine.apply(at(t0 + 60_000, .optionMark(symbol: "BTC-60000-C", price: dec("0.10"), impliedVol: dec("0.6"), sourceTime: t0 + 60_000)))
        let rallied = engine.evaluateAccount(account(engine, "w")).cross
        #expect(rallied.initialMargin == dec("0.25") && rallied.maintenanceMargin == dec("0.175") && rallied.equity == dec("0.92"))
        #expect(conserved(engine))
        EngineFuzzer.checkInvariants(engine)
    }

    /// A writer with too little coin is called and liquidated when the underlying rallies through
    /// the strike (MM = 0.075 + m per coin grows with the coin mark).
    @Test func coinWriterIsCalled() throws {
        var engine = try InverseOptionBook.scenario(extraAccounts: #", {"id": "x", "settle": "BTC", "collateral": {"BTC": "0.2"}, "positions": []}"#).makeEngine()
        _ = engine.apply(at(t0 + 1, fill("x", "BTC-60000-C", "-1", "0.02")))
        var events: [EngineEvent] = []
        var time = t0 + 1
        for (f, m) in [("55000", "0.05"), ("60000", "0.09"), ("66000", "0.13")] {
            time += 60_000
            events += engine.apply(at(time, .markPrice(symbol: "BTC-PERP", price: dec(f), sourceTime: time)))
            events += engine.apply(at(time, .optionMark(symbol: "BTC-60000-C", price: dec(m), impliedVol: dec("0.7"), sourceTime: time)))
        }
        // At m = 0.13: equity = 0.22 − 0.13 = 0.09 < MM = 0.075 + 0.13 = 0.205.
        #expect(events.contains { $0.account == "x" && ($0.kind == .marginCall || $0.kind == .liquidationStarted) })
        #expect(conserved(engine))
        EngineFuzzer.checkInvariants(engine)
    }

    /// Settlement in coin (spec item 5): the call at a fed 65,000 pays 5,000/65,000 BTC per coin —
    /// 0.076923076923076923 to a holder (rounded down), 0.076923076923076924 from a writer
    /// (rounded up); the put at the underlying's mark 38,000 pays 2,000/38,000 —
    /// 0.052631578947368421 to a holder, 0.052631578947368422 from a writer. An inverse future
    /// (long 100 contracts of 10 USD at 50,000) settles at 40,000: 1,000·(1/50,000 − 1/40,000) = −0.005 BTC.
    /// s: 10 − 0.04 + 0.01 + 2·0.076923076923076923 − 0.052631578947368422 − 0.005 = 10.066214574898785424;
    /// w: 1 + 0.02 − 0.076923076923076924 = 0.943076923076923076.
    @Test func settlementInCoin() throws {
        var engine = try InverseOptionBook.engine()
        for command in [fill("s", "BTC-60000-C", "2", "0.02"), fill("s", "BTC-40000-P", "-1", "0.01"), fill("w", "BTC-60000-C", "-1", "0.02"),
                        fill("s", "BTC-FUT", "100", "50000")] {
            let events = engine.apply(at(t0 + 1_000, command))
            #expect(!events.contains { $0.kind == .rejected }, "\(events.map(\.json))")
        }
        let end = InverseOptionBook.expiryTime
        _ = engine.apply(at(end - 120_000, .settlementPrice(symbol: "BTC-60000-C", price: dec("65000"))))
        _ = engine.apply(at(end - 120_000, .settlementPrice(symbol: "BTC-FUT", price: dec("40000"))))
        _ = engine.apply(at(end - 60_000, .markPrice(symbol: "BTC-PERP", price: dec("38000"), sourceTime: end - 60_000)))
        let events = engine.apply(at(end + 1, .tick))
        let settled = events.filter { $0.kind == .settled }
        #expect(settled.count == 4)
        let prices = Dictionary(settled.map { ("\($0.account ?? "")/\($0.text("symbol") ?? "")", $0.decimal("settlement_price")) }, uniquingKeysWith: { a, _ in a })
        #expect(prices["s/BTC-60000-C"] == dec("0.076923076923076923"))
        #expect(prices["w/BTC-60000-C"] == dec("0.076923076923076924"))
        #expect(prices["s/BTC-40000-P"] == dec("0.052631578947368422"))
        #expect(prices["s/BTC-FUT"] == dec("40000"))
        let expired = events.filter { $0.kind == .expired }
        #expect(expired.map { $0.text("symbol") } == ["BTC-FUT", "BTC-60000-C", "BTC-40000-P"])
        #expect(expired.map { $0.text("source") } == ["settlement_price", "settlement_price", "underlying_mark"])
        let btc = engine.state.market.assets.firstIndex { $0.symbol == "BTC" }!
        #expect(account(engine, "s").balance(btc) == dec("10.066214574898785424"))
        #expect(account(engine, "w").balance(btc) == dec("0.943076923076923076"))
        #expect(account(engine, "s").account.positions.isEmpty && account(engine, "w").account.positions.isEmpty)
        let late = engine.apply(at(end + 2, fill("s", "BTC-60000-C", "1", "0.01")))
        #expect(late.first?["code"] == .integer(2011))
        #expect(conserved(engine))
        EngineFuzzer.checkInvariants(engine)
    }

    /// Greeks in coin (spec item 8), long 2 calls K = 60,000 at F = 50,000, σ = 0.60, T = 30/365
    /// (scipy, Black-76 r = 0): B = 697.7408230118626 USD, v = B/F = 0.013954816460237253,
    /// Δ = 0.1650502606467713, coin delta Δ − v = 0.15109544418653406 (= F·∂v/∂F numerically),
    /// gamma ∂(Δ − v)/∂F = 2.584562647793863e-05, vega/(100F) = 0.0007118022417945859,
    /// theta/(365F) = −0.0007118022417945858; times 2.
    @Test func greeksInCoin() throws {
        var engine = try InverseOptionBook.engine()
        _ = engine.apply(at(t0, fill("s", "BTC-60000-C", "2", "0.02")))
        let g = try #require(engine.greeks(of: "s")?.positions.first)
        func near(_ x: FixedDecimal?, _ y: Double) -> Bool { abs(DoubleBoundary.double(x ?? .max) - y) <= 1e-9 * max(1, abs(y)) }
        #expect(g.underlying == "BTC-PERP")
        #expect(near(g.delta, 2 * 0.15109544418653406))
        #expect(abs(DoubleBoundary.double(g.gamma ?? .max) - 2 * 2.584562647793863e-05) <= 1e-12)
        #expect(abs(DoubleBoundary.double(g.vega ?? .max) - 2 * 0.0007118022417945859) <= 1e-12)
        #expect(abs(DoubleBoundary.double(g.theta ?? .max) + 2 * 0.0007118022417945858) <= 1e-12)
    }

    /// A portfolio account settled in BTC (spec item 6) holds inverse contracts and coin-settled
    /// options, margined by the evaluate contract's PortfolioMargin in coin (the same numbers as
    /// an evaluate document of it); a linear contract is refused (2012, field `symbol`), a USD
    /// deposit is refused (1001, field `asset`), and so is `set_account_mode portfolio` for a BTC
    /// account holding USD (1001, field `collateral`). A USD portfolio account still refuses
    /// inverse contracts (2012).
    @Test func coinPortfolioAccount() throws {
        var engine = try InverseOptionBook.scenario(extraAccounts: #", {"id": "q", "settle": "BTC", "collateral": {"BTC": "1", "USD": "100"}, "positions": []}, {"id": "pu", "mode": "portfolio", "settle": "USD", "collateral": {"USD": "100000"}, "positions": []}"#).makeEngine()
        for command in [fill("p", "BTC-60000-C", "-5", "0.02"), fill("p", "BTC-40000-P", "3", "0.01"), fill("p", "BTC-PERP", "100", "50000")] {
            let events = engine.apply(at(t0 + 1, command))
            #expect(!events.contains { $0.kind == .rejected }, "\(events.map(\.json))")
        }
        let btc = engine.state.market.assets.firstIndex { $0.symbol == "BTC" }!
        #expect(account(engine, "p").balance(btc) == dec("10.07"))  // 10 + 5·0.02 − 3·0.01
        let mine = engine.evaluateAccount(account(engine, "p")).cross
        let theirs = try OptionBook.evaluatePool(OptionBook.evaluateDocument(engine, account: "p")).pool
        #expect(mine.equity == theirs.equity && mine.initialMargin == theirs.initialMargin && mine.maintenanceMargin == theirs.maintenanceMargin)
        #expect(mine.initialMargin.isPositive && mine.equity == dec("10"))  // 10.07 − 5·0.02 + 3·0.01 at the fill marks
        let linear = engine.apply(at(t0 + 2, fill("p", "BTCUSD-L", "1", "50000")))
        #expect(linear.first?["code"] == .integer(2012) && linear.first?.text("field") == "symbol")
        let usd = engine.apply(at(t0 + 3, .deposit(account: "p", asset: "USD", amount: dec("10"), settle: nil)))
        #expect(usd.first?["code"] == .integer(1001) && usd.first?.text("field") == "asset")
        let mode = engine.apply(at(t0 + 4, .setAccountMode(account: "q", portfolio: true)))
        #expect(mode.first?["code"] == .integer(1001) && mode.first?.text("field") == "collateral")
        // An unconfirmed on-chain USD deposit (credited later) refuses the switch as well.
        let chain = engine.apply(at(t0 + 5, .chainDeposit(account: "w", asset: "USD", amount: dec("10"), settle: nil, chain: "eth", height: 1, blockHash: "0xa")))
        #expect(!chain.contains { $0.kind == .rejected }, "\(chain.map(\.json))")
        let pending = engine.apply(at(t0 + 6, .setAccountMode(account: "w", portfolio: true)))
        #expect(pending.first?["code"] == .integer(1001) && pending.first?.text("field") == "collateral")
        let inverse = engine.apply(at(t0 + 7, fill("pu", "BTC-PERP", "1", "50000")))
        #expect(inverse.first?["code"] == .integer(2012))
        // The greeks of the coin book and its delta hedge size: the pool's coin delta.
        #expect(engine.greeks(of: "p")?.positions.count == 3)
        #expect(conserved(engine))
        EngineFuzzer.checkInvariants(engine)
    }

    /// Examples/scenarios/inverse-option-expiry-day.json, by hand: the 60,000 call pays
    /// 10,012.34/70,012.34 = 0.143008218265522906… BTC (holder: …906, writer: …907), the 72,000 put
    /// 1,850/70,150 = 0.026372059871703492… (holder …492, writer …493), the others nothing.
    /// alice: 5 + opening premiums 2·0.13 + 5·0.001 − 2·0.143008218265522907 = 4.978983563468954186;
    /// bob: 2 − 0.14 − 3·0.0004 + 0.143008218265522906 = 2.001808218265522906;
    /// carol: 1 + 2·0.03 − 2·0.026372059871703493 = 1.007255880256593014.
    @Test func inverseExpiryDayScenario() throws {
        let (engine, events) = try runScenario("inverse-option-expiry-day.json")
        let btc = engine.state.market.assets.firstIndex { $0.symbol == "BTC" }!
        #expect(account(engine, "alice").balance(btc) == dec("4.978983563468954186"))
        #expect(account(engine, "bob").balance(btc) == dec("2.001808218265522906"))
        #expect(account(engine, "carol").balance(btc) == dec("1.007255880256593014"))
        #expect(events.filter { $0.kind == .settled }.count == 5)
        #expect(events.filter { $0.kind == .expired }.map { $0.text("source") } == ["settlement_price", "settlement_price", "underlying_mark", "underlying_mark"])
        #expect(events.contains { $0.kind == .orderCancelled && $0.text("order") == "late-put" && $0.text("reason") == "expired" })
        #expect(events.last?.kind == .rejected && events.last?["code"] == .integer(2011))
        #expect(account(engine, "alice").account.positions.map { engine.state.market.instruments[$0.instrument].symbol } == ["BTC-PERPETUAL"])
        #expect(!events.contains { $0.kind == .rejected && $0 != events.last! }, "\(events.filter { $0.kind == .rejected }.map(\.json))")
        #expect(conserved(engine))
        EngineFuzzer.checkInvariants(engine)
    }

    /// The thin-book delta hedge of a coin-settled book (docs/options.md): portfolio account `p`
    /// (BTC) writes 5 calls (60,000) at 0.02 BTC and pays a 9.95 BTC fee, so it is liquidated at
    /// once; no option book, no backstop: the liquidator buys the inverse perpetual instead.
    /// Coin delta per call (greeksInCoin, scipy): Δ − v = 0.15109544418653406 → 0.15109544 (10⁻⁸);
    /// pool D = −5·0.15109544 = −0.7554772 BTC; hedge −D·F = 0.7554772·50,000 = 37,773.86 USD =
    /// 3,777.386 contracts of 10 USD, bought at the 50,010 ask; afterwards D = 0 at the mark.
    @Test func coinDeltaHedgeWithTheInversePerpetual() throws {
        var engine = try InverseOptionBook.scenario(parameters: #"{"backstop": false, "adl": false, "option_delta_hedge": true}"#).makeEngine()
        _ = engine.apply(at(t0 + 1_000, .book(symbol: "BTC-PERP", bids: [], asks: [BookLevel(price: dec("50010"), quantity: dec("100000"))])))
        let events = engine.apply(at(t0 + 1_000, .fill(account: "p", symbol: "BTC-60000-C", quantity: dec("-5"), price: dec("0.02"), fee: dec("9.95"), orderID: nil)))
        #expect(events.contains { $0.kind == .liquidationStarted && $0.account == "p" })
        let fill = try #require(events.first { $0.kind == .liquidationFill && $0.account == "p" })
        #expect(fill.text("symbol") == "BTC-PERP" && fill.text("executor") == "delta_hedge" && fill.text("hedged_option") == "BTC-60000-C")
        #expect(fill.decimal("quantity") == dec("3777.386") && fill.decimal("price") == dec("50010"))
        #expect(fill.decimal("pool_delta") == dec("-0.7554772"))
        #expect(engine.coinPoolDelta(account(engine, "p"), base: "BTC").magnitude <= dec("0.00000001"))
        #expect(conserved(engine))
        EngineFuzzer.checkInvariants(engine)
    }

    /// `vol_surface` marks of coin-settled options are in coin, `v = Black76_USD/F` (scipy,
    /// T = 30/365, r = 0): the 60,000 call at σ 0.60 and F = 50,000: 0.013954816460237253 BTC;
    /// the 40,000 put at σ 0.70: 0.011989849769466527 BTC; after BTC-PERP moves to 55,000 the
    /// call follows the surface (sticky strike, same T): 0.035147759142250816 BTC.
    @Test func surfaceMarksInCoin() throws {
        var engine = try InverseOptionBook.engine()
        // Source time t0 + 1 ms (the start's marks have source time t0 and would be kept): T is
        // 1 ms shorter, which moves these values by about 1e-11.
        let events = engine.apply(at(t0 + 1, .volSurface(underlying: "BTC-PERP", expiry: InverseOptionBook.expiryTime, strikes: [dec("40000"), dec("60000")],
                                                         vols: [dec("0.70"), dec("0.60")], sourceTime: t0 + 1)))
        #expect(!events.contains { $0.kind == .rejected }, "\(events.map(\.json))")
        func mark(_ symbol: String) -> Double {
            DoubleBoundary.double(engine.state.market.marks[engine.state.market.instruments.firstIndex { $0.symbol == symbol }!]!)
        }
        #expect(abs(mark("BTC-60000-C") - 0.013954816460237253) <= 1e-10)
        #expect(abs(mark("BTC-40000-P") - 0.011989849769466527) <= 1e-10)
        _ = engine.apply(at(t0 + 60_000, .markPrice(symbol: "BTC-PERP", price: dec("55000"), sourceTime: t0 + 60_000)))
        #expect(abs(mark("BTC-60000-C") - 0.035147759142250816) <= 1e-10)
        EngineFuzzer.checkInvariants(engine)
    }
}
