@_spi(Internals) import PropertyBased
import Foundation
import SolventCore
@testable import SolventEngine
import SolventRisk
import SolventTestSupport
import Testing

/// Cases counted over a whole property run.
private final class PoolCacheTally: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    func add(_ key: String, _ n: Int = 1) { lock.lock(); counts[key, default: 0] += n; lock.unlock() }
    func count(_ key: String) -> Int { lock.lock(); defer { lock.unlock() }; return counts[key] ?? 0 }
}

/// `checkOrder`'s result, the rejection compared whole (code, field and reason text).
private func outcome(_ e: Engine, _ account: String, _ symbol: String, _ id: String, _ quantity: FixedDecimal, _ price: FixedDecimal,
                     _ reduceOnly: Bool) -> Result<OrderCheck, RejectReason> {
    Result(catching: { () throws(RejectReason) -> OrderCheck in try e.checkOrder(id: id, account: account, symbol: symbol, quantity: quantity, price: price, reduceOnly: reduceOnly) })
}

/// The pool cache (PoolNumbersCache.swift, issue 18): the pre-trade check from the cached cross
/// numbers ≡ the check from a fresh evaluation; entries valid only while their inputs are equal.
@Suite struct PoolNumbersCacheTests {
    /// Over random accounts (linear and inverse, cross and isolated, several brackets, haircut
    /// collateral, resting and reduce-only orders, margin calls) and the random command stream,
    /// with random orders placed between commands: (1) every account whose cache entry claims
    /// validity has exactly the cross equity and IM a fresh evaluation gives; (2) `checkOrder`
    /// with the cache gives the same result — verdict, reserved and free margin, or the same
    /// rejection with the same text — as the same engine with its cache emptied (the full
    /// path). Portfolio accounts keep the full path (not cached). Counts the cache hits that
    /// reached the margin comparison, so the property cannot pass without using the cache.
    @Test(.shrinking(false)) func cachedCheckEqualsFullCheck() async {
        let counter = PoolCacheTally()
        await propertyCheck(count: 12, input: Gen.uint64()) { seed in
            var e = randomEngine(seed: seed, accounts: 10, fullRescan: false, parameters: mixedParameters(seed))
            var rng = SplitMix64(seed: seed &+ 991)
            var n = 0
            for command in randomCommands(seed: seed, engine: e, count: 60) {
                _ = e.apply(command)
                for a in e.state.accounts.indices {
                    let record = e.state.accounts[a]
                    guard let cached = e.poolCache.numbers(a, record.account, market: e.state.market, policy: e.state.parameters.policy) else { continue }
                    let fresh = e.evaluateAccount(record, prices: false).cross
                    #expect(cached.equity == fresh.equity && cached.initialMargin == fresh.initialMargin, "seed \(seed) account \(record.id)")
                    counter.add("valid entries")
                }
                for _ in 0..<3 {
                    n += 1
                    let a = Int.random(in: 0..<e.state.accounts.count, using: &rng)
                    let record = e.state.accounts[a]
                    let i = !record.account.positions.isEmpty && Bool.random(using: &rng)
                        ? record.account.positions.randomElement(using: &rng)!.instrument
                        : Int.random(in: 0..<e.state.market.instruments.count, using: &rng)
                    let symbol = e.state.market.instruments[i].symbol
                    let mark = e.state.market.marks[i] ?? 1
                    let price = FixedDecimal.maximum(dec("0.01"), (mark * RandomBook.decimal(0.97, 1.03, digits: 4, using: &rng)).rounded(toDigits: 2))
                    var quantity = RandomBook.decimal(-5, 5, digits: 3, using: &rng)
                    if Int.random(in: 0..<4, using: &rng) == 0 { quantity = quantity * 1_000 }  // past free margin or a bracket
                    if quantity.isZero { quantity = dec("0.001") }
                    let reduceOnly = Int.random(in: 0..<5, using: &rng) == 0
                    let id = !record.orders.isEmpty && Int.random(in: 0..<10, using: &rng) == 0 ? record.orders[0] : "q\(n)"
                    var cold = e
                    cold.poolCache = PoolNumbersCache()
                    let hit = e.poolCache.numbers(a, record.account, market: e.state.market, policy: e.state.parameters.policy) != nil
                    let warm = outcome(e, record.id, symbol, id, quantity, price, reduceOnly)
                    let full = outcome(cold, record.id, symbol, id, quantity, price, reduceOnly)
                    #expect(warm == full, "seed \(seed) account \(record.id) \(quantity) \(symbol) at \(price)")
                    // The margin comparison was reached: accepted with a free margin, or refused for margin.
                    let reachedMargin: Bool
                    switch warm {
                    case .success(let check): reachedMargin = check.freeMargin != nil
                    case .failure(let reason): reachedMargin = reason.code == .insufficientMargin
                    }
                    if hit && reachedMargin && !record.isPortfolio {
                        counter.add(warm.isSuccess ? "hits accepted" : "hits refused")
                    }
                    let place = TimedCommand(time: command.time, command: .placeOrder(id: id, account: record.id, symbol: symbol, quantity: quantity,
                                                                                      price: price, reduceOnly: reduceOnly))
                    let placed = e.apply(place).map(\.json)
                    cold.poolCache = PoolNumbersCache()
                    #expect(placed == cold.apply(place).map(\.json), "seed \(seed): place_order's events with and without the cache")
                }
            }
        }
        #expect(counter.count("valid entries") > 0)
        #expect(counter.count("hits accepted") > 0)
        #expect(counter.count("hits refused") > 0)
    }

