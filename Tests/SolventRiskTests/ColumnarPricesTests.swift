import PropertyBased
import SolventCore
import SolventRisk
import SolventTestSupport
import Testing

/// The columnar liquidation price's "no price" test (every bracket's candidate is nil by the
/// signs: ColumnarPrices.noPrice) gives MarginEvaluator's prices exactly, at its boundary and
/// around it: isolated linear positions whose margin puts `rest + amount − s·Q·EP` at 0, one
/// unit either side and far either side, for the smallest (long) or largest (short) maintenance
/// amount, long and short, in every bracket.
@Suite struct ColumnarPricesTests {
    @Test func noPriceTestAgreesAtItsBoundary() async {
        var compared = 0, longNil = 0, shortNil = 0, longPriced = 0, shortPriced = 0
        await propertyCheck(count: 40, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            let market = RandomBook.market(using: &rng)
            var accounts: [Account] = []
            for a in 0..<40 {
                let instrument = Int.random(in: 0...1, using: &rng)  // the linear perps
                let mark = market.marks[instrument]!
                let amounts = market.instruments[instrument].brackets.brackets.map(\.maintenanceAmount)
                let side = Bool.random(using: &rng) ? 1 : -1
                // Sizes across the brackets (notional up to ≈ 60 M).
                let size = RandomBook.decimal(0.001, [1, 20, 200, 1_500][a % 4], digits: 3, using: &rng)
                let entry = (mark * RandomBook.decimal(0.7, 1.3, digits: 4, using: &rng)).rounded(toDigits: 2)
                let value = size * entry
                // The boundary margin: long rest + min(amount) = Q·EP; short rest + max(amount) + Q·EP = 0.
                let boundary = side > 0 ? value - amounts.min()! : -value - amounts.max()!
                let offsets: [FixedDecimal] = [.zero, FixedDecimal(raw: 1), FixedDecimal(raw: -1),
                                               RandomBook.decimal(-1e6, 1e6, digits: 6, using: &rng)]
                // Every fifth account an ordinary margin (a tenth of the position's value): priced on both sides.
                let margin = a % 5 == 4 ? (value / 10).rounded(toDigits: 2) : boundary + offsets[a % offsets.count]
                accounts.append(Account(id: "a\(a)", settle: 0, collateral: [CollateralBalance(asset: 0, amount: 1_000)],
                                        positions: [Position(instrument: instrument, quantity: side > 0 ? size : -size, entryPrice: entry,
                                                             leverage: nil, marginMode: .isolated(margin: margin))]))
            }
            let input = EvaluateInput(policy: .standard, market: market, accounts: accounts)
            let result = ColumnarEvaluatorTests.compare(input, book: ColumnarBook(input), market: market, prices: true, context: "seed \(seed)")
            compared += result.accounts
            let reference = MarginEvaluator(market: market, policy: input.policy)
            for account in accounts {
                let position = reference.evaluate(account).positions[0]
                let long = account.positions[0].quantity.isPositive
                switch (long, position.liquidationPrice == nil) {
                case (true, true): longNil += 1
                case (false, true): shortNil += 1
                case (true, false): longPriced += 1
                case (false, false): shortPriced += 1
                }
            }
        }
        #expect(compared == 40 * 40, "only \(compared) accounts compared")
        #expect(longNil > 0 && shortNil > 0 && longPriced > 0 && shortPriced > 0,
                "long nil \(longNil), short nil \(shortNil), long priced \(longPriced), short priced \(shortPriced)")
    }
}
