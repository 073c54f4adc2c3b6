@_spi(Internals) import PropertyBased
import Foundation
import SolventCore
import SolventEngine
import SolventRisk
import SolventTestSupport
import Testing

/// What a pre-trade check decided: accepted with its numbers, or rejected with a code.
private enum Outcome: Equatable, CustomStringConvertible {
    case accepted(reduces: Bool, reserved: FixedDecimal, free: FixedDecimal?)
    case rejected(RejectReason.Code)

    var description: String {
        switch self {
        case .accepted(let r, let m, let f): return "accepted(reduces: \(r), reserved: \(m), free: \(f.map { "\($0)" } ?? "nil"))"
        case .rejected(let c): return "rejected(\(c))"
        }
    }
}

/// Cases checked per outcome over the whole run (the property must see every kind of verdict).
private final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    func add(_ key: String) { lock.lock(); counts[key, default: 0] += 1; lock.unlock() }
    func count(_ key: String) -> Int { lock.lock(); defer { lock.unlock() }; return counts[key] ?? 0 }
    var total: Int { lock.lock(); defer { lock.unlock() }; return counts.values.reduce(0, +) }
}

/// The pre-trade rules of a linear (non-portfolio, non-option) order restated from the
/// specification (docs/design.md "Pre-trade", Binance USDⓈ-M "Leverage and Margin" brackets):
/// free margin = cross equity − cross IM − margin reserved by resting orders, from a FRESH
/// evaluation of the account; the order reserves notional(opening part) / leverage; the
/// exposure (position + same-side resting orders + opening part) picks the bracket. This is the
/// oracle any faster check (cached pool numbers plus the order's marginal effect, issue 18)
/// must agree with exactly. Rules before the reduce test (ids, instrument, expiry, mark) are
/// checked by `PreTradeTests` and the range-contract suites; here only duplicate ids, the
/// order count and the settle asset are restated.
private func reference(_ e: Engine, account a: Int, instrument i: Int, id: String, quantity: FixedDecimal, price: FixedDecimal,
                       reduceOnly: Bool) -> Outcome {
    let record = e.state.accounts[a]
    let instrument = e.state.market.instruments[i]
    if e.state.openOrder(account: a, id: id) != nil { return .rejected(.duplicateOrder) }
    if record.orders.count >= RangeContract.maxOrdersPerAccount { return .rejected(.outOfRange) }
    if e.state.market.assets[record.account.settle].symbol != instrument.settle { return .rejected(.settleMismatch) }
    let resting = record.orders.compactMap { e.state.openOrder(account: a, id: $0) }
    func total(_ values: [FixedDecimal]) -> FixedDecimal? {
        var sum = FixedDecimal.zero
        for v in values { guard let next = try? sum.addingChecked(v) else { return nil }; sum = next }
        return sum
    }
    let position = record.account.positions.first { $0.instrument == i }?.quantity ?? .zero
    guard let pendingReduce = total(resting.filter { $0.instrument == i && $0.reduceOnly }.map(\.quantity)) else { return .rejected(.outOfRange) }
    let reduces = !position.isZero && position.signum != quantity.signum && (pendingReduce + quantity).magnitude <= position.magnitude
    let inCall = record.procedures.values.contains { $0.restrictsAccount }
    if (reduceOnly || inCall) && !reduces { return .rejected(inCall ? .reduceOnlyInMarginCall : .wouldNotReduce) }
    if reduces { return .accepted(reduces: true, reserved: .zero, free: nil) }
    if e.isStale(i) { return .rejected(.staleMark) }
    guard let sameSide = total(resting.filter { $0.instrument == i && !$0.reduceOnly && $0.quantity.signum == quantity.signum }.map(\.quantity)) else {
        return .rejected(.outOfRange)
    }
    let closable = position.signum == -quantity.signum ? FixedDecimal.maximum(.zero, position.magnitude - pendingReduce.magnitude) : .zero
    let openingSize = FixedDecimal.maximum(.zero, quantity.magnitude - closable)
    guard let exposure = total([position.signum == quantity.signum ? position.magnitude : .zero, sameSide.magnitude, openingSize]),
          let size = exposure.multiplied(by: instrument.contractSize, rounding: .halfEven),
          let newNotional = instrument.isInverse ? size.divided(by: price, rounding: .halfEven) : size.multiplied(by: price, rounding: .halfEven)
    else { return .rejected(.outOfRange) }
    let table = instrument.brackets
    if newNotional >= table.brackets[table.brackets.count - 1].notionalCap { return .rejected(.positionLimit) }
    let bracket = table.bracket(forNotional: newNotional)
    let leverage = record.leverage[i] ?? bracket.maxLeverage
    if leverage > bracket.maxLeverage { return .rejected(.leverageAboveBracket) }
    let reserved = PositionMath.notional(size: openingSize * instrument.contractSize, mark: price, inverse: instrument.isInverse) / leverage
    let pool = e.evaluateAccount(record, prices: false).cross
    guard let reservedByOrders = total(resting.map(\.reservedMargin)),
          let free = try? pool.equity.subtractingChecked(pool.initialMargin).subtractingChecked(reservedByOrders)
    else { return .rejected(.outOfRange) }
    return free < reserved ? .rejected(.insufficientMargin) : .accepted(reduces: false, reserved: reserved, free: free)
}

