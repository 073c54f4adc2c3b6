import Foundation
import SolventCore
import SolventEngine
import Testing

/// Regressions for attacks 23 and 24 (attacks/README.md) on the lending side (docs/loans.md).
@Suite struct LendingAttackRegressionTests {
    /// One account with 1,000,000 USDT borrowing 1,000 USDT at 00:00 under `terms`, a
    /// `change_parameters` scheduled at 00:00 for `effective` with `change` as USDT's lending
    /// update, and the next command at 10:00 (an `asset_price`, which touches no loan).
    static func rateChange(terms: String, change: String, effective: String) -> String {
        """
        {"start":{"time":"2024-01-01T00:00:00Z","assets":{"USDT":"1","BTC":"50000"},"haircuts":{},
                  "instruments":[],"marks":{},
                  "accounts":[{"id":"a","settle":"USDT","collateral":{"USDT":"1000000"},"positions":[]}]},
         "parameters":{"preset":"lender","mark_staleness_ms":86400000},
         "lending":{"USDT":{\(terms)}},
         "commands":[
          {"time":"2024-01-01T00:00:00Z","type":"borrow","account":"a","asset":"USDT","amount":"1000"},
          {"time":"2024-01-01T00:00:00Z","type":"change_parameters","effective_time":"2024-01-01T\(effective)Z","lending":{"USDT":{\(change)}}},
          {"time":"2024-01-01T10:00:00Z","type":"asset_price","asset":"BTC","price":"50000"}]}
        """
    }

    /// Runs a scenario with the index and with a full rescan; the two must agree event for
    /// event and on the state hash. Returns the indexed engine and its events.
    func run(_ text: String) throws -> (Engine, [EngineEvent]) {
        let scenario = try Scenario.decode(JSONParser.parse(text))
        var fast = try scenario.makeEngine()
        var rescan = try scenario.makeEngine(fullRescan: true)
        var events: [EngineEvent] = []
        for command in scenario.commands {
            let a = fast.apply(command)
            #expect(a.map(\.json) == rescan.apply(command).map(\.json))
            #expect(fast.invariantViolation() == nil)
            #expect(fast.lendingViolation() == nil)
            events += a
        }
        #expect(fast.stateHash() == rescan.stateHash())
        return (fast, events)
    }

    func usdtLoan(_ engine: Engine, account: Int = 0) -> Loan {
        engine.state.lending.loan(account: account, asset: engine.state.market.assets.firstIndex { $0.symbol == "USDT" }!)
    }

    /// (hours, amount) of every `interest_charged` event.
    func charges(_ events: [EngineEvent]) -> [(Int64, FixedDecimal)] {
        events.filter { $0.kind == .interestCharged }.map { e in
            var hours: Int64 = 0, amount = FixedDecimal.zero
            for (k, v) in e.fields {
                if k == "hours", case .integer(let n) = v { hours = n }
                if k == "amount", case .decimal(let d) = v { amount = d }
            }
            return (hours, amount)
        }
    }

    // MARK: attack 24 — interest after a change's effective time at the old terms

