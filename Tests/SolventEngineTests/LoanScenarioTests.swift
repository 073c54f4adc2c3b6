import Foundation
import SolventCore
import SolventEngine
import SolventFuzzing
import Testing

/// The lender scenarios of Examples/scenarios built with `borrow` and interest (docs/loans.md,
/// "Scenarios and tests"), and every example scenario under the lending invariants.
@Suite struct LoanScenarioTests {
    func run(_ name: String) throws -> (Engine, [EngineEvent]) {
        let data = try Data(contentsOf: packageRoot.appendingPathComponent("Examples/scenarios/\(name)"))
        let scenario = try Scenario.decode(JSONParser.parse([UInt8](data)))
        var engine = try scenario.makeEngine()
        var events: [EngineEvent] = []
        for command in scenario.commands {
            events += engine.apply(command)
            EngineFuzzer.checkInvariants(engine)
        }
        #expect(engine.lendingViolation() == nil)
        return (engine, events)
    }

    static func ms(_ iso: String) -> Int64 {
        Int64(ISO8601DateFormatter().date(from: iso)!.timeIntervalSince1970 * 1000)
    }

    /// 17,000 USDT at 10 % a year, simple: `⌈17000 · 0.1 / 8760⌉ = 0.19406392694063927` an hour
    /// (Binance's `I = P · r · hours`). By the call of 2022-06-14 00:00 that is the first hour plus
    /// 960 hour starts: 961 · 0.19406392694063927 = 186.49543378995433847, repaid first out of the
    /// 1,057.62 the borrower deposits (which cured the call); then a call cured by the market, and an
    /// uncured one liquidated in one close-factor step at its deadline.
    @Test func collapseWithInterestCuredByRepayment() throws {
        let (engine, events) = try run("loan-2022-collapse-interest.json")
        let calls = events.filter { $0.kind == .marginCall }
        #expect(calls.map(\.time) == [Self.ms("2022-06-14T00:00:00Z"), Self.ms("2022-06-15T08:00:00Z"), Self.ms("2022-06-16T22:00:00Z")])
        #expect(calls.first?.decimal("call_amount") == dec("1057.614520547945206164"))
        let cures = events.filter { $0.kind == .marginCallCured }
        #expect(cures.map(\.time) == [Self.ms("2022-06-14T00:30:00Z"), Self.ms("2022-06-15T13:00:00Z")])
        let repayment = try #require(events.first { $0.kind == .repaid && $0.text("reason") == "repay" })
        #expect(repayment.decimal("interest_paid") == dec("961") * dec("0.19406392694063927"))
        #expect(repayment.decimal("principal_paid") == dec("1057.62") - dec("186.49543378995433847"))
        let started = try #require(events.first { $0.kind == .liquidationStarted })
        #expect(started.text("reason") == "margin_call_deadline_passed" && started.time == Self.ms("2022-06-17T03:00:00Z"))
        #expect(events.filter { $0.kind == .collateralConverted }.count == 1)
        #expect(events.filter { $0.kind == .interestCharged }.count > 1000)
        #expect(!events.contains { $0.kind == .loanWrittenOff || $0.kind == .badDebt })
        // The loan left is what the account owes: its net USDT balance, less nothing held.
        let loan = engine.state.lending.loan(account: 0, asset: 0)
        #expect(engine.state.accounts[0].balance(0) == -loan.owed)
        #expect(engine.state.accounts[0].procedures.isEmpty)
        #expect(conserved(engine))
    }

    /// BTC and ETH back a compound-interest USDT loan: each liquidation step sells the larger
    /// collateral (BTC, then ETH, then BTC); the interest repaid first at the first step is
    /// 25,000 · ((1 + 0.12/8760) · (1 + r_h)^297 − 1) with r_h = ⌈0.12/8760⌉ — 102.2626800185…
    /// (Python Decimal: 102.26268001853338 with r_h throughout).
    @Test func multiCollateralLoan() throws {
        let (engine, events) = try run("loan-multi-collateral.json")
        let sales = events.filter { $0.kind == .collateralConverted }
        #expect(sales.map { $0.text("asset") ?? "" } == ["BTC", "ETH", "BTC"])
        #expect(sales.map(\.time) == [Self.ms("2022-06-13T09:00:00Z"), Self.ms("2022-06-15T08:00:00Z"), Self.ms("2022-06-18T19:00:00Z")])
        let first = try #require(events.first { $0.kind == .repaid })
        #expect((first.decimal("interest_paid")! - dec("102.26268001853338")).magnitude < dec("0.000000001"))
        #expect(events.contains { $0.kind == .marginCallCured })
        #expect(!events.contains { $0.kind == .loanWrittenOff || $0.kind == .badDebt })
        let book = try #require(engine.state.lending.pools[0])
        #expect(book.principalOutstanding + book.interestOutstanding == -engine.state.accounts[0].balance(0))
        #expect(conserved(engine))
    }

    /// Every example scenario runs under conservation (with the lending pool), the pool's
    /// identities and the engine's debug invariants, and replays to the same state hash.
    @Test func everyExampleHoldsTheInvariants() throws {
        let folder = packageRoot.appendingPathComponent("Examples/scenarios")
        var checked = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() where name.hasSuffix(".json") {
            let (engine, _) = try run(name)
            let (again, _) = try run(name)
            #expect(engine.stateHash() == again.stateHash(), "\(name)")
            #expect(conserved(engine), "\(name)")
            checked += 1
        }
        #expect(checked >= 10)
    }
}
