import Foundation
import SolventCore
import SolventEngine
import SolventFuzzing
import SolventRisk
import Testing

// Regression tests of the outside attack's engine traps (attacks/README.md): each attack file
// is copied into `Cases/` as `A<nn>-…` (provenance in its README). Each test asserts: no trap,
// money conserved per asset and a non-negative fund after every command
// (`EngineFuzzer.checkInvariants`), and the specific right behaviour.

/// Runs a case file command by command, checking the invariants after each.
func runChecked(_ name: String, fullRescan: Bool = false) throws -> (Engine, [EngineEvent]) {
    let scenario = try loadCase(name)
    var engine = try scenario.makeEngine(fullRescan: fullRescan)
    var events: [EngineEvent] = []
    for command in scenario.commands {
        events += engine.apply(command)
        EngineFuzzer.checkInvariants(engine)
    }
    return (engine, events)
}

@Suite struct AttackTotalityTests {
    /// Finding 1 (attacks/16): an account holds at most 200 resting orders (the 201st is refused
    /// `out_of_range` naming `account`), and the pre-trade check over them at any price in the
    /// contract answers (typed) instead of trapping.
    @Test func restingOrdersAreBoundedAndTheirExposureChecked() throws {
        let brackets = #"[{"notional_floor": "0", "notional_cap": "1000000000000000", "max_leverage": "1000", "mmr": "0.004"}]"#
        var commands = [#"{"type": "deposit", "account": "a", "asset": "USDT", "amount": "200"}"#]
        for n in 0...RangeContract.maxOrdersPerAccount {
            commands.append(#"{"type": "place_order", "id": "o\#(n)", "account": "a", "symbol": "BTCUSDT", "quantity": "1000000000", "price": "0.00000001"}"#)
        }
        let text = """
            {"start": {"time": 0, "assets": {"USDT": "1", "BTC": "65000"},
                       "instruments": [{"symbol": "BTCUSDT", "kind": "linear_perpetual", "base": "BTC", "settle": "USDT", "contract_size": "1", "brackets": \(brackets)}],
                       "marks": {"BTCUSDT": "65000"}, "accounts": []},
             "commands": [\(commands.joined(separator: ","))]}
            """
        let scenario = try SolventEngine.Scenario.decode(JSONParser.parse(Array(text.utf8)))
        var engine = try scenario.makeEngine()
        var events: [EngineEvent] = []
        for command in scenario.commands { events += engine.apply(command); EngineFuzzer.checkInvariants(engine) }
        #expect(events.filter { $0.kind == .orderAccepted }.count == RangeContract.maxOrdersPerAccount)
        let refused = try #require(events.last { $0.kind == .rejected })
        #expect(refused.fields.contains { $0.0 == "code" && $0.1 == .integer(Int64(RejectReason.Code.outOfRange.rawValue)) })
        #expect(refused.text("field") == "account")
        #expect(engine.state.accounts[0].orders.count == RangeContract.maxOrdersPerAccount)
        // The check at 1e8 sums 2e11 contracts × 1e8: refused (position limit), not a trap.
        for price in ["100000000", "0.00000001", "65000"] {
            do {
                _ = try engine.checkOrder(id: "x", account: "a", symbol: "BTCUSDT", quantity: dec("1"), price: dec(price), reduceOnly: false)
                Issue.record("the check at \(price) should refuse")
            } catch {
                #expect([.positionLimit, .insufficientMargin, .outOfRange].contains(error.code))
            }
        }
    }

    /// Finding 3 (attacks/07, 06): the bankrupt account's BTC (worth 9.5e-17 USDT a unit) is
    /// converted whole — never more than held — and the rest is bad debt.
    @Test func collateralConversionNeverSellsMoreThanHeld() throws {
        let (engine, events) = try runChecked("A07-price-feeder-collateral-conversion.json")
        let converted = try #require(events.first { $0.kind == .collateralConverted })
        #expect(converted.decimal("sold") == dec("1"))
        #expect(converted.decimal("proceeds") == dec("0.000000000000000095"))
        #expect(account(engine, "a").balance(1) == .zero)
        #expect(account(engine, "a").badDebt == dec("39009.999999999999999905"))
    }

    /// Finding 5 (attacks/11, 12): a level 1e-18 worse than bankruptcy: the fund pays for the
    /// whole level (at most the position), 1e-18.
    @Test func fundPaysForTheWholeLevelWhenTheLossPerContractIsTiny() throws {
        let (engine, events) = try runChecked("A11-fund-affordable-division.json")
        let fill = try #require(events.first { $0.kind == .liquidationFill })
        #expect(fill.decimal("quantity") == dec("-1"))
        #expect(fill.text("executor") == "depth")
        #expect(events.first { $0.kind == .insuranceFundDraw }?.decimal("amount") == FixedDecimal.ulp)
        #expect(position(engine, "a", "BTCUSDT").isZero)
        #expect(!events.contains { $0.kind == .badDebt })
    }

    /// Finding 6 (attacks/05): a fill capped at the position pays the fee prorated to what was
    /// applied: 1e15 × 1e6 / 2e6 = 5e14; the excess is a `rejected` event.
    @Test func cappedFillPaysTheProratedFee() throws {
        let (_, events) = try runChecked("A05-fill-fee-partial.json")
        let fills = events.filter { $0.kind == .filled }
        #expect(fills.last?.decimal("quantity") == dec("-1000000"))
        #expect(fills.last?.decimal("fee") == dec("500000000000000"))
        #expect(events.last { $0.kind == .rejected }?.decimal("excess") == dec("-1000000"))
    }

    /// Finding 7 (attacks/09): socialized shares `charged × weight / total` with a product past
    /// the decimal range: 4e10 × 7e10 / 1.4e11 = 2e10 each, summing to the charge.
    @Test func socializedSharesOfLargeWeights() throws {
        let (engine, events) = try runChecked("A09-socialized-loss-share-overflow.json")
        let shares = events.filter { $0.kind == .socializedLoss }
        #expect(shares.map { $0.decimal("amount") } == [dec("20000000000"), dec("20000000000")])
        #expect(engine.state.totals[0].socializedLoss == dec("40000000000"))
    }

    /// Finding 8 (attacks/10, 15): inverse positions whose bankruptcy price is outside
    /// [1e-8, 1e8] are taken at the nearest bound; the deficit goes to the waterfall.
    @Test(arguments: ["A10-inverse-liquidation-division-by-zero.json", "A15-inverse-bankruptcy-price-out-of-range.json"])
    func outOfRangeBankruptcyPricesTradeAtTheBound(_ name: String) throws {
        let (engine, events) = try runChecked(name)
        let fills = events.filter { $0.kind == .liquidationFill }
        #expect(!fills.isEmpty)
        for fill in fills {
            let price = try #require(fill.decimal("price"))
            #expect(price >= RangeContract.minPrice && price <= RangeContract.maxPrice)
        }
        #expect(engine.state.accounts.allSatisfy { $0.account.positions.isEmpty })
        #expect(events.contains { $0.kind == .badDebt })
    }

    /// Finding 10 (attacks/20): another account's chain deposit finalizes a1's deposit; a1 is
    /// re-evaluated at once (liquidation ended, position kept, no fee) and the indexed engine
    /// equals a full rescan.
    @Test func finalizedDepositsReevaluateTheirAccounts() throws {
        let (engine, events) = try runChecked("A20-stale-liquidation-after-finality.json")
        let (rescan, rescanEvents) = try runChecked("A20-stale-liquidation-after-finality.json", fullRescan: true)
        #expect(engine.stateHash() == rescan.stateHash())
        #expect(events.map(\.json) == rescanEvents.map(\.json))
        #expect(events.contains { $0.kind == .chainDepositFinal && $0.account == "a1" })
        #expect(events.contains { $0.kind == .liquidationEnded && $0.account == "a1" })
        #expect(!events.contains { $0.kind == .liquidationFill })
        #expect(position(engine, "a1", "BTCUSDT") == dec("0.001"))
    }

    /// The same kind in the entry-price average (found while fixing these): adding to a
    /// position of 5e14 contracts (contract size 1e-6) at 1e8 formed quantity × entry = 5e22.
    /// The average is the same one, formed from weights ≤ 1 when the sums leave the range.
    @Test func entryAverageOfLargeQuantities() throws {
        let (engine, _) = try runChecked("K01-entry-average-large-quantities.json")
        let a = account(engine, "a"), b = account(engine, "b")
        #expect(a.account.positions.first?.entryPrice == dec("99999999.5"))
        #expect(b.account.positions.first?.entryPrice == dec("0.000000013333333333"))
        #expect(position(engine, "a", "BTCUSDT") == dec("1000000000000000"))
    }

    /// Finding 11 (attacks/13): order ids are per account. Another account's id can be neither
    /// taken (squatted) nor probed; the same id text in two accounts names two orders; a fill's
    /// `order_id` and a cancel naming the account resolve within it; a cancel without the
    /// account must name one account's order (else refused, typed, nothing changes).
    @Test func orderIDsArePerAccount() throws {
        let commands = """
            {"type": "deposit", "account": "alice", "asset": "USDT", "amount": "100000"},
            {"type": "deposit", "account": "bob", "asset": "USDT", "amount": "100000"},
            {"type": "place_order", "id": "a1", "account": "bob", "symbol": "BTCUSDT", "quantity": "0.1", "price": "49000"},
            {"type": "place_order", "id": "a1", "account": "alice", "symbol": "BTCUSDT", "quantity": "0.2", "price": "49000"},
            {"type": "place_order", "id": "a1", "account": "alice", "symbol": "BTCUSDT", "quantity": "0.2", "price": "49000"},
            {"type": "cancel_order", "id": "a1"},
            {"type": "fill", "account": "alice", "symbol": "BTCUSDT", "quantity": "0.05", "price": "49000", "order_id": "a1"},
            {"type": "cancel_order", "id": "a1", "account": "bob"},
            {"type": "place_order", "id": "b7", "account": "bob", "symbol": "BTCUSDT", "quantity": "0.1", "price": "49000"},
            {"type": "cancel_order", "id": "b7"}
            """
        var engine = try testScenario(accounts: "", commands: commands).makeEngine()
        let scenario = try testScenario(accounts: "", commands: commands)
        var kinds: [[EventKind]] = []
        for command in scenario.commands {
            kinds.append(engine.apply(command).map(\.kind).filter { $0 != .accountOpened && $0 != .deposited })
            EngineFuzzer.checkInvariants(engine)
        }
        #expect(kinds[2] == [.orderAccepted] && kinds[3] == [.orderAccepted])   // bob's "a1" does not block alice's
        #expect(kinds[4] == [.rejected])                                        // alice's own duplicate
        #expect(kinds[5] == [.rejected])                                        // ambiguous without the account
        #expect(kinds[6] == [.filled])                                          // alice's a1, not bob's
        #expect(kinds[7] == [.orderCancelled])
        #expect(kinds[8] == [.orderAccepted] && kinds[9] == [.orderCancelled])  // a unique id needs no account
        let alice = engine.state.accountIndex["alice"]!, bob = engine.state.accountIndex["bob"]!
        #expect(engine.state.openOrder(account: alice, id: "a1")?.quantity == dec("0.15"))
        #expect(engine.state.openOrder(account: bob, id: "a1") == nil)
        #expect(position(engine, "alice", "BTCUSDT") == dec("0.05") && position(engine, "bob", "BTCUSDT").isZero)
        // No probing: bob's pre-trade check of alice's id is an ordinary check.
        #expect(throws: Never.self) {
            _ = try engine.checkOrder(id: "a1", account: "bob", symbol: "BTCUSDT", quantity: dec("0.1"), price: dec("49000"), reduceOnly: false)
        }
        // The command text round-trips with its account (journal format).
        let cancel = EngineCommand.cancelOrder(id: "a1", account: "alice")
        #expect(cancel.account == "alice")
    }

    /// Found by the fuzzer: a position whose size |q|·contract_size rounds to zero trapped the
    /// evaluator (liquidation-price solve); such a fill is refused `out_of_range` naming `quantity`.
    @Test func positionSizeRoundingToZeroIsRefused() throws {
        let (engine, events) = try runChecked("K02-position-size-rounds-to-zero.json")
        let refused = try #require(events.last { $0.kind == .rejected })
        #expect(refused.text("field") == "quantity")
        #expect(position(engine, "a", "BTCUSDT").isZero)
    }
}
