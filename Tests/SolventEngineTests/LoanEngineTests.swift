import Foundation
import SolventCore
import SolventEngine
import SolventFuzzing
import SolventRisk
import Testing

/// Loans in the engine (docs/loans.md): debt margined through the evaluator, the same
/// margin-call procedure, and liquidation by selling collateral to repay debt.
@Suite struct LoanEngineTests {
    /// Runs a scenario document (text), optionally with extra commands spliced in by time.
    func run(_ text: String) throws -> (Engine, [EngineEvent]) {
        let scenario = try Scenario.decode(JSONParser.parse(text))
        var engine = try scenario.makeEngine()
        var events: [EngineEvent] = []
        for command in scenario.commands {
            events += engine.apply(command)
            EngineFuzzer.checkInvariants(engine)
        }
        return (engine, events)
    }

    func collapseScenario(insert extra: [[String: Any]] = []) throws -> String {
        let url = packageRoot.appendingPathComponent("Examples/scenarios/loan-2022-collapse.json")
        var doc = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        var commands = doc["commands"] as! [[String: Any]]
        commands += extra
        commands.sort { ($0["time"] as! String) < ($1["time"] as! String) }
        doc["commands"] = commands
        return String(decoding: try JSONSerialization.data(withJSONObject: doc), as: UTF8.self)
    }

    /// The 2022 collapse, uncured: warning at 22,575.8, a call at 20,834.7 with demand
    /// MM/restore − equity = 3400 − 1751.23 and a 4 h deadline, liquidation after the deadline:
    /// half the debt repaid from BTC sold at 21,963.9 less 5 % (the 5 % to the fund), which cures.
    @Test func collapseUncuredIsLiquidatedInSteps() throws {
        let (engine, events) = try run(collapseScenario())
        let warning = try #require(events.first { $0.kind == .marginWarning })
        #expect(warning.decimal("equity") == dec("3318.22"))
        let call = try #require(events.first { $0.kind == .marginCall })
        #expect(call.decimal("call_amount") == dec("1648.77"))
        #expect(call["deadline"] == .integer(call.time + 4 * 3_600_000))
        let started = try #require(events.first { $0.kind == .liquidationStarted })
        #expect(started.text("reason") == "margin_call_deadline_passed")
        let sale = try #require(events.first { $0.kind == .collateralConverted })
        #expect(sale.text("reason") == "loan_liquidation")
        #expect(sale.decimal("proceeds")! >= dec("8500"))  // the close factor: half of 17,000
        #expect(events.contains { $0.kind == .liquidationEnded })
        let record = engine.state.accounts[0]
        let usdt = try #require(engine.state.market.assets.firstIndex { $0.symbol == "USDT" })
        let btc = try #require(engine.state.market.assets.firstIndex { $0.symbol == "BTC" })
        #expect(record.balance(usdt) > dec("-8500.0000001") && record.balance(usdt) < dec("-8499.99"))
        #expect(engine.state.totals[btc].insuranceFund == sale.decimal("penalty")!)
        #expect(record.procedures.isEmpty && engine.state.backlog.isEmpty)
        #expect(conserved(engine))
    }

    /// The same call cured by a deposit of the demand before the deadline: no liquidation.
    @Test func collapseCuredByDeposit() throws {
        let deposit: [String: Any] = ["time": "2022-06-14T02:00:00Z", "type": "deposit", "account": "borrower", "asset": "USDT", "amount": "1648.77"]
        let (engine, events) = try run(collapseScenario(insert: [deposit]))
        #expect(events.contains { $0.kind == .marginCall })
        #expect(events.contains { $0.kind == .marginCallCured })
        #expect(!events.contains { $0.kind == .liquidationStarted })
        let btc = try #require(engine.state.market.assets.firstIndex { $0.symbol == "BTC" })
        #expect(engine.state.accounts[0].balance(btc) == dec("1"))
        #expect(conserved(engine))
    }

    static let borrower = """
        {"start":{"time":"2024-01-01T00:00:00Z","assets":{"USDT":"1","BTC":"40000"},"haircuts":{"BTC":"0.1"},
                  "instruments":[],"marks":{},
                  "accounts":[{"id":"borrower","settle":"USDT","collateral":{"USDT":"-30000","BTC":"1"}}]},
         "parameters":{"preset":"exchange","mark_staleness_ms":86400000},
         "insurance_fund":{"USDT":"1000"},
         "commands":[%@]}
        """