    /// 1,000 USDT at 1 %/h simple; the rate set to 0 effective 00:30; next command at 10:00.
    /// The borrow charges the hour start 00:00 at once (⌈1000 · 0.01⌉ = 10, docs/loans.md
    /// "At borrow x"); the hour starts 01:00 … 10:00 are all at or after 00:30, so at rate 0:
    /// nothing more. Before the fix: 10 hours at 1 % = 100 more (110 owed in interest).
    @Test func rateLoweredIsNotChargedAfterItsEffectiveTime() throws {
        let (engine, events) = try run(Self.rateChange(terms: #""rate":"0.01","per":"hour""#, change: #""rate":"0""#, effective: "00:30:00"))
        #expect(usdtLoan(engine).interest == FixedDecimal("10")!)
        #expect(charges(events).isEmpty)
        #expect(engine.state.lending.terms(for: "USDT")?.rate == .zero)  // the change applied after the command
    }

    /// The mirror case: 0 raised to 1 %/h effective 00:30. The borrow charges 0 (rate 0 at
    /// 00:00); the ten hour starts 01:00 … 10:00 at 1 %: 10 · ⌈1000 · 0.01⌉ = 100. Before the
    /// fix: 0.
    @Test func rateRaisedIsChargedFromItsEffectiveTime() throws {
        let (engine, events) = try run(Self.rateChange(terms: #""rate":"0","per":"hour""#, change: #""rate":"0.01""#, effective: "00:30:00"))
        #expect(usdtLoan(engine).interest == FixedDecimal("100")!)
        let c = charges(events)
        #expect(c.count == 1 && c.first?.0 == 10 && c.first?.1 == FixedDecimal("100")!)
    }

    /// Two segments: 1 % lowered to 0.5 % effective 03:30 (the rate is at most 1 %/h,
    /// docs/loans.md). Hour starts 01:00, 02:00, 03:00 are before 03:30 (3 · 10 = 30), 04:00 …
    /// 10:00 after it (7 · ⌈1000 · 0.005⌉ = 35); with the borrow's 10: 75. One
    /// `interest_charged` per segment.
    @Test func hoursAreSplitAtTheEffectiveTime() throws {
        let (engine, events) = try run(Self.rateChange(terms: #""rate":"0.01","per":"hour""#, change: #""rate":"0.005""#, effective: "03:30:00"))
        #expect(usdtLoan(engine).interest == FixedDecimal("75")!)
        let c = charges(events)
        #expect(c.count == 2)
        #expect(c.map(\.0) == [3, 7] && c.map(\.1) == [FixedDecimal("30")!, FixedDecimal("35")!])
    }

    /// A change effective exactly at an hour start: that hour start is charged under the new
    /// terms (`h · 3,600,000 < T` is false). 1 % → 0.5 % at 03:00: 01:00, 02:00 at 10 (20),
    /// 03:00 … 10:00 at 5 (8 · 5 = 40); with the borrow's 10: 70.
    @Test func aChangeAtAnHourStartGovernsThatHour() throws {
        let (engine, events) = try run(Self.rateChange(terms: #""rate":"0.01","per":"hour""#, change: #""rate":"0.005""#, effective: "03:00:00"))
        #expect(usdtLoan(engine).interest == FixedDecimal("70")!)
        #expect(charges(events).map(\.0) == [2, 8])
    }

    /// Compound interest compounds across segments: 0.5 %/h compound raised to 1 % at 01:30,
    /// next command 10:00. The borrow: ⌈1000 · 0.005⌉ = 5, owed 1005; hour start 01:00 at
    /// 0.5 %: ⌈1005 · 0.005⌉ = 5.025 → 1010.025; then 9 hours at 1 %: ⌈1010.025 · 1.01⁹⌉ with
    /// 1.01⁹ = 1.093685272684360901 (square-and-multiply, every product exact in 18 digits):
    /// 1104.649467543021619032525 (Python Decimal) rounded up to 10⁻¹⁸.
    @Test func compoundInterestCompoundsAcrossSegments() throws {
        let (engine, events) = try run(Self.rateChange(terms: #""rate":"0.005","per":"hour","compounding":"compound""#, change: #""rate":"0.01""#, effective: "01:30:00"))
        #expect(usdtLoan(engine).owed == FixedDecimal("1104.649467543021619033")!)
        #expect(charges(events).map(\.0) == [1, 9])
        #expect(charges(events).first?.1 == FixedDecimal("5.025")!)
    }

    // MARK: attack 23 — a write-off with holdings left on the loan

    /// attacks/23: a2 (settled in BTC, 1,000 USDT) borrows 10 USDT at 1 %/h; ten years later
    /// it is bankrupt on the interest. docs/loans.md ("Holdings repay loans", point 1, since
    /// 4dbdd9f): the 1,010 USDT it still holds repay the loan at the start of the
    /// loan-liquidation step, the fund (100) and the pool take the rest — the loan is closed,
    /// nothing is left accruing, and the index and a full rescan agree on every event. When
    /// the attack was recorded (9793388) 1,010 USDT stayed owed against 1,010 held (b = 0) and
    /// accrued dust interest; the divergence itself came from that dust (next test).
    @Test func writeOffAfterHoldingsRepayLeavesNoLoan() throws {
        let text = try String(contentsOf: packageRoot.appendingPathComponent("attacks/23-loan-dust-interest-index-divergence.json"), encoding: .utf8)
        let (engine, events) = try run(text)
        let a2 = engine.state.accountIndex["a2"]!
        #expect(usdtLoan(engine, account: a2).owed == .zero)
        let kinds = events.map(\.kind)
        let writeOff = try #require(kinds.firstIndex(of: .loanWrittenOff))
        #expect(!kinds[writeOff...].contains(.interestCharged))  // nothing accrues after the write-off
        #expect(kinds.filter { $0 == .loanWrittenOff }.count == 1)
        // The holdings repaid first (reason "liquidation"), before the fund's draw and the write-off.
        let repaid = events.firstIndex { e in e.kind == .repaid && e.fields.contains { $0.0 == "reason" && $0.1 == .text("liquidation") } }
        #expect(repaid.map { $0 < writeOff } == true)
        let k = engine.state.market.assets.firstIndex { $0.symbol == "USDT" }!
        #expect(engine.state.accounts[a2].balance(k) == .zero)
    }

    /// The precise cause of attack 23's divergence, still reachable at 4dbdd9f: a BTC-settled
    /// account (1 USDT) borrows 1 USDT at 10⁻¹⁸ a year (first hour ⌈1 · 10⁻¹⁸ / 8760⌉ =
    /// 10⁻¹⁸), repays 1 (interest first: 10⁻¹⁸ of principal stays owed) and withdraws the 1 USDT
    /// it holds: b = −10⁻¹⁸ USDT, worth 2·10⁻²³ BTC, which rounds to 0 — MM = 0, equity = 0,
    /// status healthy, yet live debt. Before the fix the procedure opened a margin call
    /// (`0 ≥ 0 · call_ratio`) that the next evaluation cured (`0 ≤ 0 · restore_ratio`), so the
    /// debug build trapped on "a rescan moves account a1 (marginCallCured)". Now the pool is left
    /// alone (no call, no cure), interest keeps accruing, and index ≡ rescan.
    @Test func worthlessDebtOpensNoCall() throws {
        var text = try String(contentsOf: packageRoot.appendingPathComponent("attacks/23-loan-dust-interest-index-divergence.json"), encoding: .utf8)
        let replacement = #"""
        "lending": {"USDT": {"rate": "0.000000000000000001", "per": "year"}},
        "commands": [
          {"time": 1704067200002, "type": "borrow", "account": "a1", "asset": "USDT", "amount": "1"},
          {"time": 1704067200003, "type": "repay", "account": "a1", "asset": "USDT", "amount": "1"},
          {"time": 1704067200004, "type": "withdraw", "account": "a1", "asset": "USDT", "amount": "1"},
          {"time": 1704067200005, "type": "asset_price", "asset": "ETH", "price": "3001"},
          {"time": 1704074400002, "type": "asset_price", "asset": "ETH", "price": "3002"}],

        """#
        let start = try #require(text.range(of: #""lending""#))
        let end = try #require(text.range(of: #""description""#))
        text.replaceSubrange(start.lowerBound..<end.lowerBound, with: replacement)
        let (engine, events) = try run(text)
        let a1 = engine.state.accountIndex["a1"]!
        let k = engine.state.market.assets.firstIndex { $0.symbol == "USDT" }!
        #expect(engine.state.accounts[a1].balance(k) == FixedDecimal("-0.000000000000000003")!)  // −1e-18, then 2 hours of 1e-18
        #expect(usdtLoan(engine, account: a1).owed == FixedDecimal("0.000000000000000003")!)
        #expect(!events.contains { $0.kind == .marginCall || $0.kind == .marginCallCured })
        #expect(events.filter { $0.kind == .withdrew }.count == 1)
    }
}
