import SolventCore
import SolventEngine
import Testing

@Suite struct ScenarioTests {
    /// Lender call cured by a deposit before the deadline: warning, call (with demand and
    /// a deadline 4 h out), cure; never a liquidation.
    @Test func lenderCallCured() throws {
        let (engine, events) = try runScenario("lender-call-cured.json")
        let kinds = events.map(\.kind)
        #expect(kinds.contains(.marginWarning))
        let call = try #require(events.first { $0.kind == .marginCall })
        #expect(call.decimal("call_amount") == dec("301.8") / dec("0.5") - dec("360"))  // MM / restore − equity
        #expect(call["deadline"] == .integer(call.time + 4 * 3_600_000))
        #expect(kinds.contains(.marginCallCured))
        #expect(!kinds.contains(.liquidationStarted) && !kinds.contains(.liquidationFill))
        #expect(engine.state.accounts[0].account.positions.count == 1)
        #expect(conserved(engine))
    }

    /// The same call not cured: liquidation starts only after the deadline, and the
    /// backstop takes the whole position at its bankruptcy price.
    @Test func lenderCallUncured() throws {
        let (engine, events) = try runScenario("lender-call-uncured.json")
        let call = try #require(events.first { $0.kind == .marginCall })
        let started = try #require(events.first { $0.kind == .liquidationStarted })
        #expect(started.text("reason") == "margin_call_deadline_passed")
        #expect(started.time > call.time + 4 * 3_600_000)
        let fill = try #require(events.first { $0.kind == .liquidationFill })
        #expect(fill.text("executor") == "backstop")
        #expect(fill.decimal("price") == fill.decimal("bankruptcy_price"))
        #expect(engine.state.accounts[0].account.positions.isEmpty)
        #expect(conserved(engine))
    }

    /// A fast crash through a thin book drains the insurance fund, then ADL closes the
    /// highest-ranked opposite positions at the bankruptcy price, only as much as needed.
    @Test func crashDrainsFundThenADL() throws {
        let (engine, events) = try runScenario("crash-adl.json")
        let usdt = 0
        #expect(engine.state.totals[usdt].insuranceFund < dec("0.00001"))
        let adl = events.filter { $0.kind == .autoDeleveraged }
        #expect(!adl.isEmpty)
        #expect(adl.first?.account == "s2")  // PnL% × leverage: s2 (5×) ranks above s1 (3×)
        for event in adl { #expect(event.decimal("price") == dec("7600") || event.decimal("price") == dec("7500")) }
        // Only what was needed: the ADL'd quantity plus book fills equals the bankrupt positions (15 BTC).
        let adlQuantity = adl.reduce(FixedDecimal.zero) { $0 + $1.decimal("quantity")!.magnitude }
        let bookQuantity = events.filter { $0.kind == .liquidationFill }.reduce(FixedDecimal.zero) { $0 + $1.decimal("quantity")!.magnitude }
        #expect(adlQuantity + bookQuantity == dec("15"))
        #expect(engine.state.accounts.allSatisfy { $0.badDebt.isZero })
        #expect(conserved(engine))
    }

    /// An oracle spike pauses liquidations (no fill happens) and they resume when the mark returns.
    @Test func oracleSpikePauses() throws {
        let (engine, events) = try runScenario("oracle-spike.json")
        let paused = try #require(events.first { $0.kind == .liquidationsPaused })
        #expect(paused.text("reasons")?.contains("oracle_divergence") == true)
        #expect(!events.contains { $0.kind == .liquidationFill })
        #expect(events.contains { $0.kind == .liquidationsResumed })
        #expect(engine.state.accounts[0].account.positions.first?.quantity == dec("10"))
        #expect(conserved(engine))
    }

    /// Partial liquidation closes 25% and stops as soon as the pool is above maintenance.
    @Test func partialLiquidationStops() throws {
        let (engine, events) = try runScenario("partial-liquidation.json")
        let fills = events.filter { $0.kind == .liquidationFill }
        #expect(fills.count == 1)
        #expect(fills[0].decimal("quantity") == dec("-25"))
        #expect(engine.state.accounts[0].account.positions.first?.quantity == dec("75"))
        let ended = try #require(events.first { $0.kind == .liquidationEnded })
        #expect(ended.decimal("equity")! > ended.decimal("maintenance_margin")!)
        #expect(conserved(engine))
    }

    /// A short squeeze on an illiquid market: fund too small, ADL off, the remaining
    /// loss is socialized over the profitable longs pro rata; the numbers add up.
    @Test func shortSqueezeSocialized() throws {
        let (engine, events) = try runScenario("short-squeeze-socialized.json")
        let draw = try #require(events.first { $0.kind == .insuranceFundDraw })
        #expect(draw.decimal("amount") == dec("100000"))
        let shares = events.filter { $0.kind == .socializedLoss }
        #expect(shares.map(\.account) == ["l1", "l2"])
        // Deficit: 50000 − (2M·0.06 + 3M·0.08 + 5M·0.11) = −860000; fund pays 100000; 760000 socialized 60/40.
        #expect(shares.map { $0.decimal("amount")! } == [dec("456000"), dec("304000")])
        #expect(engine.state.totals[0].socializedLoss == dec("760000"))
        #expect(engine.state.accounts[0].balance(0) == .zero)
        #expect(engine.state.accounts[3].balance(0) == dec("30000"))  // the bystander is not charged
        #expect(conserved(engine))
    }

    /// Every scenario gives the same events and hash with the index and with full rescans.
    @Test(arguments: ["lender-call-cured.json", "lender-call-uncured.json", "crash-adl.json", "oracle-spike.json",
                      "partial-liquidation.json", "short-squeeze-socialized.json", "chain-reorg.json"])
    func indexMatchesRescan(name: String) throws {
        let (fast, a) = try runScenario(name)
        let (oracle, b) = try runScenario(name, fullRescan: true)
        #expect(a.map(\.json) == b.map(\.json))
        #expect(fast.stateHash() == oracle.stateHash())
        #expect(conserved(fast))
    }
}
