public import SolventCore

/// Evaluates accounts by the contract in DESIGN.md: collateral with haircuts, cross and
/// isolated pools, brackets, statuses, call amounts, liquidation and bankruptcy prices.
///
/// This is the one evaluation path: the `evaluate` command, the engine's pre-trade and
/// withdrawal checks, the at-risk index and the liquidation executor all call it.
public struct MarginEvaluator: Sendable {
    public var market: Market
    public var policy: MarginPolicy

    public init(market: Market, policy: MarginPolicy) {
        self.market = market
        self.policy = policy
    }

    /// Value of one collateral balance in units of `settle`:
    /// positive: `amount·price/price_settle·(1 − haircut)`; negative: `amount·price/price_settle`.
    ///
    /// Total: a value beyond ±``RangeContract/maxCollateralValue`` (10^18 settle units,
    /// reachable only through extreme asset price ratios) counts at that bound, so no price
    /// a feeder sends can make the evaluation overflow (docs/range-contract.md).
    @inlinable public func collateralValue(_ balance: CollateralBalance, settle: Int) -> FixedDecimal {
        Self.collateralValue(balance, settle: settle, assets: market.assets)
    }

    /// `collateralValue(_:settle:)` over the assets `assets` (the market's), for the static
    /// evaluation that reads the market in place (`evaluate(_:market:policy:prices:into:)`).
    @inlinable public static func collateralValue(_ balance: CollateralBalance, settle: Int, assets: [Asset]) -> FixedDecimal {
        let asset = assets[balance.asset]
        let weight = balance.amount.isPositive ? FixedDecimal.one - asset.haircut : FixedDecimal.one
        let bound = RangeContract.maxCollateralValue
        let value: FixedDecimal?
        if balance.asset == settle {
            value = balance.amount.multiplied(by: weight, rounding: .halfEven)
        } else {
            value = balance.amount.multiplied(by: asset.price, rounding: .halfEven)?
                .multiplied(by: weight, rounding: .halfEven)?
                .divided(by: assets[settle].price, rounding: .halfEven)
        }
        guard let value, value.magnitude <= bound else { return balance.amount.isNegative ? -bound : bound }
        return value
    }

    /// Total haircut collateral value of the cross pool, in units of `settle`.
    public func collateralValue(of account: Account) -> FixedDecimal {
        Self.collateralValue(of: account, assets: market.assets)
    }

    static func collateralValue(of account: Account, assets: [Asset]) -> FixedDecimal {
        var total = FixedDecimal.zero
        for balance in account.collateral { total += collateralValue(balance, settle: account.settle, assets: assets) }
        return total
    }

    /// Status of a pool from its equity and maintenance margin, decided by exact
    /// comparisons (no rounded ratio): bankrupt if equity ≤ 0, liquidatable if MM ≥ equity,
    /// margin call if MM ≥ equity·call, warning if MM ≥ equity·warning, else healthy.
    /// A pool with no positions and no debt is healthy (docs/loans.md: debt is margined like a position).
    public static func status(equity: FixedDecimal, maintenance: FixedDecimal, policy: MarginPolicy, hasPositions: Bool) -> MarginStatus {
        guard hasPositions else { return .healthy }
        if !equity.isPositive { return .bankrupt }
        if maintenance >= equity { return .liquidatable }
        if FixedDecimal.compareProducts(maintenance, .one, equity, policy.callRatio) >= 0 { return .marginCall }
        if FixedDecimal.compareProducts(maintenance, .one, equity, policy.warningRatio) >= 0 { return .warning }
        return .healthy
    }

    /// Evaluates one account. Every position's instrument must have a mark (the input
    /// decoder and the engine guarantee it).
    ///
    /// `prices: false` skips the liquidation and bankruptcy prices (left nil): for callers that
    /// rank or classify accounts by pool numbers only (the liquidation queue, ADL ranking).
    public func evaluate(_ account: Account, prices: Bool = true) -> AccountEvaluation {
        var evaluation = AccountEvaluation(status: .healthy, pools: [], positions: [])
        Self.evaluate(account, market: market, policy: policy, prices: prices, into: &evaluation)
        return evaluation
    }

