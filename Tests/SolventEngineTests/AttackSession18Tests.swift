import Foundation
import SolventCore
@testable import SolventEngine
import SolventFuzzing
import Testing

/// Session 18's outside attack (ATTACK4): hostile inputs to the newest engine code get a typed
/// refusal naming the field and change nothing.
@Suite struct AttackSession18Tests {
    /// Three USDT accounts a0, a1, a2 (10,000 each) and one linear perpetual P marked at 50,000.
    static func threeAccounts() throws -> Engine {
        let json = """
        {"start":{"time":"2024-01-01T07:00:00Z","policy":{"warning_ratio":"0.70","call_ratio":"0.85","restore_ratio":"0.70"},
          "assets":{"USDT":"1","BTC":"50000"},
          "instruments":[{"symbol":"P","kind":"linear_perpetual","base":"BTC","settle":"USDT","contract_size":"1",
                          "brackets":[{"notional_floor":"0","notional_cap":"100000000","max_leverage":"50","mmr":"0.01"}]}],
          "marks":{"P":"50000"},
          "accounts":[{"id":"a0","settle":"USDT","collateral":{"USDT":"10000"},"positions":[]},
                      {"id":"a1","settle":"USDT","collateral":{"USDT":"10000"},"positions":[]},
                      {"id":"a2","settle":"USDT","collateral":{"USDT":"10000"},"positions":[]}]},
         "parameters":{"mark_staleness_ms":86400000},"commands":[]}
        """
        return try Scenario.decode(JSONParser.parse(Array(json.utf8))).makeEngine()
    }

    static func place(_ id: String, _ account: String, at time: Int64) -> TimedCommand {
        TimedCommand(time: time, command: .placeOrder(id: id, account: account, symbol: "P", quantity: FixedDecimal("0.1")!,
                                                      price: FixedDecimal("49000")!, reduceOnly: false))
    }

    /// An order stored under the scoped key `id U+001F @ account` (another account's order
    /// holds the plain id) overwrote whatever order held that key. Account a2 could place
    /// `"x\u{1F}@0"` (a plain key then); a1 places `"x"`; a0's `"x"` then went to the scoped key
    /// `"x\u{1F}@0"`, replacing a2's order: a2 listed an order no longer stored (the debug
    /// invariant trapped, on every replay of that journal; a release build lost a2's order and
    /// its reserved margin, and a2's later cancel said "unknown order"). Order ids with a control
    /// character are now refused (invalid_input, `id`), so no id can spell a scoped key; every
    /// other account's order stays where it is.
    @Test func orderIDCannotSpellAnotherAccountsScopedKey() throws {
        var engine = try Self.threeAccounts()
        let t0: Int64 = 1_704_092_400_000
        #expect(engine.apply(Self.place("x", "a1", at: t0 + 1_000)).first?.kind == .orderAccepted)
        let before = (engine.state.accounts, engine.state.orders, engine.state.totals)
        var refused = 0
        for (n, id) in ["x\u{1F}@0", "x\u{1F}@1", "\u{0}", "a\u{7F}", "b\u{85}", "\u{1F}"].enumerated() {
            let events = engine.apply(Self.place(id, "a2", at: t0 + 2_000 + Int64(n)))
            #expect(events.count == 1 && events.first?.kind == .rejected, "\(events.map(\.json))")
            #expect(events.first?.text("field") == "id")
            #expect(engine.state.accounts == before.0 && engine.state.orders == before.1 && engine.state.totals == before.2)
            refused += 1
        }
        #expect(refused == 6)
        // a0's "x" takes the scoped key; a2's ordinary order is unaffected; each cancels its own.
        #expect(engine.apply(Self.place("x", "a0", at: t0 + 3_000)).first?.kind == .orderAccepted)
        #expect(engine.apply(Self.place("x@0", "a2", at: t0 + 3_001)).first?.kind == .orderAccepted)
        EngineFuzzer.checkInvariants(engine)
        #expect(engine.state.orders.count == 3)
        for (account, id) in [("a2", "x@0"), ("a0", "x"), ("a1", "x")] {
            let events = engine.apply(TimedCommand(time: t0 + 4_000, command: .cancelOrder(id: id, account: account)))
            #expect(events.first?.kind == .orderCancelled, "\(account) \(id): \(events.map(\.json))")
        }
        #expect(engine.state.orders.isEmpty)
    }

