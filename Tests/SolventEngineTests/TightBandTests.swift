@_spi(Internals) import PropertyBased
import SolventCore
@testable import SolventEngine
import SolventRisk
import SolventTestSupport
import Testing

/// The at-risk index's exact per-position bands (Engine+Bands.swift): no account crosses a
/// threshold without being re-evaluated. The index engine and the full-rescan oracle see the
/// same commands, among them marks placed one unit of 10^-18 inside and exactly on the band
/// edges the index engine computed, over random bracket tables (derived maintenance amounts,
/// explicit ones that make MM jump at a boundary, one-tier tables).
@Suite struct TightBandTests {
    /// Random tiers: 1–5, rates rising from 0–2 % by up to 5 % a tier, floors ×3–×20 apart in
    /// units of `unit`; a third of the tables give explicit amounts (MM not continuous).
    static func brackets(unit: FixedDecimal, using rng: inout SplitMix64) -> BracketTable {
        let tiers = Int.random(in: 1...5, using: &rng)
        let explicit = Int.random(in: 0..<3, using: &rng) == 0
        var rows: [BracketTable.Row] = []
        var floor = FixedDecimal.zero, cap = RandomBook.decimal(20_000, 200_000, digits: 0, using: &rng) * unit
        var rate = RandomBook.decimal(0, 0.02, digits: 4, using: &rng)
        var leverage = FixedDecimal(125)
        var amount = FixedDecimal.zero
        for t in 0..<tiers {
            let row = BracketTable.Row(floor: floor, cap: t == tiers - 1 ? cap * 1_000 : cap, maxLeverage: leverage, mmr: rate,
                                       amount: explicit ? amount : nil)
            rows.append(row)
            floor = row.notionalCap
            cap = floor * RandomBook.decimal(3, 20, digits: 0, using: &rng)
            let next = rate + RandomBook.decimal(0, 0.05, digits: 4, using: &rng)
            // A derived amount would be amount + floor·(next − rate); an explicit one is a part of it (MM jumps up).
            amount += (floor * (next - rate) * RandomBook.decimal(0, 1, digits: 2, using: &rng)).rounded(toDigits: 6)
            rate = next
            leverage = FixedDecimal.maximum(1, (leverage / 2).rounded(toDigits: 0))
        }
        return try! BracketTable(rows: rows)
    }

    /// `RandomBook.market` with random bracket tables.
    static func market(using rng: inout SplitMix64) -> Market {
        var market = RandomBook.market(using: &rng)
        for i in market.instruments.indices {
            let unit: FixedDecimal = market.instruments[i].isInverse ? FixedDecimal("0.0001")! : 1
            market.instruments[i].brackets = brackets(unit: unit, using: &rng)
        }
        return market
    }

    static func engine(seed: UInt64, accounts count: Int, fullRescan: Bool) -> Engine {
        var rng = SplitMix64(seed: seed)
        let market = market(using: &rng)
        var engine = Engine(market: market, parameters: mixedParameters(seed), fullRescan: fullRescan)
        for n in 0..<count {
            var account = RandomBook.account(id: "a\(n)", market: market, using: &rng)
            var seen = Set<Int>()
            account.positions = account.positions.filter { seen.insert($0.instrument).inserted }
            try! engine.openAccount(account)
        }
        return engine
    }

    /// Every finite band edge of instrument `i` in the index engine's current bands, with the
    /// marks one unit inside and exactly on it.
    static func edgeMarks(_ engine: Engine, instrument i: Int) -> [FixedDecimal] {
        var marks: [FixedDecimal] = []
        for a in engine.state.accounts.indices {
            let record = engine.state.accounts[a]
            let evaluation = engine.evaluateAccount(record, prices: false)
            for band in engine.bands(a, evaluation, Engine.poolsByKey(record, evaluation)) where band.instrument == i {
                if band.low.isPositive { marks += [band.low + .ulp, band.low] }
                if let high = band.high { marks += [high - .ulp, high] }
            }
        }
        return marks.filter { $0.isPositive && $0 < FixedDecimal(10_000_000) }
    }