    /// `MarginEvaluator(market: market, policy: policy).evaluate(account, prices: prices)`
    /// written into `result` (its arrays overwritten, their capacity kept): the engine's
    /// re-evaluation passes a reused evaluation (no result array allocated per account) and
    /// reads the market and policy in place (no evaluator built per call). The same numbers.
    public static func evaluate(_ account: Account, market: Market, policy: MarginPolicy, prices: Bool, into result: inout AccountEvaluation) {
        // The previous account's entries are overwritten in place and the surplus cut at the end
        // (`removeAll(keepingCapacity:)` goes through `replaceSubrange`, ≈ 80 instructions each).
        if !result.collateralLiquidationPrices.isEmpty { result.collateralLiquidationPrices = [] }
        var poolCount = 0
        func put(_ pool: PoolEvaluation) {
            if poolCount < result.pools.count { result.pools[poolCount] = pool } else { result.pools.append(pool) }
            poolCount += 1
        }
        var crossPnl = FixedDecimal.zero
        var crossMM = FixedDecimal.zero
        var crossIM = FixedDecimal.zero
        var crossCount = 0
        for (index, position) in account.positions.enumerated() {
            let i = position.instrument
            guard let mark = market.marks[i] else {
                preconditionFailure("no mark for \(market.instruments[i].symbol)")
            }
            // The instrument's fields read in place (a copy of the `Instrument` retained and released its references).
            let inverse = market.instruments[i].kind.settlement == .inverse
            let size = position.quantity.magnitude * market.instruments[i].contractSize  // PositionMath.size
            let notional = PositionMath.notional(size: size, mark: mark, inverse: inverse)
            let bracketIndex = market.instruments[i].brackets.index(forNotional: notional)
            let bracket = market.instruments[i].brackets.brackets[bracketIndex]
            let pnl = PositionMath.unrealizedPnl(side: position.side, size: size, entry: position.entryPrice, mark: mark, inverse: inverse)
            let maintenance = bracket.maintenanceMargin(notional: notional)
            let initial = PositionMath.initialMargin(notional: notional, leverage: position.leverage, bracket: bracket)
            let pool: PoolID = position.marginMode.isCross ? .cross : .isolated(position: index)
            if position.marginMode.isCross {
                crossPnl += pnl
                crossMM += maintenance
                crossIM += initial
                crossCount += 1
            }
            let numbers = PositionEvaluation(pool: pool, notional: notional, unrealizedPnl: pnl, initialMargin: initial,
                                             maintenanceMargin: maintenance, bracket: bracketIndex,
                                             maintenanceMarginRate: bracket.maintenanceMarginRate,
                                             liquidationPrice: nil, bankruptcyPrice: nil)
            if index < result.positions.count { result.positions[index] = numbers } else { result.positions.append(numbers) }
        }
        if result.positions.count > account.positions.count { result.positions.removeSubrange(account.positions.count...) }
        let collateral = collateralValue(of: account, assets: market.assets)
        // Debt (docs/loans.md): each negative balance carries maintenance and initial margin
        // at its asset's debt rates, in the cross pool.
        let debt = debtMargin(of: account, assets: market.assets, policy: policy)
        crossMM += debt.maintenance
        crossIM += debt.initial
        put(makePool(.cross, collateral: collateral, pnl: crossPnl, mm: crossMM, im: crossIM, count: crossCount,
                     debt: debt.value, policy: policy))
        for (index, position) in account.positions.enumerated() {
            let evaluation = result.positions[index]
            let rest: FixedDecimal
            let restWithoutMaintenance: FixedDecimal
            switch position.marginMode {
            case .cross:
                let others = collateral + (crossPnl - evaluation.unrealizedPnl)
                restWithoutMaintenance = others
                rest = others - (crossMM - evaluation.maintenanceMargin)
            case .isolated(let margin):
                put(makePool(.isolated(position: index), collateral: margin, pnl: evaluation.unrealizedPnl,
                             mm: evaluation.maintenanceMargin, im: evaluation.initialMargin, count: 1, policy: policy))
                rest = margin
                restWithoutMaintenance = margin
            }
            guard prices else { continue }
            let instrument = market.instruments[position.instrument]  // read only for the prices (a copy of the instrument per position otherwise)
            let inverse = instrument.kind.settlement == .inverse
            let size = PositionMath.size(position, instrument)  // the same exact size as above (not kept: one array less per account)
            result.positions[index].liquidationPrice = PositionMath.liquidationPrice(
                rest: rest, side: position.side, size: size, entry: position.entryPrice, inverse: inverse,
                brackets: instrument.brackets, startBracket: evaluation.bracket)
            result.positions[index].bankruptcyPrice = PositionMath.bankruptcyPrice(
                rest: restWithoutMaintenance, side: position.side, size: size, entry: position.entryPrice, inverse: inverse)
        }
        if result.pools.count > poolCount { result.pools.removeSubrange(poolCount...) }
        var worst = MarginStatus.healthy
        for pool in result.pools where pool.status > worst { worst = pool.status }
        result.status = worst
        if prices {
            result.collateralLiquidationPrices = MarginEvaluator(market: market, policy: policy).collateralLiquidationPrices(account, cross: result.pools[0])
        }
    }

