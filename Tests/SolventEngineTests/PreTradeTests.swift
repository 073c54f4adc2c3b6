import SolventCore
import SolventEngine
import SolventRisk
import Testing

/// An engine with one BTCUSDT market (DESIGN.md tiers, max 125×) and account "a" holding 1000 USDT.
private func engine(parameters: EngineParameters = .exchange) -> Engine {
    let market = btcMarket([
        .init(floor: 0, cap: 50_000, maxLeverage: 125, mmr: dec("0.004")),
        .init(floor: 50_000, cap: 600_000, maxLeverage: 100, mmr: dec("0.005")),
        .init(floor: 600_000, cap: 3_000_000, maxLeverage: 75, mmr: dec("0.0065")),
    ])
    var e = Engine(market: market, parameters: parameters)
    try! e.openAccount(Account(id: "a", settle: 0, collateral: [CollateralBalance(asset: 0, amount: 1000)], positions: []))
    return e
}

private func code(_ events: [EngineEvent]) -> Int64? {
    guard let first = events.first, first.kind == .rejected, case .integer(let c) = first["code"] else { return nil }
    return c
}

@Suite struct PreTradeTests {
    /// Orders beyond free margin are rejected; accepted ones reserve margin that later orders see.
    @Test func insufficientMargin() {
        var e = engine()
        #expect(code(e.apply(TimedCommand(time: 1, command: .setLeverage(account: "a", symbol: "BTCUSDT", leverage: 10)))) == nil)
        // 0.2 BTC × 50000 / 10 = 1000 reserved: exactly the balance.
        let ok = e.apply(TimedCommand(time: 2, command: .placeOrder(id: "o1", account: "a", symbol: "BTCUSDT", quantity: dec("0.2"), price: 50_000, reduceOnly: false)))
        #expect(ok.first?.kind == .orderAccepted)
        let rejected = e.apply(TimedCommand(time: 3, command: .placeOrder(id: "o2", account: "a", symbol: "BTCUSDT", quantity: dec("0.001"), price: 50_000, reduceOnly: false)))
        #expect(code(rejected) == Int64(RejectReason.Code.insufficientMargin.rawValue))
    }

    /// Leverage above the bracket of the new notional, and notional beyond the last cap, are rejected.
    @Test func leverageAndPositionLimit() {
        var e = engine()
        _ = e.apply(TimedCommand(time: 1, command: .deposit(account: "a", asset: "USDT", amount: 1_000_000, settle: nil)))
        _ = e.apply(TimedCommand(time: 1, command: .setLeverage(account: "a", symbol: "BTCUSDT", leverage: 110)))
        // 2 BTC = 100000 notional: tier 2 allows 100×, the account asks 110×.
        let tooHigh = e.apply(TimedCommand(time: 2, command: .placeOrder(id: "o1", account: "a", symbol: "BTCUSDT", quantity: 2, price: 50_000, reduceOnly: false)))
        #expect(code(tooHigh) == Int64(RejectReason.Code.leverageAboveBracket.rawValue))
        _ = e.apply(TimedCommand(time: 3, command: .setLeverage(account: "a", symbol: "BTCUSDT", leverage: 5)))
        let limit = e.apply(TimedCommand(time: 4, command: .placeOrder(id: "o2", account: "a", symbol: "BTCUSDT", quantity: 60, price: 50_000, reduceOnly: false)))
        #expect(code(limit) == Int64(RejectReason.Code.positionLimit.rawValue))
    }

    /// In a margin call only reducing orders pass, and withdrawals are blocked.
    @Test func reduceOnlyAndNoWithdrawalInCall() {
        var e = engine(parameters: EngineParameters(gracePeriodMs: 3_600_000))
        _ = e.apply(TimedCommand(time: 1, command: .fill(account: "a", symbol: "BTCUSDT", quantity: 1, price: 50_000, fee: 0, orderID: nil)))
        // 1 BTC long, 1000 collateral: at 49220 equity 220, MM 196.1 (ratio 0.89) → call.
        let events = e.apply(TimedCommand(time: 2, command: .markPrice(symbol: "BTCUSDT", price: 49_220, sourceTime: 2)))
        #expect(events.contains { $0.kind == .marginCall })
        let increase = e.apply(TimedCommand(time: 3, command: .placeOrder(id: "o1", account: "a", symbol: "BTCUSDT", quantity: dec("0.1"), price: 49_220, reduceOnly: false)))
        #expect(code(increase) == Int64(RejectReason.Code.reduceOnlyInMarginCall.rawValue))
        let reduce = e.apply(TimedCommand(time: 4, command: .placeOrder(id: "o2", account: "a", symbol: "BTCUSDT", quantity: dec("-0.5"), price: 49_220, reduceOnly: false)))
        #expect(reduce.first?.kind == .orderAccepted)
        let withdraw = e.apply(TimedCommand(time: 5, command: .withdraw(account: "a", asset: "USDT", amount: 1)))
        #expect(code(withdraw) == Int64(RejectReason.Code.withdrawalInMarginCall.rawValue))
    }

