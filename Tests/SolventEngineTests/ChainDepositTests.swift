import SolventCore
import SolventEngine
import SolventRisk
import Testing

private func chainEngine(unconfirmedHaircut: FixedDecimal? = nil) -> Engine {
    var parameters = EngineParameters.exchange
    parameters.finalityDepth = 3
    parameters.unconfirmedHaircut = unconfirmedHaircut
    var engine = Engine(market: btcMarket([.init(floor: 0, cap: 3_000_000, maxLeverage: 100, mmr: dec("0.005"))]), parameters: parameters)
    try! engine.openAccount(Account(id: "a", settle: 0, collateral: [CollateralBalance(asset: 0, amount: 100)], positions: []))
    return engine
}

private func deposit(_ height: Int64, _ hash: String, _ amount: FixedDecimal) -> EngineCommand {
    .chainDeposit(account: "a", asset: "USDT", amount: amount, settle: nil, chain: "eth", height: height, blockHash: hash)
}

@Suite struct ChainDepositTests {
    /// An on-chain deposit counts only after the finality depth (tip − height + 1 ≥ depth).
    @Test func countsAfterFinality() {
        var e = chainEngine()
        _ = e.apply(TimedCommand(time: 1, command: deposit(10, "h10", 1000)))
        #expect(e.state.accounts[0].balance(0) == dec("100"))
        _ = e.apply(TimedCommand(time: 2, command: .chainTip(chain: "eth", height: 11)))
        #expect(e.state.accounts[0].balance(0) == dec("100"))
        let events = e.apply(TimedCommand(time: 3, command: .chainTip(chain: "eth", height: 12)))
        #expect(events.contains { $0.kind == .chainDepositFinal })
        #expect(e.state.accounts[0].balance(0) == dec("1100"))
        #expect(conserved(e))
    }

    /// With an unconfirmed haircut the deposit counts at amount·(1 − haircut) until final.
    @Test func unconfirmedAtHaircut() {
        var e = chainEngine(unconfirmedHaircut: dec("0.3"))
        _ = e.apply(TimedCommand(time: 1, command: deposit(10, "h10", 1000)))
        #expect(e.state.accounts[0].balance(0) == dec("800"))  // 100 + 1000 × 0.7
        _ = e.apply(TimedCommand(time: 2, command: .chainTip(chain: "eth", height: 12)))
        #expect(e.state.accounts[0].balance(0) == dec("1100"))
        #expect(conserved(e))
    }

    /// A deposit under the finality depth cannot be withdrawn, even when it counts at a haircut.
    @Test func unconfirmedNotWithdrawable() {
        var e = chainEngine(unconfirmedHaircut: dec("0.3"))
        _ = e.apply(TimedCommand(time: 1, command: deposit(10, "h10", 1000)))
        let rejected = e.apply(TimedCommand(time: 2, command: .withdraw(account: "a", asset: "USDT", amount: 101)))
        #expect(rejected.first?.kind == .rejected)
        #expect(e.apply(TimedCommand(time: 3, command: .withdraw(account: "a", asset: "USDT", amount: 100))).first?.kind == .withdrew)
        _ = e.apply(TimedCommand(time: 4, command: .chainTip(chain: "eth", height: 12)))
        #expect(e.apply(TimedCommand(time: 5, command: .withdraw(account: "a", asset: "USDT", amount: 1000))).first?.kind == .withdrew)
        #expect(conserved(e))
    }

    /// A reorganization orphans deposits in replaced blocks only, and reverses their credit.
    @Test func reorgReversesOrphans() {
        var e = chainEngine(unconfirmedHaircut: dec("0.5"))
        _ = e.apply(TimedCommand(time: 1, command: deposit(10, "h10", 1000)))
        _ = e.apply(TimedCommand(time: 2, command: deposit(11, "h11", 400)))
        #expect(e.state.accounts[0].balance(0) == dec("800"))  // 100 + 500 + 200
        let events = e.apply(TimedCommand(time: 3, command: .chainReorg(chain: "eth", forkHeight: 11, newHashes: [11: "x11", 12: "x12"])))
        #expect(events.filter { $0.kind == .chainDepositOrphaned }.count == 1)
        #expect(e.state.accounts[0].balance(0) == dec("600"))
        #expect(e.state.orphanedDeposits == ["eth:11:h11"])
        _ = e.apply(TimedCommand(time: 4, command: .chainTip(chain: "eth", height: 12)))
        #expect(e.state.accounts[0].balance(0) == dec("1100"))  // the h10 deposit is final and whole
        #expect(conserved(e))
    }

    /// A reorganization below the fork height or a lower tip is rejected and changes nothing.
    @Test func badNotices() {
        var e = chainEngine()
        _ = e.apply(TimedCommand(time: 1, command: .chainTip(chain: "eth", height: 20)))
        #expect(e.apply(TimedCommand(time: 2, command: .chainTip(chain: "eth", height: 19))).first?.kind == .rejected)
        #expect(e.apply(TimedCommand(time: 3, command: .chainReorg(chain: "eth", forkHeight: 15, newHashes: [14: "x"]))).first?.kind == .rejected)
        #expect(e.state.chainTips["eth"] == 20)
    }
}