    /// Settle value of the account's negative balances (`debt`, ≥ 0) and the maintenance and
    /// initial margin it carries: `Σ debt_a · rate_a`, each product rounded half-even.
    public func debtMargin(of account: Account) -> (value: FixedDecimal, maintenance: FixedDecimal, initial: FixedDecimal) {
        Self.debtMargin(of: account, assets: market.assets, policy: policy)
    }

    static func debtMargin(of account: Account, assets: [Asset], policy: MarginPolicy) -> (value: FixedDecimal, maintenance: FixedDecimal, initial: FixedDecimal) {
        var value = FixedDecimal.zero, mm = FixedDecimal.zero, im = FixedDecimal.zero
        for balance in account.collateral where balance.amount.isNegative {
            let owed = -collateralValue(balance, settle: account.settle, assets: assets)
            let rates = policy.debtRates(for: balance.asset)
            value += owed
            mm += owed.multiplied(by: rates.maintenance, rounding: .halfEven) ?? RangeContract.maxCollateralValue
            im += owed.multiplied(by: rates.initial, rounding: .halfEven) ?? RangeContract.maxCollateralValue
        }
        return (value, mm, im)
    }

    /// Collateral liquidation price of each positive non-settle balance (docs/loans.md): the
    /// asset price at which the cross pool's equity equals its maintenance margin, all else
    /// fixed: `p = (MM − (equity − V_a)) · P_settle / (q_a · (1 − h_a))`, nil when not positive
    /// (the asset alone cannot bring the pool to maintenance) or when the haircut is 1.
    /// Balances in the settle asset have no such price (nil).
    public func collateralLiquidationPrices(_ account: Account, cross: PoolEvaluation) -> [CollateralLiquidationPrice] {
        var out: [CollateralLiquidationPrice] = []
        for balance in account.collateral where balance.amount.isPositive {
            var price: FixedDecimal? = nil
            let asset = market.assets[balance.asset]
            if balance.asset != account.settle, asset.haircut < .one {
                let rest = cross.equity - collateralValue(balance, settle: account.settle)
                let needed = cross.maintenanceMargin - rest
                if needed.isPositive,
                   let weighted = balance.amount.multiplied(by: .one - asset.haircut, rounding: .halfEven), weighted.isPositive,
                   let scaled = needed.multiplied(by: market.assets[account.settle].price, rounding: .halfEven),
                   let p = scaled.divided(by: weighted, rounding: .halfEven), p.isPositive {
                    price = p
                }
            }
            out.append(CollateralLiquidationPrice(asset: balance.asset, price: price))
        }
        return out
    }

    func makePool(_ pool: PoolID, collateral: FixedDecimal, pnl: FixedDecimal, mm: FixedDecimal, im: FixedDecimal, count: Int,
                  debt: FixedDecimal = .zero) -> PoolEvaluation {
        Self.makePool(pool, collateral: collateral, pnl: pnl, mm: mm, im: im, count: count, debt: debt, policy: policy)
    }

    static func makePool(_ pool: PoolID, collateral: FixedDecimal, pnl: FixedDecimal, mm: FixedDecimal, im: FixedDecimal, count: Int,
                         debt: FixedDecimal = .zero, policy: MarginPolicy) -> PoolEvaluation {
        let equity = collateral + pnl
        let status = Self.status(equity: equity, maintenance: mm, policy: policy, hasPositions: count > 0 || debt.isPositive)
        let ratio: FixedDecimal? = equity.isPositive ? (mm.divided(by: equity, rounding: .halfEven) ?? .max) : nil
        var call = FixedDecimal.zero
        if status >= .marginCall {
            // A demand is a promise: rounded up, so that paying it always cures (MM ≤ restore·equity).
            if let target = mm.divided(by: policy.restoreRatio, rounding: .up),
               let shortfall = try? target.subtractingChecked(equity) {
                call = FixedDecimal.maximum(.zero, shortfall)
            } else {
                call = .max  // beyond the representable range: saturated for display only
            }
        }
        // Margin level = assets / debt = (equity + debt) / debt (docs/loans.md), nil without debt.
        let level: FixedDecimal? = debt.isPositive ? ((equity + debt).divided(by: debt, rounding: .halfEven) ?? .max) : nil
        return PoolEvaluation(pool: pool, collateral: collateral, equity: equity, initialMargin: im, maintenanceMargin: mm,
                              marginRatio: ratio, available: FixedDecimal.maximum(.zero, equity - im), status: status,
                              callAmount: call, positionCount: count, debt: debt, marginLevel: level)
    }
}
