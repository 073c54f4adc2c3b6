import PropertyBased
import SolventCore
import SolventRisk
import SolventTestSupport
import Testing

/// Re-evaluates `account` with the mark of `instrument` moved to `price`.
private func evaluate(_ account: Account, in market: Market, mark instrument: Int, at price: FixedDecimal) -> AccountEvaluation {
    var moved = market
    moved.marks[instrument] = price
    return MarginEvaluator(market: moved, policy: .standard).evaluate(account)
}

/// The largest change of `equity − MM` (pool) for a one-unit change of the price,
/// plus the rounding of the intermediate terms: the tolerance of "exactly at".
private func tolerance(_ position: Position, _ instrument: Instrument, price: FixedDecimal) -> FixedDecimal {
    let size = position.quantity.magnitude * instrument.contractSize
    let slope = instrument.isInverse ? (size * 2) / (price * price) : size * 2
    return slope * FixedDecimal.ulp + FixedDecimal(raw: 8)
}

@Suite struct EvaluationPropertyTests {
    /// At the computed liquidation price, the pool's equity equals its maintenance margin
    /// to the last unit the price can express.
    @Test func equityEqualsMaintenanceAtLiquidationPrice() async {
        var checked = 0  // positions whose liquidation price was checked: a property that checks nothing fails
        await propertyCheck(count: 300, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            let market = RandomBook.market(using: &rng)
            let account = RandomBook.account(id: "p", market: market, using: &rng)
            let base = MarginEvaluator(market: market, policy: .standard).evaluate(account)
            for (i, position) in account.positions.enumerated() {
                guard let price = base.positions[i].liquidationPrice else { continue }
                let moved = evaluate(account, in: market, mark: position.instrument, at: price)
                // Only a pool whose other positions do not share this instrument's mark is a one-variable equation.
                let sharing = account.positions.enumerated().filter { $0.offset != i && $0.element.instrument == position.instrument }
                let pool = moved.pools.first { $0.pool == moved.positions[i].pool }!
                if position.marginMode.isCross && sharing.contains(where: { $0.element.marginMode.isCross }) { continue }
                let gap = (pool.equity - pool.maintenanceMargin).magnitude
                #expect(gap <= tolerance(position, market.instruments[position.instrument], price: price),
                        "seed \(seed) position \(i): equity \(pool.equity) MM \(pool.maintenanceMargin) at \(price)")
                checked += 1
            }
        }
        #expect(checked >= 150, "only \(checked) liquidation prices checked over 300 books")
    }

    /// At the bankruptcy price, the pool's equity is zero (to the last unit).
    @Test func equityIsZeroAtBankruptcyPrice() async {
        var checked = 0  // positions whose bankruptcy price was checked
        await propertyCheck(count: 300, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            let market = RandomBook.market(using: &rng)
            let account = RandomBook.account(id: "p", market: market, using: &rng)
            let base = MarginEvaluator(market: market, policy: .standard).evaluate(account)
            for (i, position) in account.positions.enumerated() {
                guard let price = base.positions[i].bankruptcyPrice else { continue }
                let sharing = account.positions.enumerated().contains { $0.offset != i && $0.element.instrument == position.instrument && $0.element.marginMode.isCross }
                if position.marginMode.isCross && sharing { continue }
                let moved = evaluate(account, in: market, mark: position.instrument, at: price)
                let pool = moved.pools.first { $0.pool == moved.positions[i].pool }!
                #expect(pool.equity.magnitude <= tolerance(position, market.instruments[position.instrument], price: price),
                        "seed \(seed) position \(i): equity \(pool.equity) at \(price)")
                checked += 1
            }
        }
        #expect(checked >= 150, "only \(checked) bankruptcy prices checked over 300 books")
    }

    /// Maintenance margin is continuous across every bracket boundary (one unit either side).
    @Test func maintenanceContinuousAcrossBrackets() async {
        await propertyCheck(count: 100, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            let unit = RandomBook.decimal(0.0001, 10, digits: 4, using: &rng)
            let table = RandomBook.brackets(unit: unit)
            for i in 1..<table.brackets.count {
                let boundary = table.brackets[i].notionalFloor
                let below = table.bracket(forNotional: boundary - .ulp).maintenanceMargin(notional: boundary - .ulp)
                let at = table.bracket(forNotional: boundary).maintenanceMargin(notional: boundary)
                #expect((at - below).magnitude <= FixedDecimal(raw: 2), "seed \(seed) boundary \(boundary)")
            }
        }
    }

    /// Adding collateral never worsens any pool's status.
    @Test func moreCollateralNeverWorsens() async {
        await propertyCheck(count: 300, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            let market = RandomBook.market(using: &rng)
            let account = RandomBook.account(id: "p", market: market, using: &rng)
            let evaluator = MarginEvaluator(market: market, policy: .standard)
            let before = evaluator.evaluate(account)
            var richer = account
            let extra = RandomBook.decimal(0.000001, 1_000_000, digits: 6, using: &rng)
            if let k = richer.collateral.firstIndex(where: { $0.asset == account.settle }) {
                richer.collateral[k].amount += extra
            } else {
                richer.collateral.append(CollateralBalance(asset: account.settle, amount: extra))
            }
            let after = evaluator.evaluate(richer)
            #expect(after.cross.status <= before.cross.status, "seed \(seed)")
            #expect(after.status <= before.status, "seed \(seed)")
        }
    }

    /// Evaluating accounts in any order gives every account the same result.
    @Test func independentOfAccountOrder() async {
        await propertyCheck(count: 50, input: Gen.uint64()) { seed in
            let input = RandomBook.input(accounts: 20, seed: seed)
            let evaluator = MarginEvaluator(market: input.market, policy: input.policy)
            var rng = SplitMix64(seed: seed ^ 0xABCD)
            let shuffled = input.accounts.shuffled(using: &rng)
            let direct = Dictionary(uniqueKeysWithValues: input.accounts.map { ($0.id, evaluator.evaluate($0)) })
            for account in shuffled { #expect(evaluator.evaluate(account) == direct[account.id]) }
            var reordered = input
            reordered.accounts = shuffled
            let outputA = String(decoding: EvaluateOutput.render(input), as: UTF8.self)
            let outputB = String(decoding: EvaluateOutput.render(reordered), as: UTF8.self)
            #expect(outputA.count == outputB.count)
        }
    }
}
