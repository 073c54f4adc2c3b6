import Foundation
import SolventCore
import SolventEngine
import SolventFuzzing
import SolventRisk
import Testing

/// Session 16's outside attack on coin-settled (inverse) options, sticky-moneyness surfaces and
/// the kept liquidation backlog: hostile inputs get a typed refusal naming the field and change
/// nothing; no accepted command makes a later one trap.
@Suite struct AttackSession16Tests {
    let t0 = InverseOptionBook.startTime

    func fill(_ a: String, _ symbol: String, _ q: String, _ p: String) -> EngineCommand {
        .fill(account: a, symbol: symbol, quantity: dec(q), price: dec(p), fee: .zero, orderID: nil)
    }

    /// A coin-settled put pays (K − S)/S coins per coin of underlying: at K = 40,000 and a
    /// settlement (here the underlying's mark) S = 1e-8, 4e12 BTC per contract. A short of 1e9
    /// contracts (|q|·contract_size = 1e9, inside the plain size bound) settled there owes 4e21
    /// BTC, beyond FixedDecimal's ±1.7e20: before the fix the expiry tick trapped in
    /// `PositionMath.unrealizedPnl` (Engine.settle → applyTrade), and so did every later command,
    /// since each one settles the due expiry first. The fill is now refused (1009, quantity):
    /// a coin option's strike notional |q|·contract_size·K is bounded by 1e9 quote units, as an
    /// inverse contract's size is (docs/range-contract.md), so its payout stays ≤ 1e9/1e-8 = 1e17.
    @Test func coinPutStrikeNotionalIsBounded() throws {
        var engine = try InverseOptionBook.engine()
        let btc = engine.state.market.assets.firstIndex { $0.symbol == "BTC" }!
        for q in ["-1000000000", "-25001", "25001"] {
            let events = engine.apply(at(t0 + 1_000, fill("s", "BTC-40000-P", q, "0.01")))
            #expect(events.first?["code"] == .integer(1009), "\(q): \(events.map(\.json))")
            #expect(events.first?.text("field") == "quantity")
        }
        #expect(account(engine, "s").account.positions.isEmpty)
        #expect(account(engine, "s").balance(btc) == dec("10"))
    }

    /// At the bound (25,000 puts × 40,000 = 1e9) the fill is taken and the expiry at S = 1e-8
    /// settles without a trap: the writer owes 25,000 × (40,000 − 1e-8)/1e-8 ≈ 1e17 BTC (bad debt
    /// the fund and the venue absorb), money is conserved and the invariants hold.
    @Test func coinPutAtTheBoundSettlesAtATinyUnderlying() throws {
        var engine = try InverseOptionBook.engine()
        var applied = 0
        for command in [fill("s", "BTC-40000-P", "-25000", "0.01"), fill("w", "BTC-40000-P", "25000", "0.01")] {
            let events = engine.apply(at(t0 + 1_000, command))
            #expect(!events.contains { $0.kind == .rejected }, "\(events.map(\.json))")
            applied += 1
        }
        let end = InverseOptionBook.expiryTime
        _ = engine.apply(at(end - 60_000, .markPrice(symbol: "BTC-PERP", price: dec("0.00000001"), sourceTime: end - 60_000)))
        let events = engine.apply(at(end + 1, .tick))
        #expect(events.contains { $0.kind == .expired })
        #expect(account(engine, "s").account.positions.isEmpty && account(engine, "w").account.positions.isEmpty)
        #expect(conserved(engine))
        EngineFuzzer.checkInvariants(engine)
        #expect(applied == 2)
    }