private func check(_ e: Engine, account: String, symbol: String, id: String, quantity: FixedDecimal, price: FixedDecimal, reduceOnly: Bool) -> Outcome {
    do {
        let c = try e.checkOrder(id: id, account: account, symbol: symbol, quantity: quantity, price: price, reduceOnly: reduceOnly)
        return .accepted(reduces: c.reduces, reserved: c.reservedMargin, free: c.freeMargin)
    } catch {
        return .rejected(error.code)
    }
}

/// A random order for account `a`: either side, reduce-only or not, sized to reduce, to land
/// just below or above a bracket boundary (exposure included), small, or far past the last cap.
private func randomOrder(_ e: Engine, account a: Int, n: Int, using rng: inout SplitMix64)
    -> (symbol: String, instrument: Int, id: String, quantity: FixedDecimal, price: FixedDecimal, reduceOnly: Bool) {
    let record = e.state.accounts[a]
    let held = record.account.positions.map(\.instrument)
    let i = !held.isEmpty && Bool.random(using: &rng) ? held.randomElement(using: &rng)! : Int.random(in: 0..<e.state.market.instruments.count, using: &rng)
    let instrument = e.state.market.instruments[i]
    let mark = e.state.market.marks[i] ?? 1
    let price = FixedDecimal.maximum(dec("0.01"), (mark * RandomBook.decimal(0.97, 1.03, digits: 4, using: &rng)).rounded(toDigits: 2))
    let position = record.account.positions.first { $0.instrument == i }?.quantity ?? .zero
    // Contracts per unit of notional at `price`.
    func size(forNotional notional: FixedDecimal) -> FixedDecimal {
        let units = instrument.isInverse ? notional * price : notional / price
        return (units / instrument.contractSize).rounded(toDigits: 6)
    }
    var quantity: FixedDecimal
    switch Int.random(in: 0..<6, using: &rng) {
    case 0, 1:  // reduce (or overshoot the position by up to 20 %)
        quantity = position.isZero ? size(forNotional: 1_000) : -(position * RandomBook.decimal(0.1, 1.2, digits: 3, using: &rng)).rounded(toDigits: 6)
    case 2, 3:  // the exposure crosses (or stops just short of) a bracket boundary
        let table = instrument.brackets.brackets
        let boundary = table[Int.random(in: 0..<table.count, using: &rng)].notionalCap
        let target = size(forNotional: boundary * RandomBook.decimal(0.97, 1.03, digits: 4, using: &rng))
        quantity = FixedDecimal.maximum(dec("0.000001"), target - position.magnitude)
        if Bool.random(using: &rng) { quantity = -quantity }
    case 4:  // small
        quantity = size(forNotional: RandomBook.decimal(1, 20_000, digits: 2, using: &rng))
        if Bool.random(using: &rng) { quantity = -quantity }
    default:  // beyond any position limit
        quantity = size(forNotional: 1_000_000_000_000)
        if Bool.random(using: &rng) { quantity = -quantity }
    }
    if quantity.isZero { quantity = dec("0.000001") }
    let reuse = !record.orders.isEmpty && Int.random(in: 0..<10, using: &rng) == 0
    let id = reuse ? record.orders.randomElement(using: &rng)! : "p\(n)"
    return (instrument.symbol, i, id, quantity, price, Int.random(in: 0..<4, using: &rng) == 0)
}