    /// The pre-trade check (`POST /v1/orders/check`) refuses the same ids with the same reason.
    @Test func preTradeCheckRefusesControlCharacterIDs() throws {
        let engine = try Self.threeAccounts()
        var checked = 0
        for id in ["x\u{1F}@0", "\u{9}", "line\nbreak"] {
            do {
                _ = try engine.checkOrder(id: id, account: "a2", symbol: "P", quantity: FixedDecimal("0.1")!, price: FixedDecimal("49000")!, reduceOnly: false)
                Issue.record("\(id.debugDescription) was accepted")
            } catch { #expect(error.field == "id"); checked += 1 }
        }
        #expect(checked == 3)
        #expect(EngineState.orderIDProblem("ordinary-id_1.ü€😀") == nil)
    }
    /// One isolated long of 1e9 at 1e8 (leverage 1000, inside the contract) whose mark falls to
    /// 1e-8 and is closed against a book at 1e-8 leaves ≈ 9.99e16 of bad debt (no fund, no ADL,
    /// no profitable holder). The account's cumulative `badDebt` was a plain sum: ≈ 1,703 such
    /// cycles (feeders' marks and fills, 8 commands each; `solvent simulate` of them trapped
    /// after 8 s) passed 1.7e20 and trapped in the liquidation, and so would every later command.
    /// Here the memo starts 5e16 below the largest decimal (where ≈ 1,703 cycles leave it; before
    /// the fix the first cycle trapped): two cycles apply, the memo is counted at its bound
    /// (`memoLimit`, 1e20), and the venue's own flows stay exact (money conserved).
    @Test func cumulativeBadDebtIsCountedAtMostTheMemoLimit() throws {
        let json = """
        {"start":{"time":"2024-01-01T00:00:00Z","policy":{"warning_ratio":"0.70","call_ratio":"0.85","restore_ratio":"0.70"},
          "assets":{"USDT":"1","BTC":"50000"},
          "instruments":[{"symbol":"P","kind":"linear_perpetual","base":"BTC","settle":"USDT","contract_size":"1",
                          "brackets":[{"notional_floor":"0","notional_cap":"1000000000000000","max_leverage":"1000","mmr":"0.0005"}]}],
          "marks":{"P":"100000000"},
          "accounts":[{"id":"x","settle":"USDT","collateral":{"USDT":"1000000000000000"},"positions":[]}]},
         "parameters":{"execution":"depth","mark_staleness_ms":300000000,"adl":false},"commands":[]}
        """
        var engine = try Scenario.decode(JSONParser.parse(Array(json.utf8))).makeEngine()
        let a = try #require(engine.state.accountIndex["x"])
        let limit = EngineAccount.memoLimit
        engine.state.accounts[a].badDebt = FixedDecimal(raw: .max) - FixedDecimal("50000000000000000")!
        var t: Int64 = 1_704_067_201_000
        func apply(_ command: EngineCommand) -> [EngineEvent] {
            t += 10
            return engine.apply(TimedCommand(time: t, command: command))
        }
        #expect(apply(.setMarginMode(account: "x", symbol: "P", isolated: true)).first?.kind == .marginModeSet)
        var cycles = 0
        for _ in 0..<2 {
            _ = apply(.markPrice(symbol: "P", price: FixedDecimal("100000000")!, sourceTime: t + 10))
            let filled = apply(.fill(account: "x", symbol: "P", quantity: FixedDecimal("1000000000")!, price: FixedDecimal("100000000")!, fee: .zero, orderID: nil))
            #expect(filled.first?.kind == .filled, "\(filled.map(\.json))")
            _ = apply(.deposit(account: "x", asset: "USDT", amount: FixedDecimal("100000000000000")!, settle: nil))
            var crash = apply(.markPrice(symbol: "P", price: FixedDecimal("0.00000001")!, sourceTime: t + 10))
            let tiny = [BookLevel(price: FixedDecimal("0.00000001")!, quantity: FixedDecimal("1000000000")!)]
            crash += apply(.book(symbol: "P", bids: tiny, asks: [BookLevel(price: FixedDecimal("0.00000002")!, quantity: FixedDecimal("1000000000")!)]))
            crash += apply(.tick)
            #expect(crash.contains { $0.kind == .badDebt }, "\(crash.map(\.json))")
            cycles += 1
        }
        #expect(cycles == 2)
        #expect(engine.state.accounts[a].badDebt == limit)
        #expect(engine.state.accounts[a].account.positions.isEmpty)
        #expect(conserved(engine))
        EngineFuzzer.checkInvariants(engine)
        // The socialized-loss memo saturates the same way.
        #expect(EngineAccount.memo(limit - FixedDecimal.one, adding: FixedDecimal(5)) == limit)
        #expect(EngineAccount.memo(FixedDecimal(2), adding: FixedDecimal(3)) == FixedDecimal(5))
    }

    /// A library caller's opening account with a zero-quantity position (no side) was accepted,
    /// and the first evaluation with prices trapped in the liquidation price ("side must be
    /// ±1"); the scenario decoder already refuses it, `Engine.openAccount` now does too
    /// (found through BacklogSeverityTests' generator, which could draw −0.01 + 0.01).
    @Test func openAccountRefusesAZeroQuantityPosition() throws {
        var engine = try Self.threeAccounts()
        let hash = engine.stateHash()
        let position = Position(instrument: 0, quantity: .zero, entryPrice: FixedDecimal(50_000), leverage: nil, marginMode: .cross)
        #expect(throws: RejectReason.self) {
            try engine.openAccount(Account(id: "z", settle: 0, collateral: [], positions: [position]))
        }
        do {
            try engine.openAccount(Account(id: "z", settle: 0, collateral: [], positions: [position]))
        } catch {
            #expect(error.field == "positions[0].quantity")
        }
        #expect(engine.state.accountIndex["z"] == nil)
        #expect(engine.stateHash() == hash)
    }
}
