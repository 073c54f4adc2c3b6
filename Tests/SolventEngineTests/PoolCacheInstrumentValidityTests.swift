@_spi(Internals) import PropertyBased
import Foundation
import SolventCore
@testable import SolventEngine
import SolventRisk
import SolventTestSupport
import Testing

/// Cases counted over a whole property run.
private final class ValidityTally: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    func add(_ key: String, _ n: Int = 1) { lock.lock(); counts[key, default: 0] += n; lock.unlock() }
    func count(_ key: String) -> Int { lock.lock(); defer { lock.unlock() }; return counts[key] ?? 0 }
}

/// The pool cache's per-instrument validity (PoolNumbersCache.swift, issue 18): an entry stays
/// valid across marks of instruments its account does not hold, a one-position entry is valid
/// again when its mark returns to the evaluated value, and every entry that claims validity has
/// the numbers a fresh evaluation gives.
@Suite struct PoolCacheInstrumentValidityTests {
    /// Random books over the three-instrument random market (1–4 positions per account, linear
    /// and inverse, cross and isolated) and random streams of marks (each moving one instrument,
    /// one in three back to a value it had), deposits and fills. After every command: (1) every
    /// account whose entry claims validity has exactly the cross equity and IM of a fresh
    /// evaluation (cached ≡ fresh); (2) after a mark of instrument i, every account that held a
    /// valid entry before, does not hold i, and whose record the command did not change still
    /// has a valid entry (the entry is not thrown away by an unrelated mark). Counts both, and
    /// the one-position entries valid again after their mark came back, so the property cannot
    /// pass without exercising each.
    @Test(.shrinking(false)) func cachedEqualsFreshAcrossMarks() async {
        let tally = ValidityTally()
        await propertyCheck(count: 10, input: Gen.uint64()) { seed in
            var e = randomEngine(seed: seed, accounts: 12, fullRescan: false, parameters: mixedParameters(seed))
            var rng = SplitMix64(seed: seed &+ 4_421)
            let symbols = e.state.market.instruments.map(\.symbol)
            var seenMarks: [[FixedDecimal]] = e.state.market.marks.map { [$0!] }
            var time: Int64 = 1_000
            func valid(_ e: Engine, _ a: Int) -> (equity: FixedDecimal, initialMargin: FixedDecimal)? {
                e.poolCache.numbers(a, e.state.accounts[a].account, market: e.state.market, policy: e.state.parameters.policy)
            }
            for _ in 0..<50 {
                time += Int64.random(in: 1...2_000, using: &rng)
                let i = Int.random(in: 0..<symbols.count, using: &rng)
                let a = Int.random(in: 0..<e.state.accounts.count, using: &rng)
                let id = e.state.accounts[a].id
                let settle = e.state.market.assets[e.state.accounts[a].account.settle].symbol
                let command: EngineCommand
                var markedInstrument: Int? = nil
                switch Int.random(in: 0..<6, using: &rng) {
                case 0...2:
                    let price: FixedDecimal
                    if seenMarks[i].count > 1 && Int.random(in: 0..<3, using: &rng) == 0 {
                        price = seenMarks[i].randomElement(using: &rng)!
                    } else {
                        price = (e.state.market.marks[i]! * RandomBook.decimal(0.98, 1.02, digits: 4, using: &rng)).rounded(toDigits: 2)
                        seenMarks[i].append(price)
                    }
                    command = .markPrice(symbol: symbols[i], price: price, sourceTime: time)
                    markedInstrument = i
                case 3: command = .deposit(account: id, asset: settle, amount: RandomBook.decimal(1, 5_000, digits: 2, using: &rng), settle: nil)
                default:
                    let q = RandomBook.decimal(-2, 2, digits: 3, using: &rng)
                    command = .fill(account: id, symbol: symbols[i], quantity: q.isZero ? dec("0.001") : q, price: e.state.market.marks[i]!,
                                    fee: RandomBook.decimal(0, 2, digits: 2, using: &rng), orderID: nil)
                }
                let before = e.state.accounts.indices.map { valid(e, $0) != nil }
                let records = e.state.accounts.map(\.account)
                _ = e.apply(TimedCommand(time: time, command: command))
                for b in e.state.accounts.indices {
                    let record = e.state.accounts[b]
                    guard let cached = valid(e, b) else {
                        // An unrelated mark keeps an unchanged account's entry valid.
                        if let m = markedInstrument, b < before.count, before[b], records[b] == record.account,
                           !record.account.positions.contains(where: { $0.instrument == m }) {
                            Issue.record("seed \(seed): account \(record.id)'s entry lost by a mark of \(symbols[m]) it does not hold")
                        }
                        continue
                    }
                    let fresh = e.evaluateAccount(record, prices: false).cross
                    #expect(cached.equity == fresh.equity && cached.initialMargin == fresh.initialMargin, "seed \(seed) account \(record.id)")
                    tally.add("valid entries")
                    if let m = markedInstrument, !record.account.positions.contains(where: { $0.instrument == m }), records.indices.contains(b),
                       records[b] == record.account, before[b] {
                        tally.add(record.account.positions.count > 1 ? "kept across an unrelated mark, several positions" : "kept across an unrelated mark")
                    }
                    if let m = markedInstrument, record.account.positions.count == 1, record.account.positions[0].instrument == m,
                       records.indices.contains(b), records[b] == record.account, !before[b] {
                        tally.add("one position, valid again after its mark returned")
                    }
                }
            }
        }
        #expect(tally.count("valid entries") > 0)
        #expect(tally.count("kept across an unrelated mark") > 0)
        #expect(tally.count("kept across an unrelated mark, several positions") > 0)
        #expect(tally.count("one position, valid again after its mark returned") > 0)
    }

