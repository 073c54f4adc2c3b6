import RealModule
public import SolventCore

// What the engine needs to run a portfolio-margined account through its margin-call
// procedure: the scenario margin of `PortfolioMargin.evaluate` (the one implementation that
// `solvent evaluate` uses) in the `AccountEvaluation` shape of a standard account, with the
// portfolio pool as the account's cross pool (docs/options.md).

extension PositionEvaluation {
    /// A position of a portfolio account or an option of a standard account: no bracket, no
    /// liquidation or bankruptcy price (with options there is no single one).
    public init(pool: PoolID, notional: FixedDecimal, unrealizedPnl: FixedDecimal, initialMargin: FixedDecimal, maintenanceMargin: FixedDecimal) {
        self.pool = pool
        self.notional = notional
        self.unrealizedPnl = unrealizedPnl
        self.initialMargin = initialMargin
        self.maintenanceMargin = maintenanceMargin
        bracket = 0
        maintenanceMarginRate = .zero
        liquidationPrice = nil
        bankruptcyPrice = nil
    }
}

extension AccountEvaluation {
    public init(pools: [PoolEvaluation], positions: [PositionEvaluation]) {
        self.status = pools.map(\.status).max() ?? .healthy
        self.pools = pools
        self.positions = positions
    }
}

extension MarginEvaluator {
    /// A pool from its collateral, unrealized PnL, MM, IM and position count, by the contract's
    /// pool rules (status by exact comparisons, ratio, available, call amount rounded up).
    public func pool(_ pool: PoolID, collateral: FixedDecimal, pnl: FixedDecimal, mm: FixedDecimal, im: FixedDecimal, count: Int,
                     debt: FixedDecimal = .zero) -> PoolEvaluation {
        makePool(pool, collateral: collateral, pnl: pnl, mm: mm, im: im, count: count, debt: debt)
    }
}

extension PortfolioEvaluation {
    /// This evaluation as the engine keeps an account's: the portfolio pool under the id
    /// `pool` (the engine's cross pool), one position entry per position with its notional and
    /// unrealized PnL, its IM 0 and its MM the share `weights[k] / Σ weights` of the pool's MM
    /// (a ranking for the liquidation step, summing to the pool's MM; equal shares when every
    /// weight is 0).
    public func accountEvaluation(as pool: PoolID, weights: [FixedDecimal]) -> AccountEvaluation {
        var p = self.pool
        p.pool = pool
        let total = weights.reduce(FixedDecimal.zero, +)
        let mm = p.maintenanceMargin
        var out: [PositionEvaluation] = []
        out.reserveCapacity(positions.count)
        for (k, position) in positions.enumerated() {
            let share: FixedDecimal
            if total.isPositive {
                share = mm.multiplied(by: weights[k], dividedBy: total, rounding: .halfEven) ?? .zero
            } else {
                share = mm.divided(by: FixedDecimal(positions.count), rounding: .halfEven) ?? .zero
            }
            out.append(PositionEvaluation(pool: pool, notional: position.notional, unrealizedPnl: position.unrealizedPnl,
                                          initialMargin: .zero, maintenanceMargin: share))
        }
        return AccountEvaluation(pools: [p], positions: out)
    }
}

extension PortfolioMargin {
    /// The loss one position of `account` contributes to its group's worst scenario in
    /// `evaluation` (settle units, at the scenario's weight; negative = a gain, i.e. a hedge):
    /// `−q·cs·mark·m` for a perpetual or future, `−q·cs·(V(F(1+m), σ') − V₀)` for an option
    /// (Black-76 through ``OptionGrid``, as ``evaluate(_:)`` values it); in a coin-settled
    /// account, in the coin: `−(s·Q/mark)·m/(1+m)` for an inverse perpetual or future and
    /// `−q·cs·(v(F(1+m), σ') − v₀)` for an inverse option. Nil when the position's
    /// group is not in the evaluation.
    public func worstScenarioLoss(of position: Position, in account: Account, evaluation: PortfolioEvaluation) -> FixedDecimal? {
        let instrument = market.instruments[position.instrument]
        guard let group = evaluation.groups.first(where: { $0.underlying == instrument.base }) else { return nil }
        let scenario = group.scenarios[group.worstIndex]
        let size = position.quantity * instrument.contractSize
        switch instrument.kind {
        case .perpetual(.inverse), .future(.inverse, _):
            guard let mark = market.marks[position.instrument] else { return nil }
            let coins = size.magnitude / mark
            return -Self.coinChange(exposure: size.isNegative ? -coins : coins, move: scenario.move) * scenario.weight
        case let .option(right, strike, expiry, _) where instrument.isInverseOption:
            guard let forward = forward(ofOption: position.instrument, settle: account.settle), let vol = impliedVol(position.instrument) else { return nil }
            let grid = OptionGrid(forward: DoubleBoundary.double(forward), strike: DoubleBoundary.double(strike),
                                  years: years(to: expiry), rate: 0, isCall: right == .call)
            let shock = portfolio.volShockSize(years: grid.years)
            let vols = [max(0.01, vol * (1 - shock)), vol, vol * (1 + shock)]
            let growth = DoubleBoundary.double(Self.coinGrowth(scenario.move))
            let value = grid.value(growth: growth, logGrowth: Double.log(growth), vol: vols[scenario.volShock.index]) / (grid.forward * growth)
            let change = DoubleBoundary.double(size) * (value - grid.value(growth: 1, logGrowth: 0, vol: vol) / grid.forward)
            return -(DoubleBoundary.decimal(change) ?? .zero) * scenario.weight
        case .perpetual, .future:
            guard let mark = market.marks[position.instrument] else { return nil }
            return -(size * mark * scenario.move) * scenario.weight
        case let .option(right, strike, expiry, underlying):
            guard let forward = underlyingPrice(underlying, settle: account.settle), let vol = impliedVol(position.instrument) else { return nil }
            let grid = OptionGrid(forward: DoubleBoundary.double(forward), strike: DoubleBoundary.double(strike),
                                  years: years(to: expiry), rate: DoubleBoundary.double(options.rate), isCall: right == .call)
            let shock = portfolio.volShockSize(years: grid.years)
            let vols = [max(0.01, vol * (1 - shock)), vol, vol * (1 + shock)]
            let growth = 1 + DoubleBoundary.double(scenario.move)
            let value = growth > 0 ? grid.value(growth: growth, logGrowth: Double.log(growth), vol: vols[scenario.volShock.index])
                                   : (right == .put ? grid.strike * grid.discount : 0)
            let change = DoubleBoundary.double(size) * (value - grid.value(growth: 1, logGrowth: 0, vol: vol))
            return -(DoubleBoundary.decimal(change) ?? .zero) * scenario.weight
        }
    }
}