    /// An evaluate document whose BTC-settled portfolio account is short 1e9 coin-settled puts
    /// K = 55,000 with no fed mark (model-valued), the underlying BTC-PERPETUAL marked at 1e-8:
    /// the model value is ≈ K/F = 5.5e12 BTC per contract, so size × value ≈ 5.5e21. The decoder
    /// checked size × K (5.5e13 ≤ 1e18) and `solvent evaluate` then trapped in
    /// `PortfolioMargin.evaluate` (the position's PnL). Now refused naming the quantity's path.
    @Test func evaluateModelValuedCoinPutIsBounded() throws {
        func document(_ mark: String, option: String = "") -> String {
            let brackets = #"[{"notional_floor": "0", "notional_cap": "100000", "max_leverage": "10", "mmr": "0.05"}]"#
            return """
            {"policy": {"warning_ratio": "0.70", "call_ratio": "0.85", "restore_ratio": "0.70"},
             "valuation_time": "2024-03-01T08:00:00Z", "assets": {"BTC": "60000"},
             "instruments": [
              {"symbol": "BTC-PERPETUAL", "kind": "inverse_perpetual", "base": "BTC", "settle": "BTC", "contract_size": "10", "brackets": \(brackets)},
              {"symbol": "P", "kind": "inverse_option", "right": "put", "strike": "55000", "expiry": "2024-03-31T08:00:00Z",
               "underlying": "BTC-PERPETUAL", "base": "BTC", "settle": "BTC", "contract_size": "1", "brackets": \(brackets)}],
             "marks": {"BTC-PERPETUAL": "\(mark)"\(option)}, "implied_vols": {"P": "0.70"},
             "accounts": [{"id": "x", "mode": "portfolio", "settle": "BTC", "collateral": {"BTC": "1000000000000000"},
               "positions": [{"symbol": "P", "quantity": "-1000000000", "entry_price": "0.01"}]}]}
            """
        }
        var checked = 0
        // With a fed coin mark (0.01) the size × mark check passed, and the −90 % scenario's loss
        // (≈ 1e9 × 55,000/1e-9 ≈ 5.5e22 in Double) did not fit a decimal and was counted as zero:
        // a 1e11 short was margined below a 1e9 one. Both are refused now.
        for (mark, option) in [("0.00000001", ""), ("0.000001", ""), ("0.00000001", #", "P": "0.01""#), ("0.0001", #", "P": "0.01""#)] {
            do {
                _ = try EvaluateInput.decode(JSONParser.parse([UInt8](document(mark, option: option).utf8)))
                Issue.record("accepted at F = \(mark)")
            } catch let error as InputError {
                #expect(error.path == "accounts[0].positions[0].quantity", "\(error)")
                checked += 1
            }
        }
        let fine = try EvaluateInput.decode(JSONParser.parse([UInt8](document("60000").utf8)))
        #expect(fine.accounts.count == 1)
        #expect(checked == 4)
    }

    /// A scenario's start state bypassed the fill's bound: a portfolio account starting short
    /// 1e9 coin-settled puts (K = 40,000), or an inverse perpetual of 1e13 USD, trapped at the
    /// first mark of 1e-8 or the expiry. Now the start state is refused (out of range).
    @Test func inverseStartPositionsAreBounded() throws {
        var checked = 0
        for position in [#"{"symbol": "BTC-40000-P", "quantity": "-1000000000", "entry_price": "0.01"}"#,
                         #"{"symbol": "BTC-PERP", "quantity": "-1000000000000", "entry_price": "50000"}"#] {
            let extra = #", {"id": "big", "mode": "portfolio", "settle": "BTC", "collateral": {"BTC": "1000000000000000"}, "positions": [\#(position)]}"#
            do {
                _ = try InverseOptionBook.scenario(extraAccounts: extra).makeEngine()
                Issue.record("accepted \(position)")
            } catch let error as InputError {
                #expect(error.reason.contains("out of range"), "\(error)")
                checked += 1
            }
        }
        let atBound = #", {"id": "ok", "mode": "portfolio", "settle": "BTC", "collateral": {"BTC": "1000000000000000"}, "positions": [{"symbol": "BTC-40000-P", "quantity": "-25000", "entry_price": "0.01"}]}"#
        #expect(throws: Never.self) { _ = try InverseOptionBook.scenario(extraAccounts: atBound).makeEngine() }
        #expect(checked == 2)
    }
}