    /// Hand-computed: USDT 10,000; 1 BTC long at 50,000 (notional 50,000) and 10 ETH long at
    /// 3,000 (notional 30,000), brackets of `btcMarket`'s shape (IM = notional / 50). Equity
    /// 10,000, IM 1,000 + 600 = 1,600. An ETH mark does invalidate it; a mark of the third
    /// instrument (held by nobody) does not; the one-position account's entry is valid again
    /// when BTC returns to 50,000. `Market`'s stored members are the three the cache reads
    /// (assets, instruments, marks): a member added to `Market` must be added to the cache's
    /// comparisons (PoolNumbersCache.isCurrent).
    @Test func unrelatedMarksKeepTheEntry() throws {
        let rows: [BracketTable.Row] = [.init(floor: 0, cap: 10_000_000, maxLeverage: 50, mmr: dec("0.01"))]
        func perp(_ symbol: String, _ base: String) -> Instrument {
            Instrument(symbol: symbol, kind: .perpetual(.linear), base: base, settle: "USDT", contractSize: 1, brackets: try! BracketTable(rows: rows))
        }
        let market = Market(assets: [Asset(symbol: "USDT", price: 1, haircut: 0)],
                            instruments: [perp("BTCUSDT", "BTC"), perp("ETHUSDT", "ETH"), perp("SOLUSDT", "SOL")],
                            marks: [50_000, 3_000, 100])
        #expect(Mirror(reflecting: market).children.map(\.label) == ["assets", "instruments", "marks"])
        var e = Engine(market: market)
        try e.openAccount(Account(id: "two", settle: 0, collateral: [CollateralBalance(asset: 0, amount: 10_000)],
                                  positions: [Position(instrument: 0, quantity: 1, entryPrice: 50_000, leverage: nil, marginMode: .cross),
                                              Position(instrument: 1, quantity: 10, entryPrice: 3_000, leverage: nil, marginMode: .cross)]))
        try e.openAccount(Account(id: "one", settle: 0, collateral: [CollateralBalance(asset: 0, amount: 10_000)],
                                  positions: [Position(instrument: 0, quantity: 1, entryPrice: 50_000, leverage: nil, marginMode: .cross)]))
        func cached(_ e: Engine, _ a: Int) -> (equity: FixedDecimal, initialMargin: FixedDecimal)? {
            e.poolCache.numbers(a, e.state.accounts[a].account, market: e.state.market, policy: e.state.parameters.policy)
        }
        let two = try #require(cached(e, 0))
        #expect(two.equity == 10_000 && two.initialMargin == 1_600)
        // SOL moves: neither account holds it; both entries stay valid (no evaluation needed).
        _ = e.apply(TimedCommand(time: 1, command: .markPrice(symbol: "SOLUSDT", price: 101, sourceTime: 1)))
        #expect(cached(e, 0)?.initialMargin == 1_600)
        #expect(cached(e, 1)?.initialMargin == 1_000)
        // ETH moves to 3,100 by a direct change (no re-evaluation): "two" is invalid, "one" is not.
        var moved = e
        moved.state.market.marks[1] = 3_100
        #expect(cached(moved, 0) == nil)
        #expect(cached(moved, 1)?.equity == 10_000)
        // Fresh: equity 10,000 + 10·100 = 11,000; IM 1,000 + 31,000/50 = 1,620.
        let fresh = moved.crossEquityAndInitialMargin(0)
        #expect(fresh.equity == 11_000 && fresh.initialMargin == 1_620)
        // BTC away and back (direct changes): "one" invalid at 50,500, valid again at 50,000.
        moved.state.market.marks[0] = 50_500
        #expect(cached(moved, 1) == nil)
        moved.state.market.marks[0] = 50_000
        #expect(cached(moved, 1)?.initialMargin == 1_000)
    }
}
