@_spi(Internals) import PropertyBased
import Foundation
import SolventCore
import SolventEngine
import SolventFuzzing
import SolventRisk
import Testing

/// `borrow` / `repay`, interest, limits and the lending pool (docs/loans.md).
@Suite struct BorrowingTests {
    /// A borrower with 1 BTC at 40,000 (haircut 10 %), debt rates 10 % / 25 %, USDT lent at
    /// `usdtRate` per hour (supply 100,000, asset cap 80,000, account cap 30,000), BTC lent at 5 %
    /// a year compounded, ETH not lent. `%@` takes the commands.
    static func document(_ commands: [String], usdtTerms: String = #""rate":"0.0001","per":"hour","supply":"100000","borrow_cap":"80000","account_borrow_cap":"30000""#,
                         accounts: String = #"{"id":"borrower","settle":"USDT","collateral":{"BTC":"1"}}"#) -> String {
        """
        {"start":{"time":"2024-01-01T13:00:00Z",
                  "policy":{"warning_ratio":"0.5","call_ratio":"0.7","restore_ratio":"0.5","debt_maintenance_rate":"0.1","debt_initial_rate":"0.25"},
                  "assets":{"USDT":"1","BTC":"40000","ETH":"2000"},"haircuts":{"BTC":"0.1","ETH":"0.15"},
                  "instruments":[],"marks":{},"accounts":[\(accounts)]},
         "parameters":{"preset":"exchange","mark_staleness_ms":86400000,"grace_period_ms":14400000},
         "insurance_fund":{"USDT":"1000"},
         "lending":{"USDT":{\(usdtTerms)},"BTC":{"rate":"0.05","per":"year","compounding":"compound"}},
         "commands":[\(commands.joined(separator: ","))]}
        """
    }

    /// Runs a scenario text with the engine's invariants (conservation with the lending pool,
    /// the pool's identities, index ≡ rescan in debug builds) after every command.
    func run(_ text: String) throws -> (Engine, [EngineEvent]) {
        let scenario = try Scenario.decode(JSONParser.parse(text))
        var engine = try scenario.makeEngine()
        var events: [EngineEvent] = []
        for command in scenario.commands {
            events += engine.apply(command)
            EngineFuzzer.checkInvariants(engine)
            #expect(engine.invariantViolation() == nil)
        }
        return (engine, events)
    }

    static func at(_ time: String, _ type: String, _ fields: String = "") -> String {
        let stamp = time.contains("T") ? time : "2024-01-01T\(time)Z"
        return #"{"time":"\#(stamp)","type":"\#(type)"\#(fields.isEmpty ? "" : "," + fields)}"#
    }

