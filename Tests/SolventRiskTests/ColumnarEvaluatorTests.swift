import Foundation
import PropertyBased
import SolventCore
import SolventRisk
import SolventTestSupport
import Testing

/// The columnar evaluation path (issue 18) gives exactly MarginEvaluator's numbers: every
/// field of every position, pool and account, with and without prices.
@Suite struct ColumnarEvaluatorTests {
    /// Compares every non-delegated account of `input` (at the book's current marks, which
    /// `market` carries); returns how many accounts and how many distinct statuses were compared.
    static func compare(_ input: EvaluateInput, book: ColumnarBook, market: Market, prices: Bool,
                        context: String) -> (accounts: Int, statuses: Set<MarginStatus>) {
        let reference = MarginEvaluator(market: market, policy: input.policy)
        let columnar = ColumnarEvaluator(market: market, policy: input.policy)
        let results = ColumnarResults(for: book)
        columnar.evaluate(book, into: results, prices: prices)
        var compared = 0
        var statuses = Set<MarginStatus>()
        for (k, account) in input.accounts.enumerated() where !book.isDelegated(ColumnarAccountIndex(k)) {
            let expected = reference.evaluate(account, prices: prices)
            let got = results.accountEvaluation(ColumnarAccountIndex(k), in: book)
            #expect(got == expected, "\(context) account \(k) prices \(prices)")
            if got != expected { return (compared, statuses) }
            compared += 1
            for pool in expected.pools { statuses.insert(pool.status) }
        }
        return (compared, statuses)
    }

    /// Random books (linear and inverse, cross and isolated, brackets, haircuts, debt), at their
    /// own marks and at marks moved by up to ±12 % (so that every status is reached).
    @Test func equalsMarginEvaluatorOnRandomBooks() async {
        var compared = 0
        var statuses = Set<MarginStatus>()
        await propertyCheck(count: 60, input: Gen.uint64()) { seed in
            let input = RandomBook.input(accounts: 40, seed: seed)
            var book = ColumnarBook(input)
            var market = input.market
            var rng = SplitMix64(seed: seed ^ 0x9E37_79B9)
            for round in 0..<3 {
                if round > 0 {
                    for i in market.instruments.indices {
                        let factor = RandomBook.decimal(0.88, 1.12, digits: 4, using: &rng)
                        let moved = (market.marks[i]! * factor).rounded(toDigits: 2)
                        market.marks[i] = moved
                        book.setMark(moved, of: i)
                    }
                }
                for prices in [false, true] {
                    let result = Self.compare(input, book: book, market: market, prices: prices, context: "seed \(seed) round \(round)")
                    compared += result.accounts
                    statuses.formUnion(result.statuses)
                }
            }
        }
        #expect(compared >= 60 * 40 * 6, "only \(compared) account evaluations compared")
        #expect(statuses.count == MarginStatus.allCases.count, "statuses reached: \(statuses)")
    }

    /// The book `scripts/gen_big_book.py` writes (the bench-peers book), in small: 10 linear
    /// instruments, every fourth position isolated, BTC collateral with a haircut.
    @Test func equalsMarginEvaluatorOnTheBenchBookShape() throws {
        var rng = SplitMix64(seed: 42)
        let brackets = RandomBook.brackets(unit: 1)
        var instruments: [Instrument] = [], marks: [FixedDecimal?] = []
        for i in 0..<10 {
            instruments.append(Instrument(symbol: "S\(i)USDT", kind: .perpetual(.linear), base: "BTC", settle: "USDT", contractSize: 1, brackets: brackets))
            marks.append(RandomBook.decimal(1_000, 90_000, digits: 0, using: &rng) + FixedDecimal("0.5")!)
        }
        let market = Market(assets: [Asset(symbol: "USDT", price: 1, haircut: 0), Asset(symbol: "BTC", price: 65_000, haircut: FixedDecimal("0.05")!)],
                            instruments: instruments, marks: marks)
        var accounts: [Account] = []
        for a in 0..<300 {
            var positions: [Position] = []
            for j in 0..<10 {
                let q = RandomBook.decimal(-500, 500, digits: 3, using: &rng)
                let quantity = q.isZero ? FixedDecimal("0.001")! : q
                let entry = RandomBook.decimal(1_000, 90_000, digits: 0, using: &rng) + FixedDecimal("0.25")!
                let mode: MarginMode = j % 4 == 3 ? .isolated(margin: RandomBook.decimal(100, 100_000, digits: 0, using: &rng)) : .cross
                positions.append(Position(instrument: j, quantity: quantity, entryPrice: entry,
                                          leverage: RandomBook.decimal(1, 50, digits: 0, using: &rng), marginMode: mode))
            }
            accounts.append(Account(id: "acct\(a)", settle: 0, collateral: [
                CollateralBalance(asset: 0, amount: RandomBook.decimal(1_000, 10_000_000, digits: 0, using: &rng)),
                CollateralBalance(asset: 1, amount: RandomBook.decimal(0, 10, digits: 1, using: &rng)),
            ], positions: positions))
        }
        let input = EvaluateInput(policy: .standard, market: market, accounts: accounts)
        let book = ColumnarBook(input)
        var statuses = Set<MarginStatus>()
        for prices in [false, true] {
            let result = Self.compare(input, book: book, market: market, prices: prices, context: "bench shape")
            #expect(result.accounts == 300)
            statuses.formUnion(result.statuses)
        }
        #expect(statuses.count >= 3, "statuses reached: \(statuses)")
    }

    /// The example documents: standard accounts equal MarginEvaluator's numbers (the contract's
    /// `evaluate` output for them); portfolio accounts are delegated.
    @Test func equalsMarginEvaluatorOnTheExampleDocuments() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let directory = root.appendingPathComponent("Examples/evaluate")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }.sorted()
        var compared = 0, delegated = 0
        for name in names {
            let input = try EvaluateInput.decode(JSONParser.parse([UInt8](Data(contentsOf: directory.appendingPathComponent(name)))))
            let book = ColumnarBook(input)
            for prices in [false, true] {
                compared += Self.compare(input, book: book, market: input.market, prices: prices, context: name).accounts
            }
            delegated += (0..<book.accountCount).filter { book.isDelegated(ColumnarAccountIndex($0)) }.count
            #expect(book.positionCount == input.accounts.reduce(0) { $0 + $1.positions.count })
        }
        #expect(names.count >= 2)
        #expect(compared > 0, "no standard account in \(names)")
        #expect(delegated > 0, "no portfolio account delegated in \(names)")
    }
}