@Suite struct PreTradePropertyTests {
    /// Over random accounts (linear and inverse, cross and isolated pools, several brackets,
    /// haircut collateral, resting orders, margin calls, stale marks) and random orders (both
    /// sides, reduce-only, sizes crossing bracket boundaries, beyond the last cap), interleaved
    /// with the random command stream (marks, fills, deposits, withdrawals, funding, ticks):
    /// `checkOrder` agrees with the restated rules over a fresh evaluation — the same verdict,
    /// the same reject code, the same reserved and free margin — the at-risk index engine and a
    /// full-rescan engine agree byte for byte, and `place_order`'s event carries the checked
    /// numbers. The oracle a cached-pool pre-trade check (issue 18) must keep passing.
    @Test(.shrinking(false)) func checkOrderMatchesFreshEvaluation() async {
        let tally = Tally()
        await propertyCheck(count: 12, input: Gen.uint64()) { seed in
            let parameters = mixedParameters(seed)
            var fast = randomEngine(seed: seed, accounts: 10, fullRescan: false, parameters: parameters)
            var rescan = randomEngine(seed: seed, accounts: 10, fullRescan: true, parameters: parameters)
            var rng = SplitMix64(seed: seed &+ 4242)
            var checked = 0
            var n = 0
            for command in randomCommands(seed: seed, engine: fast, count: 60) {
                let x = fast.apply(command).map(\.json)
                let y = rescan.apply(command).map(\.json)
                #expect(x == y, "seed \(seed) at \(command)")
                if x != y { return }
                for _ in 0..<3 {
                    n += 1
                    let a = Int.random(in: 0..<fast.state.accounts.count, using: &rng)
                    let accountID = fast.state.accounts[a].id
                    let order = randomOrder(fast, account: a, n: n, using: &rng)
                    if fast.state.accounts[a].isPortfolio { continue }  // portfolio accounts keep the full path (Engine+Portfolio.swift)
                    let expected = reference(fast, account: a, instrument: order.instrument, id: order.id, quantity: order.quantity,
                                             price: order.price, reduceOnly: order.reduceOnly)
                    let got = check(fast, account: accountID, symbol: order.symbol, id: order.id, quantity: order.quantity,
                                    price: order.price, reduceOnly: order.reduceOnly)
                    let other = check(rescan, account: accountID, symbol: order.symbol, id: order.id, quantity: order.quantity,
                                      price: order.price, reduceOnly: order.reduceOnly)
                    #expect(got == expected, "seed \(seed) order \(order)")
                    #expect(got == other, "seed \(seed) order \(order)")
                    checked += 1
                    switch got {
                    case .accepted(let reduces, _, _): tally.add(reduces ? "accepted reducing" : "accepted increasing")
                    case .rejected(let code): tally.add("\(code)")
                    }
                    let place = TimedCommand(time: command.time, command: .placeOrder(id: order.id, account: accountID, symbol: order.symbol,
                                                                                      quantity: order.quantity, price: order.price, reduceOnly: order.reduceOnly))
                    let events = fast.apply(place)
                    // The apply path checks the range contract first (Engine+RangeContract.swift):
                    // an order or resulting position beyond 1e9 contracts' size is out of range there.
                    let contractSize = fast.state.market.instruments[order.instrument].contractSize
                    let held = fast.state.accounts[a].account.positions.first { $0.instrument == order.instrument }?.quantity ?? .zero
                    let resulting = try? held.addingChecked(order.quantity)
                    let rangeRefused = RangeContract.sizeProblem(order.quantity.magnitude.multiplied(by: contractSize, rounding: .halfEven)) != nil
                        || RangeContract.sizeProblem(resulting.flatMap { $0.magnitude.multiplied(by: contractSize, rounding: .halfEven) }) != nil
                    #expect(events.map(\.json) == rescan.apply(place).map(\.json), "seed \(seed) order \(order)")
                    if rangeRefused {
                        tally.add("range contract")
                        #expect(events.first?.kind == .rejected && events.first?["code"] == .integer(Int64(RejectReason.Code.outOfRange.rawValue)))
                        continue
                    }
                    switch got {
                    case .accepted(_, let reserved, _):
                        #expect(events.first?.kind == .orderAccepted && events.first?["reserved_margin"] == .decimal(reserved), "seed \(seed) order \(order)")
                    case .rejected(let code):
                        #expect(events.first?.kind == .rejected && events.first?["code"] == .integer(Int64(code.rawValue)), "seed \(seed) order \(order)")
                    }
                }
            }
            #expect(checked > 0)
            #expect(fast.stateHash() == rescan.stateHash())
        }
        // Every verdict the fast path must reproduce was reached.
        for key in ["accepted reducing", "accepted increasing", "\(RejectReason.Code.insufficientMargin)", "\(RejectReason.Code.positionLimit)",
                    "\(RejectReason.Code.wouldNotReduce)", "\(RejectReason.Code.settleMismatch)", "\(RejectReason.Code.duplicateOrder)"] {
            #expect(tally.count(key) > 0, "no case reached \(key)")
        }
        #expect(tally.total > 0)
    }
}