    /// The ISO time `seconds` after 2024-01-01T13:00:00Z.
    static func iso(_ seconds: Int64) -> String {
        let t = 13 * 3600 + seconds
        return String(format: "2024-01-%02lld", 1 + t / 86400) + String(format: "T%02lld:%02lld:%02lldZ", (t / 3600) % 24, (t / 60) % 60, t % 60)
    }
    static func borrow(_ time: String, _ amount: String, asset: String = "USDT", account: String = "borrower") -> String {
        at(time, "borrow", #""account":"\#(account)","asset":"\#(asset)","amount":"\#(amount)""#)
    }
    static func repay(_ time: String, _ amount: String, asset: String = "USDT", account: String = "borrower") -> String {
        at(time, "repay", #""account":"\#(account)","asset":"\#(asset)","amount":"\#(amount)""#)
    }

    func loan(_ engine: Engine, _ asset: String = "USDT", account: Int = 0) -> Loan {
        let k = engine.state.market.assets.firstIndex { $0.symbol == asset }!
        return engine.state.lending.loan(account: account, asset: k)
    }

    func rejections(_ events: [EngineEvent]) -> [(code: Int64, field: String)] {
        events.filter { $0.kind == .rejected }.map { e in
            guard case .integer(let code)? = e["code"] else { return (0, "") }
            return (code, e.text("field") ?? "")
        }
    }

    // MARK: interest, hand-computed

    /// Binance Margin's FAQ example (FAQ 360030157812, dynamic-rate FAQ §4): hourly rate
    /// 0.001 %, 1,000 USDT borrowed at 13:55, at 14:30 the interest is 1,000 · 0.001 % · 2 = 0.02
    /// (one hour at the borrow, one at 14:00).
    @Test func binanceHourlyExample() throws {
        let terms = #""rate":"0.00001","per":"hour""#
        let (engine, events) = try run(Self.document([Self.borrow("13:55:00", "1000"), Self.at("14:30:00", "tick")], usdtTerms: terms))
        let borrowed = try #require(events.first { $0.kind == .borrowed })
        #expect(borrowed.decimal("interest_charged") == dec("0.01"))
        let charged = try #require(events.first { $0.kind == .interestCharged })
        #expect(charged.decimal("amount") == dec("0.01") && charged["hours"] == .integer(1))
        #expect(loan(engine) == Loan(principal: dec("1000"), interest: dec("0.02")))
        // The balance is net: 1,000 held less 1,000.02 owed.
        #expect(engine.state.accounts[0].balance(0) == dec("-0.02"))
        #expect(conserved(engine))
    }

    /// Binance's older example with a daily rate of 0.02 % (= 7.3 % a year of 365 days):
    /// 1,000 USDT borrowed 13:20, repaid 14:15 → 1,000 · (0.02 %/24) · 2 = 0.01666667 at
    /// Binance's 8 digits; the engine charges ⌈1000 · 0.073 / 8760⌉ = 0.008333333333333334 per
    /// hour (rounded up at 10⁻¹⁸), twice.
    @Test func binanceDailyRateExample() throws {
        let terms = #""rate":"0.073","per":"year""#
        let accounts = #"{"id":"borrower","settle":"USDT","collateral":{"BTC":"1","USDT":"10"}}"#
        let (engine, events) = try run(Self.document([Self.borrow("13:20:00", "1000"), Self.repay("14:15:00", "1000.016666666666666668")],
                                                     usdtTerms: terms, accounts: accounts))
        #expect(events.filter { $0.kind == .interestCharged }.count == 1)
        let repaid = try #require(events.first { $0.kind == .repaid })
        #expect(repaid.decimal("interest_paid") == dec("0.016666666666666668"))
        #expect(repaid.decimal("interest_paid")!.rounded(toDigits: 8) == dec("0.01666667"))
        #expect(repaid.decimal("principal_paid") == dec("1000"))
        #expect(loan(engine).isEmpty)
        #expect(engine.state.lending.pools[0]?.interestRepaid == RunningTotal(dec("0.016666666666666668")))
        #expect(conserved(engine))
    }

    /// Compound policy (Aave v3 compounds on principal + interest; here hourly): 1 BTC at 5 %
    /// a year: r_h = ⌈0.05/8760⌉ = 0.000005707762557078; after the first hour and 24 more hour
    /// starts, owed = ⌈(1 + r_h) · F₂₄⌉ with F the rounded-up binary power — within 10⁻¹⁶ of
    /// (1 + r_h)^25 and never below it. Over a year the interest is (1 + 0.05/8760)^8760 − 1 =
    /// 0.0512709…, within 2·10⁻⁷ of Aave's per-second compounding e^0.05 − 1 = 0.0512710964.
    @Test func compoundInterestOnBitcoin() throws {
        let accounts = #"{"id":"borrower","settle":"USDT","collateral":{"USDT":"100000"}}"#
        let (engine, events) = try run(Self.document([Self.borrow("13:00:00", "1", asset: "BTC"), Self.at("14:00:00", "tick"),
                                                      #"{"time":"2024-01-02T13:00:00Z","type":"tick"}"#], accounts: accounts))
        let first = try #require(events.first { $0.kind == .borrowed })
        #expect(first.decimal("interest_charged") == dec("0.000005707762557078"))
        let owed = loan(engine, "BTC").owed
        // (1 + 0.000005707762557078)^25 = 1.00014270383792067230… (Python Decimal, 80 digits):
        let exact = dec("1.000142703837920672")  // floor of the exact power at 18 digits
        #expect(owed >= exact && owed - exact <= dec("0.0000000000000001"))
        // One year of hourly compounding vs Aave's per-second compounding (continuous limit).
        let factor = try #require(Engine.compoundFactor(hourlyRate: dec("0.05") / dec("8760"), hours: 8760))
        #expect((factor - dec("1.051271096376024")).magnitude < dec("0.0000002"))
        #expect(factor - FixedDecimal.one > dec("0.05"))  // simple interest would give 0.05
        #expect(conserved(engine))
    }

    /// Simple interest across a long gap is `hours · ⌈P · r_h⌉` exactly, whether the hours pass
    /// in one command or hour by hour (no drift): 24 hours on 10,000 USDT at 0.0001 = 24.
    @Test func simpleInterestHasNoDrift() throws {
        var hourly = [Self.borrow("13:30:00", "10000")]
        for h in 14...23 { hourly.append(Self.at("\(h):00:01", "tick")) }
        hourly.append(#"{"time":"2024-01-02T13:59:00Z","type":"tick"}"#)
        let (a, _) = try run(Self.document(hourly))
        let (b, _) = try run(Self.document([Self.borrow("13:30:00", "10000"), #"{"time":"2024-01-02T13:59:00Z","type":"tick"}"#]))
        #expect(loan(a) == Loan(principal: dec("10000"), interest: dec("25")))  // the first hour + 24 hour starts
        #expect(loan(a) == loan(b))
        #expect(a.state.accounts[0].balance(0) == b.state.accounts[0].balance(0))
    }

    // MARK: borrow and repay, accepted and refused

    /// The initial requirement without the borrowed funds: 1 BTC at 40,000 less 10 % = 36,000;
    /// borrowing X with first-hour interest f = 0.0001·X needs 36,000 − (X + f) ≥ 0.25·(X + f),
    /// so X + f ≤ 28,800: X = 28,797.12 is accepted, 28,797.13 refused (insufficient margin).
    @Test(arguments: [("28797.12", true), ("28797.13", false)])
    func borrowCheckedAgainstInitialMargin(amount: String, accepted: Bool) throws {
        let terms = #""rate":"0.0001","per":"hour""#
        let (engine, events) = try run(Self.document([Self.borrow("13:00:00", amount)], usdtTerms: terms))
        if accepted {
            #expect(rejections(events).isEmpty)
            #expect(loan(engine).principal == dec(amount))
            // Withdrawing every borrowed unit is then still within the initial requirement.
            let (after, more) = try run(Self.document([Self.borrow("13:00:00", amount),
                                                       Self.at("13:01:00", "withdraw", #""account":"borrower","asset":"USDT","amount":"\#(amount)""#)], usdtTerms: terms))
            #expect(rejections(more).isEmpty)
            #expect(after.state.accounts[0].balance(0) == -(dec(amount) * dec("1.0001")))
        } else {
            #expect(rejections(events).map(\.code) == [Int64(RejectReason.Code.insufficientMargin.rawValue)])
            #expect(rejections(events).map(\.field) == ["amount"])
            #expect(loan(engine).isEmpty && engine.state.lendingStorage?.loans.isEmpty != false)
        }
    }

    /// Every refusal is typed, names its field and changes nothing.
    @Test func refusals() throws {
        let code = { (c: RejectReason.Code) in Int64(c.rawValue) }
        let cases: [(String, Int64, String)] = [
            (Self.borrow("13:00:00", "100", asset: "ETH"), code(.borrowingNotOffered), "asset"),
            (Self.borrow("13:00:00", "0"), code(.invalidInput), "amount"),
            (Self.borrow("13:00:00", "-5"), code(.invalidInput), "amount"),
            (Self.borrow("13:00:00", "100", asset: "DOGE"), code(.unknownAsset), "asset"),
            (Self.borrow("13:00:00", "100", account: "nobody"), code(.unknownAccount), "account"),
            (Self.borrow("13:00:00", "30000.01"), code(.borrowLimit), "amount"),
            (Self.repay("13:00:00", "1"), code(.repayAboveDebt), "amount"),
            (Self.repay("13:00:00", "0"), code(.invalidInput), "amount"),
        ]
        for (command, expected, field) in cases {
            let (engine, events) = try run(Self.document([command]))
            #expect(rejections(events).map(\.code) == [expected], "\(command)")
            #expect(rejections(events).map(\.field) == [field], "\(command)")
            #expect(engine.state.lendingStorage?.loans.isEmpty != false, "\(command)")
            #expect(engine.state.accounts[0].balance(1) == dec("1"))
        }
        #expect(cases.count == 8)
        // Past the range contract (|amount| ≤ 1e15): a typed command the decoder would refuse.
        var engine = try Scenario.decode(JSONParser.parse(Self.document([]))).makeEngine()
        let big = FixedDecimal(raw: 2_000_000_000_000_000 * FixedDecimal.unitRaw)
        for command in [EngineCommand.borrow(account: "borrower", asset: "USDT", amount: big), .repay(account: "borrower", asset: "USDT", amount: big)] {
            let events = engine.apply(TimedCommand(time: engine.state.time, command: command))
            #expect(rejections(events).map(\.code) == [Int64(RejectReason.Code.outOfRange.rawValue)])
        }
        #expect(engine.state.lending.loans.isEmpty && engine.state.lending.pools.isEmpty)
    }

    /// A repayment comes from what the account holds of the asset: after withdrawing the
    /// borrowed USDT it holds none, and repaying is refused (insufficient balance).
    @Test func repayNeedsHoldings() throws {
        let (engine, events) = try run(Self.document([Self.borrow("13:00:00", "1000"),
                                                      Self.at("13:01:00", "withdraw", #""account":"borrower","asset":"USDT","amount":"1000""#),
                                                      Self.repay("13:02:00", "10")]))
        #expect(rejections(events).map(\.code) == [Int64(RejectReason.Code.insufficientBalance.rawValue)])
        #expect(loan(engine) == Loan(principal: dec("1000"), interest: dec("0.1")))
    }

    /// Repayment order: interest first, then principal (Binance Margin FAQ 360032609851).
    /// 1,000 at 0.0001/h: 0.1 at the borrow, 0.1 at 14:00 and 15:00 → interest 0.3; repaying
    /// 0.2 leaves 0.1 interest; repaying 500 then pays 0.1 interest and 499.9 principal.
    @Test func repaysInterestFirst() throws {
        let (engine, events) = try run(Self.document([Self.borrow("13:10:00", "1000"), Self.repay("15:00:00", "0.2"), Self.repay("15:30:00", "500")]))
        let repaid = events.filter { $0.kind == .repaid }
        #expect(repaid.count == 2)
        #expect(repaid[0].decimal("interest_paid") == dec("0.2") && repaid[0].decimal("principal_paid") == .zero)
        #expect(repaid[1].decimal("interest_paid") == dec("0.1") && repaid[1].decimal("principal_paid") == dec("499.9"))
        #expect(loan(engine) == Loan(principal: dec("500.1"), interest: .zero))
        // The net balance never moved on a repayment: holdings and debt fell together.
        #expect(engine.state.accounts[0].balance(0) == dec("-0.3"))
        let book = try #require(engine.state.lending.pools[0])
        #expect(book.principalOutstanding == dec("500.1") && book.interestRepaid == RunningTotal(dec("0.3")))
    }

    /// Borrowing is refused in a margin call; repaying is not.
    @Test func borrowRefusedInMarginCall() throws {
        // Borrow 28,000 (2.8 interest), withdraw it; BTC to 35,500: equity 31,950 − 28,002.8 =
        // 3,947.2 and MM 2,800.28, MM/equity = 0.709 ≥ the call ratio 0.7: a call (4 h grace).
        // A deposit of 500 then repays 2.8 interest and 497.2 principal.
        let (engine, events) = try run(Self.document([
            Self.borrow("13:00:00", "28000"),
            Self.at("13:01:00", "withdraw", #""account":"borrower","asset":"USDT","amount":"28000""#),
            Self.at("13:02:00", "asset_price", #""asset":"BTC","price":"35500""#),
            Self.borrow("13:03:00", "10"),
            Self.at("13:03:30", "deposit", #""account":"borrower","asset":"USDT","amount":"500""#),
            Self.repay("13:04:00", "500"),
        ]))
        #expect(events.contains { $0.kind == .marginCall })
        #expect(rejections(events).map(\.code) == [Int64(RejectReason.Code.borrowInMarginCall.rawValue)])
        #expect(events.contains { $0.kind == .repaid })
        #expect(loan(engine) == Loan(principal: dec("27502.8"), interest: .zero))  // 28,000 − (500 − 2.8 interest)
    }

    // MARK: limits and liquidity

    /// Three borrowers with 2 BTC each. Account cap 30,000: a second borrow past it is refused.
    /// Asset cap 80,000: the third 30,000 is refused. With supply 50,000 the second 30,000 is
    /// refused for liquidity; a repayment of 10,000 (3 interest + 9,997 principal) returns
    /// exactly 30,000 of liquidity (50,000 + 3 − 20,003), and the second borrow then passes.
    @Test func capsAndLiquidity() throws {
        let accounts = (0..<3).map { #"{"id":"b\#($0)","settle":"USDT","collateral":{"BTC":"2"}}"# }.joined(separator: ",")
        let (capped, events) = try run(Self.document([
            Self.borrow("13:00:00", "30000", account: "b0"), Self.borrow("13:00:01", "1", account: "b0"),
            Self.borrow("13:00:02", "30000", account: "b1"), Self.borrow("13:00:03", "30000", account: "b2"),
        ], accounts: accounts))
        #expect(rejections(events).map(\.code) == [2015, 2015])
        #expect(capped.state.lending.pools[0]?.principalOutstanding == dec("60000"))

        let tight = #""rate":"0.0001","per":"hour","supply":"50000""#
        let (liquid, more) = try run(Self.document([
            Self.borrow("13:00:00", "30000", account: "b0"), Self.borrow("13:00:01", "30000", account: "b1"),
            Self.repay("13:00:02", "10000", account: "b0"), Self.borrow("13:00:03", "30000", account: "b1"),
            Self.borrow("13:00:04", "0.000001", account: "b2"),
        ], usdtTerms: tight, accounts: accounts))
        #expect(rejections(more).map(\.code) == [2016, 2016])
        let second = try #require(more.last { $0.kind == .borrowed })
        #expect(second.account == "b1" && second.decimal("available_liquidity") == .zero)
        #expect(liquid.state.lending.pools[0]?.available(supply: dec("50000")) == RunningTotal(.zero))
    }

    /// Terms, caps and liquidity change through `change_parameters` (partial: only what is
    /// named), as do the debt rates; bad values are refused naming the field.
    @Test func changeParameters() throws {
        let (engine, events) = try run(Self.document([
            Self.at("13:00:00", "change_parameters", #""lending":{"USDT":{"supply":"10"},"ETH":{"rate":"0.02","per":"year"}},"debt_rates":{"BTC":{"maintenance":"0.2","initial":"0.4"}},"debt_maintenance_rate":"0.12""#),
            Self.borrow("13:00:01", "11"),
            Self.borrow("13:00:02", "1", asset: "ETH"),
            Self.at("13:00:03", "change_parameters", #""lending":{"USDT":{"rate":"0.5"}}"#),
            Self.at("13:00:04", "change_parameters", #""debt_rates":{"BTC":{"maintenance":"0.5","initial":"0.4"}}"#),
            Self.at("13:00:05", "change_parameters", #""lending":{"USDT":{"supply":null,"borrow_cap":null}}"#),
            Self.borrow("13:00:06", "11"),
        ]))
        #expect(rejections(events).map(\.code) == [2016, 1009, 1001])
        #expect(rejections(events).map(\.field) == ["amount", "lending.USDT.rate", "debt_rates.BTC.initial"])
        let usdt = try #require(engine.state.lending.terms(for: "USDT"))
        #expect(usdt.rate == dec("0.0001") && usdt.supply == nil && usdt.borrowCap == nil && usdt.accountBorrowCap == dec("30000"))
        #expect(engine.state.lending.terms(for: "ETH")?.per == .year)
        #expect(engine.state.parameters.policy.debtMaintenanceRate == dec("0.12"))
        #expect(engine.state.parameters.policy.debtRates[1] == MarginPolicy.DebtRates(maintenance: dec("0.2"), initial: dec("0.4")))
        #expect(loan(engine, "ETH").principal == dec("1") && loan(engine).principal == dec("11"))
        let applied = events.filter { $0.kind == .parametersApplied }
        #expect(applied.count == 2)
    }

    /// The canonical encoding (the journal's) reads back to the same command: borrow, repay,
    /// and a parameter change with lending terms (nulls included) and debt rates.
    @Test func canonicalEncodingRoundTrips() throws {
        let texts = [
            Self.borrow("13:00:00", "12.5"), Self.repay("13:00:00", "0.000000000000000001", asset: "BTC"),
            Self.at("13:00:00", "change_parameters", #""lending":{"USDT":{"rate":"0.1","per":"year","compounding":"compound","supply":null,"borrow_cap":"5","account_borrow_cap":null},"BTC":{"supply":"3"}},"debt_maintenance_rate":"0.12","debt_initial_rate":"0.3","debt_rates":{"ETH":{"maintenance":"0.2","initial":"0.4"}}"#),
        ]
        let assets = ["USDT": 0, "BTC": 1, "ETH": 2]
        for text in texts {
            let command = try Scenario.decodeCommand(JSONReader(JSONParser.parse(text), path: ""), assetIndex: assets, defaultTime: 0)
            let again = try Scenario.decodeCommand(JSONReader(JSONParser.parse(command.canonicalJSON), path: ""), assetIndex: assets, defaultTime: 0)
            #expect(again == command, "\(text)")
            #expect(again.canonicalJSON == command.canonicalJSON)
        }
        #expect(texts.count == 3)
    }

    // MARK: liquidation and bad debt against the pool

    /// A loan whose collateral is gone: 28,000 borrowed and withdrawn, BTC falls to 20,000
    /// (bankrupt). All the BTC is sold (0.95 at 20,000 = 19,000 repays the loan, interest
    /// first); the USDT fund (1,000) pays next; the rest, 28,002.8 − 20,000 = 8,002.8, is
    /// written off against the lending pool: its liquidity falls by that principal.
    @Test func badDebtBorneByLenders() throws {
        let (engine, events) = try run(Self.document([
            Self.borrow("13:00:00", "28000"),
            Self.at("13:01:00", "withdraw", #""account":"borrower","asset":"USDT","amount":"28000""#),
            Self.at("13:02:00", "asset_price", #""asset":"BTC","price":"20000""#),
        ]))
        let off = try #require(events.first { $0.kind == .loanWrittenOff })
        #expect(off.decimal("amount") == dec("8002.8") && off.text("borne_by") == "lending_pool")
        #expect(events.contains { $0.kind == .repaid && $0.text("reason") == "liquidation" })
        #expect(events.contains { $0.kind == .repaid && $0.text("reason") == "insurance_fund" })
        #expect(loan(engine).isEmpty)
        let book = try #require(engine.state.lending.pools[0])
        #expect(book.principalWrittenOff == RunningTotal(dec("8002.8")) && book.interestWrittenOff.isZero)
        #expect(book.available(supply: dec("100000")) == RunningTotal(dec("91997.2") + dec("2.8")))
        #expect(engine.state.lenderIncome(of: 0) == RunningTotal(dec("2.8")) - RunningTotal(dec("8002.8")))
        #expect(engine.state.accounts[0].balance(0) == .zero)
        #expect(engine.state.accounts[0].procedures.isEmpty && engine.state.backlog.isEmpty)
        #expect(conserved(engine))
    }

    /// The reference model's finding N1 (scripts/oracle/cases/N1-dead-loan-interest-paid-by-fund.json):
    /// a borrower's long is liquidated bankrupt and the waterfall covers the cross deficit (loan
    /// included) by converting its BTC. The settlement then repays the loan from what the account
    /// holds (2,008 USDT: principal 2,000 and interest 8), so no later hour charges interest that
    /// the insurance fund would pay.
    @Test func settledAccountRepaysItsLoan() throws {
        let url = packageRoot.appendingPathComponent("scripts/oracle/cases/N1-dead-loan-interest-paid-by-fund.json")
        let (engine, events) = try run(String(decoding: try Data(contentsOf: url), as: UTF8.self))
        let settled = try #require(events.first { $0.kind == .repaid && $0.text("reason") == "liquidation" })
        #expect(settled.decimal("interest_paid") == dec("8") && settled.decimal("principal_paid") == dec("2000"))
        #expect(engine.state.lending.loans.isEmpty)
        #expect(!events.contains { $0.kind == .repaid && $0.text("reason") == "insurance_fund" })
        #expect(events.filter { $0.kind == .interestCharged }.allSatisfy { $0.time <= settled.time })  // none after the settlement
        #expect(engine.state.accounts[0].balance(0) == .zero)
        #expect(conserved(engine))
    }

    // MARK: replay, snapshot/restore, properties

    /// A snapshot taken mid-way (with accrued interest, loans and pool books) restores to an
    /// engine that continues exactly as the original: the same events and state hash.
    @Test func snapshotRestoreWithInterest() throws {
        let commands = [Self.borrow("13:20:00", "20000"), Self.borrow("13:30:00", "0.5", asset: "BTC"),
                        Self.at("13:40:00", "withdraw", #""account":"borrower","asset":"USDT","amount":"15000""#),
                        Self.at("17:05:00", "asset_price", #""asset":"BTC","price":"36000""#),
                        Self.repay("18:00:00", "0.1", asset: "BTC"), Self.at("23:59:00", "tick")]
        let scenario = try Scenario.decode(JSONParser.parse(Self.document(commands)))
        var original = try scenario.makeEngine()
        for command in scenario.commands.prefix(4) { _ = original.apply(command) }
        #expect(loan(original).interest.isPositive)
        let saved = try JSONEncoder().encode(original.state)
        var restored = Engine(restoring: try JSONDecoder().decode(EngineState.self, from: saved))
        #expect(restored.stateHash() == original.stateHash())
        for command in scenario.commands.dropFirst(4) {
            #expect(original.apply(command).map(\.json) == restored.apply(command).map(\.json))
        }
        #expect(restored.stateHash() == original.stateHash())
        #expect(loan(restored, "BTC") == loan(original, "BTC"))
    }

    /// Random borrow / repay / withdraw / deposit / hour jumps / price moves over three
    /// borrowers: conservation per asset with the lending pool and the pool's identities after
    /// every command; the at-risk index ≡ a full rescan (same events, byte for byte); replay
    /// gives the same state hash.
    @Test(.shrinking(false)) func randomLendingProperty() async {
        let checked = LendingCaseCounter()
        await propertyCheck(count: 12, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            var commands: [String] = []
            var btc = 40000.0, seconds: Int64 = 0
            func pick(_ xs: [String]) -> String { xs[Int(rng.next() % UInt64(xs.count))] }
            for _ in 0..<60 {
                seconds += rng.next() % 3 == 0 ? Int64(rng.next() % 20000) : Int64(rng.next() % 60)
                let stamp = Self.iso(seconds)
                let who = pick(["b0", "b1", "b2"])
                let asset = pick(["USDT", "USDT", "BTC"])
                let amount = asset == "BTC" ? String(format: "%.4f", Double(rng.next() % 5000) / 10000) : String(rng.next() % 20000 + 1)
                switch rng.next() % 6 {
                case 0, 1: commands.append(Self.borrow(stamp, amount, asset: asset, account: who))
                case 2: commands.append(Self.repay(stamp, amount, asset: asset, account: who))
                case 3: commands.append(Self.at(stamp, pick(["withdraw", "deposit"]), #""account":"\#(who)","asset":"\#(asset)","amount":"\#(amount)""#))
                default:
                    btc *= 0.85 + Double(rng.next() % 300) / 1000
                    commands.append(Self.at(stamp, "asset_price", #""asset":"BTC","price":"\#(String(format: "%.1f", btc))""#))
                }
            }
            let accounts = (0..<3).map { #"{"id":"b\#($0)","settle":"USDT","collateral":{"BTC":"1","USDT":"1000"}}"# }.joined(separator: ",")
            let text = Self.document(commands, accounts: accounts)
            guard let scenario = try? Scenario.decode(JSONParser.parse(text)),
                  var fast = try? scenario.makeEngine(), var oracle = try? scenario.makeEngine(fullRescan: true),
                  var replay = try? scenario.makeEngine() else { Issue.record("scenario did not decode"); return }
            for command in scenario.commands {
                let a = fast.apply(command).map(\.json)
                #expect(a == oracle.apply(command).map(\.json), "seed \(seed)")
                _ = replay.apply(command)
                #expect(conserved(fast), "seed \(seed)")
                #expect(fast.lendingViolation() == nil, "seed \(seed): \(fast.lendingViolation() ?? "")")
            }
            #expect(fast.stateHash() == replay.stateHash() && fast.stateHash() == oracle.stateHash())
            checked.add(fast.state.lendingStorage?.pools.values.reduce(0) { $0 + ($1.borrowed.isZero ? 0 : 1) } ?? 0)
        }
        #expect(checked.value > 0)  // some borrow went through
    }
}

/// A count shared across property cases.
final class LendingCaseCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add(_ k: Int) { lock.lock(); n += k; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}