    /// Issue 21's borrower: at BTC 25,000 equity is −7,500 (bankrupt): liquidation sells all
    /// the BTC (0.95 BTC at 25,000 repays 23,750; 0.05 BTC to the fund), the fund pays 1,000 of
    /// the rest and 5,250 is bad debt, written off; the procedure then ends.
    @Test func issueBorrowerIsLiquidated() throws {
        let text = Self.borrower.replacingOccurrences(of: "%@", with: #"{"time":"2024-01-01T01:00:00Z","type":"asset_price","asset":"BTC","price":"25000"}"#)
        let (engine, events) = try run(text)
        let started = try #require(events.first { $0.kind == .liquidationStarted })
        #expect(started.text("reason") == "equity_not_positive")
        let sale = try #require(events.first { $0.kind == .collateralConverted })
        #expect(sale.decimal("proceeds") == dec("23750"))
        #expect(sale.decimal("penalty") == dec("0.05"))
        let bad = try #require(events.first { $0.kind == .badDebt })
        #expect(bad.decimal("amount") == dec("5250"))
        let record = engine.state.accounts[0]
        #expect(record.balance(1) == .zero)
        #expect(record.balance(0) == dec("-5250"))
        #expect(record.badDebt == dec("5250"))
        #expect(engine.state.totals[0].insuranceFund == .zero)
        #expect(engine.state.totals[1].insuranceFund == dec("0.05"))
        #expect(record.procedures.isEmpty && engine.state.backlog.isEmpty)
        #expect(conserved(engine))
    }

    /// A loan below maintenance but solvent (exchange preset, no grace): one step repays half
    /// the debt and lifts the pool above maintenance; liquidation ends there.
    @Test func closeFactorStep() throws {
        // BTC 36,000: equity 32,400 − 30,000 = 2,400 ≤ MM 3,000 → liquidatable.
        let text = Self.borrower.replacingOccurrences(of: "%@", with: #"{"time":"2024-01-01T01:00:00Z","type":"asset_price","asset":"BTC","price":"36000"}"#)
        let (engine, events) = try run(text)
        let started = try #require(events.first { $0.kind == .liquidationStarted })
        #expect(started.text("reason") == "ratio_at_or_above_1")
        let sales = events.filter { $0.kind == .collateralConverted }
        #expect(sales.count == 1)
        #expect(sales[0].decimal("proceeds")! >= dec("15000") && sales[0].decimal("proceeds")! < dec("15000.000001"))
        #expect(events.contains { $0.kind == .liquidationEnded })
        #expect(!events.contains { $0.kind == .badDebt })
        #expect(conserved(engine))
    }

    /// A borrower may withdraw collateral only down to the debt's initial margin (25 %).
    @Test(arguments: [("0.3", false), ("0.4", true)])
    func withdrawalCheckedAgainstDebtInitialMargin(amount: String, refused: Bool) throws {
        // 1 BTC at 40,000 (36,000 after haircut) and 20,000 USDT borrowed: IM 5,000, equity 16,000,
        // withdrawable 11,000 of haircut value = 0.3055… BTC.
        let text = Self.borrower
            .replacingOccurrences(of: #""USDT":"-30000""#, with: #""USDT":"-20000""#)
            .replacingOccurrences(of: "%@", with: #"{"time":"2024-01-01T01:00:00Z","type":"withdraw","account":"borrower","asset":"BTC","amount":"\#(amount)"}"#)
        let (_, events) = try run(text)
        #expect(events.contains { $0.kind == .rejected } == refused)
    }
    /// Multi-collateral loans (BTC + ETH, haircuts) and debts in two assets, through random
    /// price paths with deposits: conservation per asset, the fund never negative, the index ≡
    /// rescan and backlog invariants (EngineFuzzer.checkInvariants after every command, and the
    /// engine's own debug checks); every loan that ends liquidating-free has no live debt beyond
    /// maintenance.
    @Test(arguments: 0..<40)
    func randomLoansConserve(seed: Int) throws {
        var rng = SplitMix(seed: UInt64(seed) &+ 21)
        func pick(_ xs: [String]) -> String { xs[Int(rng.next() % UInt64(xs.count))] }
        var commands: [String] = []
        var btc = 40000.0, eth = 3000.0
        for step in 1...12 {
            btc *= 0.80 + Double(rng.next() % 300) / 1000
            eth *= 0.75 + Double(rng.next() % 350) / 1000
            let time = "\"2024-01-01T\(String(format: "%02d", step)):00:00Z\""
            commands.append(#"{"time":\#(time),"type":"asset_price","asset":"BTC","price":"\#(String(format: "%.1f", btc))"}"#)
            commands.append(#"{"time":\#(time),"type":"asset_price","asset":"ETH","price":"\#(String(format: "%.2f", eth))"}"#)
            if rng.next() % 5 == 0 {
                commands.append(#"{"time":\#(time),"type":"deposit","account":"\#(pick(["b0", "b1", "b2"]))","asset":"USDT","amount":"\#(rng.next() % 5000)"}"#)
            }
        }
        var accounts: [String] = []
        for k in 0..<3 {
            let debt = 5000 + Int(rng.next() % 30000)
            let ethDebt = rng.next() % 3 == 0 ? #","ETH":"-\#(rng.next() % 4)""# : #","ETH":"\#(rng.next() % 6)""#
            accounts.append(#"{"id":"b\#(k)","settle":"USDT","collateral":{"USDT":"-\#(debt)","BTC":"\#(Double(rng.next() % 150) / 100)"\#(ethDebt)}}"#)
        }
        let text = """
            {"start":{"time":"2024-01-01T00:00:00Z","assets":{"USDT":"1","BTC":"40000","ETH":"3000"},"haircuts":{"BTC":"0.1","ETH":"0.15"},
                      "policy":{"debt_rates":{"ETH":{"maintenance":"0.2","initial":"0.4"}}},
                      "instruments":[],"marks":{},"accounts":[\(accounts.joined(separator: ","))]},
             "parameters":{"preset":"\(pick(["exchange", "lender"]))","mark_staleness_ms":86400000},
             "insurance_fund":{"USDT":"\(rng.next() % 3000)","ETH":"1"},
             "commands":[\(commands.joined(separator: ","))]}
            """
        let (engine, _) = try run(text)
        #expect(conserved(engine))
        for record in engine.state.accounts where record.procedures.isEmpty {
            let evaluation = engine.evaluator.evaluate(record.account)
            #expect(evaluation.cross.status < .liquidatable || !evaluation.cross.debt.isPositive || evaluation.cross.equity <= .zero)
        }
    }
}

/// A small deterministic generator for the random loan paths.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