    /// Withdrawals that would leave the pool below initial margin are rejected; the rest pass.
    @Test func withdrawalBelowInitialMargin() {
        var e = engine()
        _ = e.apply(TimedCommand(time: 1, command: .fill(account: "a", symbol: "BTCUSDT", quantity: dec("0.1"), price: 50_000, fee: 0, orderID: nil)))
        // IM at 125×: 5000 / 125 = 40; free = 1000 − 40 = 960.
        #expect(code(e.apply(TimedCommand(time: 2, command: .withdraw(account: "a", asset: "USDT", amount: dec("960.01"))))) == Int64(RejectReason.Code.insufficientMargin.rawValue))
        #expect(e.apply(TimedCommand(time: 3, command: .withdraw(account: "a", asset: "USDT", amount: 960))).first?.kind == .withdrew)
    }

    /// A stale mark freezes risk-increasing orders but not reducing ones, and pauses liquidations.
    @Test func staleMarkFreezes() {
        var e = engine()
        _ = e.apply(TimedCommand(time: 1, command: .fill(account: "a", symbol: "BTCUSDT", quantity: dec("0.1"), price: 50_000, fee: 0, orderID: nil)))
        let events = e.apply(TimedCommand(time: 60_000, command: .tick))
        #expect(events.contains { $0.kind == .liquidationsPaused && $0.text("reasons") == "stale_mark" })
        let increase = e.apply(TimedCommand(time: 60_001, command: .placeOrder(id: "o1", account: "a", symbol: "BTCUSDT", quantity: dec("0.01"), price: 50_000, reduceOnly: false)))
        #expect(code(increase) == Int64(RejectReason.Code.staleMark.rawValue))
        let reduce = e.apply(TimedCommand(time: 60_002, command: .placeOrder(id: "o2", account: "a", symbol: "BTCUSDT", quantity: dec("-0.01"), price: 50_000, reduceOnly: true)))
        #expect(reduce.first?.kind == .orderAccepted)
        let fresh = e.apply(TimedCommand(time: 60_003, command: .markPrice(symbol: "BTCUSDT", price: 50_000, sourceTime: 60_003)))
        #expect(fresh.contains { $0.kind == .liquidationsResumed })
    }

    /// A parameter change can be dry-run: it reports whom it would move, and changes nothing.
    @Test func dryRunOfParameterChange() throws {
        var e = engine()
        _ = e.apply(TimedCommand(time: 1, command: .fill(account: "a", symbol: "BTCUSDT", quantity: dec("0.9"), price: 50_000, fee: 0, orderID: nil)))
        let harsher = try BracketTable(rows: [.init(floor: 0, cap: 3_000_000, maxLeverage: 20, mmr: dec("0.03"))])
        let moves = e.dryRun(ParameterChange(brackets: ["BTCUSDT": harsher]))
        // MM 45000 × 0.03 = 1350 > equity 1000: healthy → liquidatable.
        #expect(moves.count == 1 && moves[0].from == .healthy && moves[0].to == .liquidatable)
        #expect(e.state.market.instruments[0].brackets.brackets.count == 3)
        _ = e.apply(TimedCommand(time: 2, command: .changeParameters(ParameterChange(brackets: ["BTCUSDT": harsher]), effectiveTime: 10)))
        #expect(e.state.market.instruments[0].brackets.brackets.count == 3)
        _ = e.apply(TimedCommand(time: 11, command: .markPrice(symbol: "BTCUSDT", price: 50_000, sourceTime: 11)))
        #expect(e.state.parameterVersion == 2)
        #expect(e.state.market.instruments[0].brackets.brackets.count == 1)
    }
}

@Suite struct StalePriceTests {
    /// A stale mark never liquidates: a price from a source 60 s old makes the pool
    /// liquidatable, but nothing is closed until a fresh mark arrives; then the waterfall runs.
    @Test func staleMarkNeverLiquidates() {
        var e = Engine(market: btcMarket([.init(floor: 0, cap: 3_000_000, maxLeverage: 100, mmr: dec("0.005"))]))
        try! e.openAccount(Account(id: "a", settle: 0, collateral: [CollateralBalance(asset: 0, amount: 1000)],
                                   positions: [Position(instrument: 0, quantity: 1, entryPrice: 50_000, leverage: 50, marginMode: .cross)]))
        _ = e.apply(TimedCommand(time: 0, command: .book(symbol: "BTCUSDT", bids: [BookLevel(price: 49_100, quantity: 5)], asks: [])))
        // At 49100 equity is 100 and MM 245.5: liquidatable — but the quote is 60 s old.
        let stale = e.apply(TimedCommand(time: 60_000, command: .markPrice(symbol: "BTCUSDT", price: 49_100, sourceTime: 0)))
        #expect(stale.contains { $0.kind == .liquidationsPaused && $0.text("reasons") == "stale_mark" })
        #expect(stale.contains { $0.kind == .liquidationStarted })
        #expect(!stale.contains { $0.kind == .liquidationFill })
        #expect(e.state.accounts[0].account.positions.count == 1)
        let fresh = e.apply(TimedCommand(time: 60_001, command: .markPrice(symbol: "BTCUSDT", price: 49_100, sourceTime: 60_001)))
        #expect(fresh.contains { $0.kind == .liquidationsResumed })
        #expect(fresh.contains { $0.kind == .liquidationFill })
        #expect(e.state.accounts[0].account.positions.isEmpty)
        #expect(conserved(e))
    }
}