    /// Index ≡ rescan on price paths that visit the band edges: the same events byte for byte
    /// at every step and the same state hash at the end.
    @Test(.shrinking(false)) func indexEqualsRescanAtBandEdges() async {
        let edgeVisits = Counter(), transitions = Counter()
        await propertyCheck(count: 12, input: Gen.uint64()) { seed in
            var fast = Self.engine(seed: seed, accounts: 10, fullRescan: false)
            var oracle = Self.engine(seed: seed, accounts: 10, fullRescan: true)
            var rng = SplitMix64(seed: seed &+ 99)
            let symbols = fast.state.market.instruments.map(\.symbol)
            var time: Int64 = 1_000
            for command in randomCommands(seed: seed, engine: fast, count: 60) {
                var steps = [command]
                // After each random command, up to two marks on or just inside a band edge.
                for _ in 0..<2 {
                    let i = Int.random(in: 0..<symbols.count, using: &rng)
                    let edges = Self.edgeMarks(fast, instrument: i)
                    guard let mark = edges.randomElement(using: &rng) else { continue }
                    time = max(time, command.time)
                    steps.append(TimedCommand(time: time, command: .markPrice(symbol: symbols[i], price: mark, sourceTime: time)))
                }
                for (n, step) in steps.enumerated() {
                    let a = fast.apply(step).map(\.json)
                    let b = oracle.apply(step).map(\.json)
                    #expect(a == b, "seed \(seed) at \(step)")
                    if a != b { return }
                    if n > 0 { edgeVisits.add(1) }
                    transitions.add(a.filter { $0.contains("margin_warning") || $0.contains("margin_call") || $0.contains("liquidation_started") }.count)
                }
                time = max(time, command.time)
            }
            #expect(fast.stateHash() == oracle.stateHash(), "seed \(seed)")
        }
        #expect(edgeVisits.value > 100)
        #expect(transitions.value > 0)
    }

    /// Hand-computed: one long linear position, one tier (MMR 0.5 %), normal procedure, warning
    /// ratio `w`. `c = w·equity − MM`; moving down the worst slope is `Q·(w − mmr)`, moving up `c`
    /// only grows (no upper edge). Q = 2 BTC, entry = mark = 50,000, collateral 10,000 USDT:
    /// equity 10,000, MM = 100,000·0.005 = 500, c = 10,000·w − 500.
    @Test func oneLongPositionHandComputed() throws {
        let market = btcMarket([BracketTable.Row(floor: 0, cap: 1_000_000_000, maxLeverage: 100, mmr: FixedDecimal("0.005")!)])
        var engine = Engine(market: market, parameters: .exchange)
        let account = Account(id: "a", settle: 0, collateral: [CollateralBalance(asset: 0, amount: 10_000)],
                              positions: [Position(instrument: 0, quantity: 2, entryPrice: 50_000, leverage: nil, marginMode: .cross)])
        try engine.openAccount(account)
        let record = engine.state.accounts[0]
        let evaluation = engine.evaluateAccount(record, prices: false)
        let bands = engine.bands(0, evaluation, Engine.poolsByKey(record, evaluation))
        #expect(bands.count == 1)
        let w = engine.state.parameters.policy.warningRatio
        // allowance: (16·1 position + 16 + 4·1 tier) · (1 + ⌊max(w, 1)⌋ = 2) = 72 units of 10^-18.
        let slack = FixedDecimal(10_000) * w - 500 - FixedDecimal(raw: 72)
        let step = slack.divided(by: FixedDecimal(2) * (w - FixedDecimal("0.005")!), rounding: .down)!
        #expect(bands[0].low == FixedDecimal(50_000) - step)
        #expect(bands[0].high == nil)
        // The previous conservative band: slack / (Q·(1 + mmr_max)).
        let conservative = (FixedDecimal(10_000) * w - 500).divided(by: FixedDecimal(2) * FixedDecimal("1.005")!, rounding: .down)!
        #expect(step > conservative)
    }
}
