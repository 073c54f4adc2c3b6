import Foundation
import SolventCore
import SolventEngine
import SolventFuzzing
import SolventRisk
import SolventTestSupport
import Testing

/// Standard accounts and options (premium paid in full, Deribit's standard rule for short
/// options; docs/options.md), and options expiring at their intrinsic value.
@Suite struct OptionsStandardTests {
    let t0 = OptionBook.startTime

    /// Hand-computed from the rule with F = 50,000:
    /// long 2 calls at m = 1,000: IM = 2·1,000 = 2,000, MM = 0;
    /// short 1 put K = 40,000, m = 500: OTM = 10,000, IM = max(max(7,500 − 10,000, 5,000) + 500, MM) = 5,500,
    /// MM = max(3,750, 37.5) + 500 = 4,250; short 1 call K = 60,000, m = 1,000: OTM = 10,000,
    /// IM = max(7,500 − 10,000, 5,000) + 1,000 = 6,000, MM = 3,750 + 1,000 = 4,750.
    @Test func standardOptionRuleByHand() throws {
        var engine = try OptionBook.scenario(extraAccounts: #", {"id": "w", "settle": "USDT", "collateral": {"USDT": "10000"}, "positions": []}"#).makeEngine()
        _ = engine.apply(at(t0 + 1, .fill(account: "s", symbol: "BTC-60000-C", quantity: dec("2"), price: dec("1000"), fee: .zero, orderID: nil)))
        #expect(account(engine, "s").balance(0) == dec("98000"))  // premium paid in full
        var pool = engine.evaluateAccount(account(engine, "s")).cross
        #expect(pool.initialMargin == dec("2000") && pool.maintenanceMargin.isZero && pool.equity == dec("100000"))
        _ = engine.apply(at(t0 + 2, .fill(account: "s", symbol: "BTC-40000-P", quantity: dec("-1"), price: dec("500"), fee: .zero, orderID: nil)))
        #expect(account(engine, "s").balance(0) == dec("98500"))  // premium received
        pool = engine.evaluateAccount(account(engine, "s")).cross
        #expect(pool.initialMargin == dec("7500") && pool.maintenanceMargin == dec("4250") && pool.equity == dec("100000"))
        // Writing one call in w reserves 6,000; two (12,000) do not fit in 10,000.
        let one = try engine.checkOrder(id: "c1", account: "w", symbol: "BTC-60000-C", quantity: dec("-1"), price: dec("1000"), reduceOnly: false)
        #expect(one.reservedMargin == dec("6000"))
        let two = engine.apply(at(t0 + 3, .placeOrder(id: "c2", account: "w", symbol: "BTC-60000-C", quantity: dec("-2"), price: dec("1000"), reduceOnly: false)))
        #expect(two.first?["code"] == .integer(2001))
        _ = engine.apply(at(t0 + 4, .fill(account: "w", symbol: "BTC-60000-C", quantity: dec("-1"), price: dec("1000"), fee: .zero, orderID: nil)))
        let w = engine.evaluateAccount(account(engine, "w")).cross
        #expect(w.initialMargin == dec("6000") && w.maintenanceMargin == dec("4750") && w.equity == dec("10000"))
        // Buying reserves the premium: 5 calls at 1,000 = 5,000 > w's free 4,000.
        let buy = engine.apply(at(t0 + 5, .placeOrder(id: "b", account: "w", symbol: "BTC-40000-P", quantity: dec("10"), price: dec("500"), reduceOnly: false)))
        #expect(buy.first?["code"] == .integer(2001))
        // A standard account cannot isolate an option.
        let isolate = engine.apply(at(t0 + 6, .setMarginMode(account: "w", symbol: "BTC-40000-P", isolated: true)))
        #expect(isolate.first?["code"] == .integer(2012))
        #expect(conserved(engine))
        EngineFuzzer.checkInvariants(engine)
    }

    /// A writer in a standard account is called when the underlying rallies through the strike
    /// (MM = 0.075·F + m grows with F and the mark).
    @Test func standardWriterIsCalled() throws {
        var engine = try OptionBook.scenario(extraAccounts: #", {"id": "w", "settle": "USDT", "collateral": {"USDT": "12000"}, "positions": []}"#).makeEngine()
        _ = engine.apply(at(t0 + 1, .fill(account: "w", symbol: "BTC-60000-C", quantity: dec("-1"), price: dec("1000"), fee: .zero, orderID: nil)))
        var events: [EngineEvent] = []
        var time = t0 + 1
        for (f, m) in [("55000", "2500"), ("60000", "5000"), ("64000", "7500")] {
            time += 60_000
            events += engine.apply(at(time, .markPrice(symbol: "BTCUSDT", price: dec(f), sourceTime: time)))
            events += engine.apply(at(time, .optionMark(symbol: "BTC-60000-C", price: dec(m), impliedVol: dec("0.7"), sourceTime: time)))
        }
        // At F = 64,000, m = 7,500: equity = 12,000 − 6,500 = 5,500... MM = 4,800 + 7,500 = 12,300 ≥ equity: liquidation.
        #expect(events.contains { $0.account == "w" && ($0.kind == .marginCall || $0.kind == .liquidationStarted) })
        #expect(conserved(engine))
    }
}

@Suite struct OptionsExpiryTests {
    let t0 = OptionBook.startTime

    /// At expiry an in-the-money call pays its intrinsic value at the fed settlement price, an
    /// out-of-the-money put expires worthless at the underlying's mark; positions close, orders
    /// are cancelled, events emitted, later fills refused (2011).
    @Test func optionsSettleAtIntrinsicValue() throws {
        var engine = try OptionBook.engine()
        for command in [EngineCommand.fill(account: "p", symbol: "BTC-60000-C", quantity: dec("-5"), price: dec("1000"), fee: .zero, orderID: nil),
                        .fill(account: "p", symbol: "BTC-40000-P", quantity: dec("2"), price: dec("500"), fee: .zero, orderID: nil),
                        .fill(account: "s", symbol: "BTC-60000-C", quantity: dec("1"), price: dec("1000"), fee: .zero, orderID: nil),
                        .placeOrder(id: "rest", account: "s", symbol: "BTC-40000-P", quantity: dec("1"), price: dec("100"), reduceOnly: false)] {
            let events = engine.apply(at(t0 + 1_000, command))
            #expect(!events.contains { $0.kind == .rejected }, "\(events.map(\.json))")
        }
        _ = engine.apply(at(OptionBook.expiryTime - 60_000, .settlementPrice(symbol: "BTC-60000-C", price: dec("65000"))))
        let events = engine.apply(at(OptionBook.expiryTime + 1, .tick))
        let settled = events.filter { $0.kind == .settled }
        #expect(settled.count == 3)
        #expect(events.contains { $0.kind == .orderCancelled && $0.text("order") == "rest" && $0.text("reason") == "expired" })
        let expired = events.filter { $0.kind == .expired }
        #expect(expired.map { $0.text("symbol") } == ["BTC-60000-C", "BTC-40000-P"])
        #expect(expired.map { $0.decimal("settlement_price") } == [dec("5000"), dec("0")])
        #expect(expired.map { $0.text("source") } == ["settlement_price", "underlying_mark"])
        // p: 100,000 + 5,000 − 1,000 − 5·5,000 = 79,000; s: 100,000 − 1,000 + 5,000 = 104,000.
        #expect(account(engine, "p").balance(0) == dec("79000"))
        #expect(account(engine, "s").balance(0) == dec("104000"))
        #expect(account(engine, "p").account.positions.isEmpty && account(engine, "s").account.positions.isEmpty)
        #expect(engine.evaluateAccount(account(engine, "p")).cross.initialMargin.isZero)
        let late = engine.apply(at(OptionBook.expiryTime + 2, .fill(account: "s", symbol: "BTC-60000-C", quantity: dec("1"), price: dec("1"), fee: .zero, orderID: nil)))
        #expect(late.first?["code"] == .integer(2011))
        #expect(engine.apply(at(OptionBook.expiryTime + 3, .settlementPrice(symbol: "BTC-60000-C", price: dec("1")))).first?["code"] == .integer(2011))
        #expect(conserved(engine))
        EngineFuzzer.checkInvariants(engine)
    }
}