/// Hand-computed edges of the pre-trade check (DESIGN.md tiers: 0–50,000 at 125×, 50,000–600,000
/// at 100×, 600,000–3,000,000 at 75×; a tier holds its floor, the last cap is the position limit).
@Suite struct PreTradeEdgeTests {
    private func engine(collateral: FixedDecimal) -> Engine {
        let market = btcMarket([
            .init(floor: 0, cap: 50_000, maxLeverage: 125, mmr: dec("0.004")),
            .init(floor: 50_000, cap: 600_000, maxLeverage: 100, mmr: dec("0.005")),
            .init(floor: 600_000, cap: 3_000_000, maxLeverage: 75, mmr: dec("0.0065")),
        ])
        var e = Engine(market: market)
        try! e.openAccount(Account(id: "a", settle: 0, collateral: [CollateralBalance(asset: 0, amount: collateral)], positions: []))
        return e
    }

    private func place(_ e: inout Engine, _ id: String, _ quantity: String, reduceOnly: Bool = false, time: Int64 = 2) -> EngineEvent {
        e.apply(TimedCommand(time: time, command: .placeOrder(id: id, account: "a", symbol: "BTCUSDT", quantity: dec(quantity), price: 50_000,
                                                              reduceOnly: reduceOnly)))[0]
    }

    /// Notional exactly on a tier's floor belongs to that tier: 1 BTC × 50,000 = 50,000 is in
    /// the 100× tier, so 110× is refused; 0.9999998 BTC (49,999.99) is in the 125× tier and
    /// reserves 49,999.99 / 110 = 454.545363636363636364 (18 digits, half-even).
    @Test func bracketFloorBelongsToTheUpperTier() {
        var e = engine(collateral: 1_000_000)
        _ = e.apply(TimedCommand(time: 1, command: .setLeverage(account: "a", symbol: "BTCUSDT", leverage: 110)))
        #expect(place(&e, "o1", "1")["code"] == .integer(Int64(RejectReason.Code.leverageAboveBracket.rawValue)))
        let ok = place(&e, "o2", "0.9999998")
        #expect(ok.kind == .orderAccepted && ok["reserved_margin"] == .decimal(dec("454.545363636363636364")))
    }

    /// Resting same-side orders count toward the tier: two 0.5 BTC buys are 50,000 together,
    /// so the second is refused at 110× although alone it is 25,000.
    @Test func restingOrdersCountTowardTheTier() {
        var e = engine(collateral: 1_000_000)
        _ = e.apply(TimedCommand(time: 1, command: .setLeverage(account: "a", symbol: "BTCUSDT", leverage: 110)))
        #expect(place(&e, "o1", "0.5").kind == .orderAccepted)
        #expect(place(&e, "o2", "0.5")["code"] == .integer(Int64(RejectReason.Code.leverageAboveBracket.rawValue)))
        #expect(place(&e, "o3", "-0.5").kind == .orderAccepted)  // the other side does not add to the buys
    }

    /// The last cap is the position limit: 60 BTC (3,000,000) is refused; 59.9999998 BTC
    /// (2,999,999.99) at 5× reserves 599,999.998.
    @Test func lastCapIsThePositionLimit() {
        var e = engine(collateral: 1_000_000)
        _ = e.apply(TimedCommand(time: 1, command: .setLeverage(account: "a", symbol: "BTCUSDT", leverage: 5)))
        #expect(place(&e, "o1", "60")["code"] == .integer(Int64(RejectReason.Code.positionLimit.rawValue)))
        let ok = place(&e, "o2", "59.9999998")
        #expect(ok.kind == .orderAccepted && ok["reserved_margin"] == .decimal(dec("599999.998")))
    }

    /// An order against the position first closes what resting reduce-only orders leave of it:
    /// long 1 BTC, a reduce-only sell of 0.4 resting, a sell of 1 closes 0.6 and opens 0.4
    /// (20,000 notional, 125× → 160 reserved); free = 1000 − IM 500 (the position's 50,000 is on the
    /// 100× tier's floor) − 0 reserved = 500.
    @Test func oppositeOrderOpensOnlyWhatRestingReduceOnlyLeaves() throws {
        var e = engine(collateral: 1000)
        _ = e.apply(TimedCommand(time: 1, command: .fill(account: "a", symbol: "BTCUSDT", quantity: 1, price: 50_000, fee: 0, orderID: nil)))
        #expect(place(&e, "r", "-0.4", reduceOnly: true)["reserved_margin"] == .decimal(.zero))
        let check = try e.checkOrder(id: "o", account: "a", symbol: "BTCUSDT", quantity: -1, price: 50_000, reduceOnly: false)
        #expect(!check.reduces && check.reservedMargin == 160 && check.freeMargin == 500, "\(check)")
        // A second reduce-only sell of 0.7 would take the resting total past the position.
        #expect(place(&e, "r2", "-0.7", reduceOnly: true)["code"] == .integer(Int64(RejectReason.Code.wouldNotReduce.rawValue)))
        #expect(place(&e, "r3", "-0.6", reduceOnly: true).kind == .orderAccepted)
    }
}
