import Foundation
import SolventCore
import SolventEngine
import SolventFuzzing
import SolventRisk
import SolventTestSupport
import Testing

/// Dated futures expire and settle (Engine+Expiry.swift); options are refused (issue 17).
@Suite struct ExpiryTests {
    static let expiry = "2024-01-01T08:00:00Z"

    /// The example scenario: settlement at the fresh index (linear) and at the mark (inverse),
    /// an isolated deficit drawn from the fund, a resting order cancelled, a late fill rejected.
    @Test func expiryDayScenario() throws {
        let (engine, events) = try runScenario("future-expiry.json")
        EngineFuzzer.checkInvariants(engine)
        #expect(conserved(engine))
        for id in ["l", "w", "s"] { #expect(account(engine, id).account.positions.isEmpty, "\(id) still holds a position") }
        #expect(engine.state.orders.isEmpty)
        let settled = events.filter { $0.kind == .settled }
        #expect(settled.count == 3)
        let byAccount = Dictionary(uniqueKeysWithValues: settled.map { ($0.account!, $0) })
        #expect(byAccount["l"]?.decimal("settlement_price") == dec("51000"))
        #expect(byAccount["l"]?.decimal("realized_pnl") == dec("1000"))
        #expect(byAccount["w"]?.decimal("realized_pnl") == dec("-1000"))
        #expect(byAccount["w"]?.text("pool") != "cross")
        #expect(byAccount["s"]?.decimal("settlement_price") == dec("50000"))
        #expect(byAccount["s"]?.decimal("realized_pnl") == dec("-0.25"))
        let expired = events.filter { $0.kind == .expired }
        #expect(expired.map { $0.text("symbol") } == ["BTCUSDT-0101", "BTCUSD-0101"])
        #expect(expired.map { $0.text("source") } == ["index", "mark"])
        // Wallets: l +1000; w's wallet untouched (the isolated deficit is the pool's); s −0.25 BTC.
        #expect(account(engine, "l").balance(0) == dec("11000"))
        #expect(account(engine, "w").balance(0) == dec("5000"))
        #expect(account(engine, "s").balance(1) == dec("0.75"))
        #expect(engine.state.totals[0].insuranceFund == dec("4600"))
        // The resting order was cancelled at expiry, with its reason.
        #expect(events.contains { $0.kind == .orderCancelled && $0.text("order") == "l-add" && $0.text("reason") == "expired" })
        // The fill after expiry is rejected, typed.
        let last = events.last { $0.kind == .rejected }
        #expect(last.map { $0["code"] == .integer(2011) } == true)
        // Everything happens at the first command reaching the expiry (the tick), not before.
        let tickTime = settled.first!.time
        #expect(settled.allSatisfy { $0.time == tickTime } && expired.allSatisfy { $0.time == tickTime })
    }

    /// The fault as filed: a position in a linear future kept its margin after a tick beyond expiry.
    @Test func tickPastExpirySettlesOnce() throws {
        var engine = try makeEngine()
        let before = engine.apply(TimedCommand(time: time("2024-01-01T07:59:59Z"), command: .tick))
        #expect(!before.contains { $0.kind == .settled })
        #expect(!account(engine, "l").account.positions.isEmpty)
        let events = engine.apply(TimedCommand(time: time("2024-01-01T09:00:00Z"), command: .tick))
        #expect(events.filter { $0.kind == .settled }.count == 2)
        #expect(events.filter { $0.kind == .expired }.count == 1)
        #expect(account(engine, "l").account.positions.isEmpty && account(engine, "c").account.positions.isEmpty)
        // No index fed: settled at the mark (49000); l bought at 50000, c sold at 50000.
        #expect(account(engine, "l").balance(0) == dec("9000"))
        #expect(account(engine, "c").balance(0) == dec("11000"))
        #expect(engine.evaluator.evaluate(account(engine, "l").account).cross.initialMargin.isZero)
        EngineFuzzer.checkInvariants(engine)
        // A later command settles nothing again.
        let again = engine.apply(TimedCommand(time: time("2024-01-01T10:00:00Z"), command: .tick))
        #expect(!again.contains { $0.kind == .settled || $0.kind == .expired })
        // Orders and fills are refused after expiry.
        let order = engine.apply(TimedCommand(time: time("2024-01-01T10:00:00Z"),
                                              command: .placeOrder(id: "x", account: "l", symbol: "BTCUSDT-0101", quantity: dec("1"), price: dec("49000"), reduceOnly: false)))
        #expect(order.first?["code"] == .integer(2011))
        let fill = engine.apply(TimedCommand(time: time("2024-01-01T10:00:00Z"),
                                             command: .fill(account: "l", symbol: "BTCUSDT-0101", quantity: dec("1"), price: dec("49000"), fee: .zero, orderID: nil)))
        #expect(fill.first?["code"] == .integer(2011))
        #expect(account(engine, "l").account.positions.isEmpty)
    }

    /// A stale index (older than mark_staleness_ms at expiry) is not used: the mark is.
    @Test func staleIndexFallsBackToMark() throws {
        var engine = try makeEngine(staleness: 60_000)
        _ = engine.apply(TimedCommand(time: time("2024-01-01T07:50:00Z"), command: .indexPrice(symbol: "BTCUSDT-0101", price: dec("52000"), sourceTime: time("2024-01-01T07:50:00Z"))))
        _ = engine.apply(TimedCommand(time: time("2024-01-01T07:59:30Z"), command: .markPrice(symbol: "BTCUSDT-0101", price: dec("49500"), sourceTime: time("2024-01-01T07:59:30Z"))))
        let events = engine.apply(TimedCommand(time: time(Self.expiry), command: .tick))
        #expect(events.first { $0.kind == .expired }?.text("source") == "mark")
        #expect(events.first { $0.kind == .settled }?.decimal("settlement_price") == dec("49500"))
        EngineFuzzer.checkInvariants(engine)
    }

    /// A cross account whose settlement leaves a negative balance is settled like any emptied
    /// pool: the fund covers it (bad debt beyond).
    @Test func crossDeficitAtSettlementGoesToTheFund() throws {
        var engine = try makeEngine(lCollateral: "600", fund: "2000", mark: "50000")
        // A gap through the whole margin in one index print (no mark update, no liquidation before expiry).
        _ = engine.apply(TimedCommand(time: time("2024-01-01T07:59:59Z"), command: .indexPrice(symbol: "BTCUSDT-0101", price: dec("48000"), sourceTime: time("2024-01-01T07:59:59Z"))))
        _ = engine.apply(TimedCommand(time: time(Self.expiry), command: .tick))
        // l: 600 − 2000 = −1400, covered by the fund.
        #expect(account(engine, "l").balance(0).isZero)
        #expect(engine.state.totals[0].insuranceFund == dec("600"))
        EngineFuzzer.checkInvariants(engine)
        #expect(conserved(engine))
    }

    /// Options are not margined like perpetuals on their premium: without a mark implied vol
    /// (`option_mark`) positions, orders and fills are refused (no_mark, 2008; before options
    /// were margined by the engine, issue 17, every option was refused with 2012).
    @Test func optionsAreRefused() throws {
        var engine = try makeEngine(withOption: true)
        let fill = engine.apply(TimedCommand(time: time("2024-01-01T07:10:00Z"),
                                             command: .fill(account: "l", symbol: "BTC-70000-C", quantity: dec("-5"), price: dec("1000"), fee: .zero, orderID: nil)))
        #expect(fill.first?["code"] == .integer(2008))
        let order = engine.apply(TimedCommand(time: time("2024-01-01T07:10:00Z"),
                                              command: .placeOrder(id: "o", account: "l", symbol: "BTC-70000-C", quantity: dec("-5"), price: dec("1000"), reduceOnly: false)))
        #expect(order.first?["code"] == .integer(2008))
        #expect(account(engine, "l").account.positions.allSatisfy { engine.state.market.instruments[$0.instrument].symbol != "BTC-70000-C" })
        // A starting position in an option is refused too.
        #expect(throws: InputError.self) { _ = try Self.scenario(withOption: true, optionPosition: true).makeEngine() }
    }

    // MARK: helpers

    func time(_ text: String) -> Int64 { try! JSONReader(.string(text), path: "t").time() }

    func makeEngine(staleness: Int = 86_400_000, lCollateral: String = "10000", fund: String = "5000", mark: String = "49000", withOption: Bool = false) throws -> Engine {
        try Self.scenario(staleness: staleness, lCollateral: lCollateral, fund: fund, mark: mark, withOption: withOption).makeEngine()
    }

    static func scenario(staleness: Int = 86_400_000, lCollateral: String = "10000", fund: String = "5000", mark: String = "49000", withOption: Bool = false,
                         optionPosition: Bool = false) throws -> SolventEngine.Scenario {
        let option = withOption ? """
            ,{"symbol": "BTC-70000-C", "kind": "option", "right": "call", "strike": "70000", "expiry": "\(expiry)", "underlying": "BTCUSDT-0101",
              "base": "BTC", "settle": "USDT", "contract_size": "1",
              "brackets": [{"notional_floor": "0", "notional_cap": "100000000", "max_leverage": "50", "mmr": "0.01"}]}
            """ : ""
        let optionMark = withOption ? #", "BTC-70000-C": "1000""# : ""
        let optionHolding = optionPosition ? #", {"symbol": "BTC-70000-C", "quantity": "-5", "entry_price": "1000"}"# : ""
        let text = """
        {"start": {"time": "2024-01-01T07:00:00Z",
          "policy": {"warning_ratio": "0.70", "call_ratio": "0.85", "restore_ratio": "0.70"},
          "assets": {"USDT": "1", "BTC": "50000"}, "haircuts": {},
          "instruments": [{"symbol": "BTCUSDT-0101", "kind": "linear_future", "expiry": "\(expiry)", "base": "BTC", "settle": "USDT", "contract_size": "1",
            "brackets": [{"notional_floor": "0", "notional_cap": "100000000", "max_leverage": "50", "mmr": "0.01"}]}\(option)],
          "marks": {"BTCUSDT-0101": "\(mark)"\(optionMark)},
          "accounts": [
           {"id": "l", "settle": "USDT", "collateral": {"USDT": "\(lCollateral)"},
            "positions": [{"symbol": "BTCUSDT-0101", "quantity": "1", "entry_price": "50000", "leverage": "50"}\(optionHolding)]},
           {"id": "c", "settle": "USDT", "collateral": {"USDT": "10000"},
            "positions": [{"symbol": "BTCUSDT-0101", "quantity": "-1", "entry_price": "50000", "leverage": "50"}]}]},
         "parameters": {"mark_staleness_ms": \(staleness), "backstop": true, "adl": false},
         "insurance_fund": {"USDT": "\(fund)"},
         "commands": []}
        """
        return try SolventEngine.Scenario.decode(JSONParser.parse([UInt8](text.utf8)))
    }
}

/// Random books where every instrument is a dated future expiring inside the command stream:
/// the incremental engine and the full rescan agree event for event; after each expiry no
/// position or order is left in the instrument; money is conserved at every command.
@Suite struct ExpiryPropertyTests {
    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6])
    func randomBooksExpire(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var market = RandomBook.market(using: &rng)
        // Expiries spread over the stream (commands advance up to 5 s each from t = 1 s).
        for i in market.instruments.indices {
            let expiry = Int64(20_000 + 40_000 * i) + Int64(seed % 7) * 1_000
            market.instruments[i].kind = .future(market.instruments[i].kind.settlement, expiry: expiry)
        }
        func build(_ fullRescan: Bool) -> Engine {
            var rng = SplitMix64(seed: seed)
            _ = RandomBook.market(using: &rng)
            var engine = Engine(market: market, parameters: .exchange, fullRescan: fullRescan)
            for n in 0..<12 {
                var account = RandomBook.account(id: "a\(n)", market: market, using: &rng)
                var seen = Set<Int>()
                account.positions = account.positions.filter { seen.insert($0.instrument).inserted }
                try! engine.openAccount(account)
            }
            return engine
        }
        var fast = build(false)
        var oracle = build(true)
        var expiredSeen = 0, settledSeen = 0
        for command in randomCommands(seed: seed, engine: fast, count: 120) {
            let a = fast.apply(command)
            let b = oracle.apply(command)
            #expect(a.map(\.json) == b.map(\.json), "seed \(seed) at \(command)")
            if a.map(\.json) != b.map(\.json) { return }
            expiredSeen += a.filter { $0.kind == .expired }.count
            settledSeen += a.filter { $0.kind == .settled }.count
            EngineFuzzer.checkInvariants(fast)
            for i in market.instruments.indices where fast.isExpired(i) {
                #expect(fast.state.accounts.allSatisfy { $0.positionIndex(i) == nil }, "seed \(seed): position left in expired \(market.instruments[i].symbol)")
                #expect(fast.state.orders.values.allSatisfy { $0.instrument != i })
                #expect(!a.contains { $0.kind == .filled && $0.text("symbol") == market.instruments[i].symbol })
            }
        }
        #expect(expiredSeen == market.instruments.indices.filter { fast.isExpired($0) }.count)
        #expect(expiredSeen > 0 && settledSeen > 0, "seed \(seed): nothing expired or settled")
        #expect(fast.stateHash() == oracle.stateHash())
    }
}