    /// Hand-computed: 1,000 USDT and a 0.1 BTC long at 50,000 (notional 5,000, the 125× tier):
    /// equity 1,000, IM 5,000 / 125 = 40. The entry is valid until an input changes — a mark
    /// (51,000: equity 1,100, IM 5,100 / 125 = 40.8), a balance changed behind the engine's back
    /// (no invalidation call exists to forget), a haircut — and a restored engine starts empty
    /// with the same state hash and the same pre-trade answers.
    @Test func entryFollowsItsInputs() throws {
        let market = btcMarket([
            .init(floor: 0, cap: 50_000, maxLeverage: 125, mmr: dec("0.004")),
            .init(floor: 50_000, cap: 600_000, maxLeverage: 100, mmr: dec("0.005")),
        ])
        var e = Engine(market: market)
        try e.openAccount(Account(id: "a", settle: 0, collateral: [CollateralBalance(asset: 0, amount: 1_000)], positions: []))
        _ = e.apply(TimedCommand(time: 1, command: .fill(account: "a", symbol: "BTCUSDT", quantity: dec("0.1"), price: 50_000, fee: 0, orderID: nil)))
        func cached(_ e: Engine) -> (equity: FixedDecimal, initialMargin: FixedDecimal)? {
            e.poolCache.numbers(0, e.state.accounts[0].account, market: e.state.market, policy: e.state.parameters.policy)
        }
        let first = try #require(cached(e))
        #expect(first.equity == 1_000 && first.initialMargin == 40)
        // free = 1,000 − 40 = 960; 0.1 BTC more at 50,000 and 125× reserves 40.
        let check = try e.checkOrder(id: "o1", account: "a", symbol: "BTCUSDT", quantity: dec("0.1"), price: 50_000, reduceOnly: false)
        #expect(check.freeMargin == 960 && check.reservedMargin == 40)

        // A mark change: the market differs, so the entry is no longer valid, whether or not the
        // index re-evaluated the account; the numbers read are the fresh ones.
        var moved = e
        moved.state.market.marks[0] = 51_000
        #expect(cached(moved) == nil)
        let fresh = moved.crossEquityAndInitialMargin(0)
        #expect(fresh.equity == 1_100 && fresh.initialMargin == dec("40.8"))

        // A balance changed in place, with no command and no invalidation call: not valid.
        var edited = e
        edited.state.accounts[0].credit(0, 1)
        #expect(cached(edited) == nil)
        #expect(edited.crossEquityAndInitialMargin(0).equity == 1_001)
        // Changed back to equal values: valid again (validity is equality of the inputs).
        edited.state.accounts[0].credit(0, -1)
        #expect(cached(edited)?.equity == 1_000)

        // A haircut change (through the command: re-evaluates every account, new generation).
        _ = e.apply(TimedCommand(time: 2, command: .changeParameters(ParameterChange(haircuts: ["USDT": dec("0.1")], update: nil), effectiveTime: 2)))
        _ = e.apply(TimedCommand(time: 3, command: .tick))
        let haircut = try #require(cached(e))
        #expect(haircut.equity == 900 && haircut.initialMargin == 40)

        // Restored from its state: empty cache, same hash, same answers and events.
        var restored = Engine(restoring: e.state)
        #expect(restored.stateHash() == e.stateHash())
        var direct = e
        let place = TimedCommand(time: 4, command: .placeOrder(id: "o2", account: "a", symbol: "BTCUSDT", quantity: dec("0.1"), price: 50_000, reduceOnly: false))
        #expect(restored.apply(place).map(\.json) == direct.apply(place).map(\.json))
        #expect(restored.stateHash() == direct.stateHash())
    }
}

extension Result {
    fileprivate var isSuccess: Bool { if case .success = self { return true } else { return false } }
}
