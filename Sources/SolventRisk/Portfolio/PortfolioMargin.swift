import RealModule
public import SolventCore

/// An option position's valuation (per unit of underlying; `Double`, from Black-76).
/// A coin-settled option (`Instrument.isInverseOption`) is valued in its coin:
/// `value = v = Black76_USD(F, K, σ, T)/F` coins per coin of underlying and
/// `delta = Black-76 delta − v = F·∂v/∂F` (Deribit's "BTC delta" of an inverse option,
/// https://www.deribit.com/kb/options): the coin change per unit relative move of `F`.
public struct OptionValuation: Sendable, Hashable {
    /// Settle units per unit of underlying (coins per coin for a coin-settled option).
    public var value: Double
    public var impliedVol: Double
    /// Time to expiry in years (0 at or after expiry).
    public var years: Double
    /// ∂V/∂F per contract unit of the underlying; for a coin-settled option `∂V/∂F − v`.
    public var delta: Double
}

/// The numbers of one position of a portfolio account (settle units: the coin for a
/// coin-settled account).
public struct PortfolioPositionEvaluation: Sendable, Hashable {
    /// `|q|·cs·price`: the mark for perpetuals and futures, the underlying's price for options.
    /// Coin-settled: `Q/mark` coins for an inverse perpetual or future (`Q = |q|·cs` USD),
    /// `|q|·cs` coins of underlying for an inverse option.
    public var notional: FixedDecimal
    public var unrealizedPnl: FixedDecimal
    public var option: OptionValuation?
}

/// Scenario risk of one underlying group.
public struct GroupRisk: Sendable, Hashable {
    public var underlying: String
    public var priceRange: FixedDecimal
    public var scenarios: [Scenario]
    /// Weighted loss per scenario, in grid order (settle units; negative = gain).
    public var losses: [FixedDecimal]
    /// `max(0, max losses)`.
    public var worstLoss: FixedDecimal
    /// First scenario reaching the maximum loss.
    public var worstIndex: Int
    public var shortOptionMinimum: FixedDecimal
    /// `basis_minimum · Σ |q|·cs·mark` over the group's perpetuals and futures (inverse ones:
    /// `Σ Q/mark` coins).
    public var basisMinimum: FixedDecimal
    /// `max(worstLoss, shortOptionMinimum, basisMinimum)`.
    public var initialMargin: FixedDecimal
    /// `(L(−R, none) − L(+R, none)) / 2`: directional exposure for a move of R (positive = long);
    /// in the coin for a coin-settled account (the coin value gained, net, per move of R).
    public var deltaEquivalent: FixedDecimal

    public init(underlying: String, priceRange: FixedDecimal, scenarios: [Scenario], losses: [FixedDecimal], worstLoss: FixedDecimal,
                worstIndex: Int, shortOptionMinimum: FixedDecimal, basisMinimum: FixedDecimal, initialMargin: FixedDecimal,
                deltaEquivalent: FixedDecimal) {
        self.underlying = underlying
        self.priceRange = priceRange
        self.scenarios = scenarios
        self.losses = losses
        self.worstLoss = worstLoss
        self.worstIndex = worstIndex
        self.shortOptionMinimum = shortOptionMinimum
        self.basisMinimum = basisMinimum
        self.initialMargin = initialMargin
        self.deltaEquivalent = deltaEquivalent
    }
}

/// The scenario-margin evaluation of a portfolio account.
public struct PortfolioEvaluation: Sendable, Hashable {
    /// The single `portfolio` pool: equity, IM, MM, ratio, status, call amount.
    public var pool: PoolEvaluation
    public var positions: [PortfolioPositionEvaluation]
    public var groups: [GroupRisk]
    public var correlationCredit: FixedDecimal
    public var status: MarginStatus { pool.status }
}

/// Scenario (portfolio) margin (docs/evaluate.md, "Portfolio (scenario) margin"): revalue
/// every position and hedging collateral under a grid of moves × vol shocks per underlying
/// group, IM = worst loss (floored by a short-option minimum), SPAN-like correlation credits
/// between groups, MM = a fraction of IM.
///
/// Linear parts are exact decimals; option values are `Double` (Black-76), summed per group
/// and scenario, and cross into decimals once per group and scenario through ``DoubleBoundary``.
public struct PortfolioMargin: Sendable {
    /// The loss a scenario counts for an option value change that does not fit a decimal:
    /// 10¹⁸ settle units, the range contract's bound on an account's whole notional (so at least
    /// the whole book), and small enough that a sum over groups stays far inside the decimal range.
    static let unrepresentableLoss = FixedDecimal(1_000_000_000_000_000_000)

    /// A scenario's option value change (settle units, + a gain) across the Double boundary: as
    /// is when it fits a decimal; else a gain counts as none and a loss (or a value that is not
    /// finite) as `−unrepresentableLoss`.
    static func scenarioChange(_ change: Double) -> FixedDecimal {
        DoubleBoundary.decimal(change) ?? (change > 0 ? .zero : -unrepresentableLoss)
    }

    public var market: Market
    public var policy: MarginPolicy
    public var portfolio: PortfolioPolicy
    public var options: OptionInputs
    let instrumentIndex: [String: Int]
    let assetIndex: [String: Int]
    /// Assets inverse contracts settle in (PortfolioMargin+Coin.swift).
    let coinSettlements: Set<Int>

    public init(market: Market, policy: MarginPolicy, portfolio: PortfolioPolicy, options: OptionInputs) {
        self.market = market
        self.policy = policy
        self.portfolio = portfolio
        self.options = options
        var instruments: [String: Int] = [:]
        for (k, instrument) in market.instruments.enumerated() { instruments[instrument.symbol] = k }
        instrumentIndex = instruments
        var assets: [String: Int] = [:]
        for (k, asset) in market.assets.enumerated() { assets[asset.symbol] = k }
        assetIndex = assets
        var coins = Set<Int>()
        for instrument in market.instruments where instrument.isInverse {
            if let a = assets[instrument.settle] { coins.insert(a) }
        }
        coinSettlements = coins
    }

    /// The price of an option's underlying in units of asset `settle`: the mark of the
    /// instrument of that name, else the price of the asset of that name over the settle
    /// asset's price; nil when neither exists.
    public func underlyingPrice(_ underlying: String, settle: Int) -> FixedDecimal? {
        if let k = instrumentIndex[underlying], let mark = market.marks[k] { return mark }
        if let a = assetIndex[underlying] { return market.assets[a].price / market.assets[settle].price }
        return nil
    }

    /// The implied vol of option instrument `index`: its own, else its underlying's smile at its strike.
    public func impliedVol(_ index: Int) -> Double? {
        if let vol = options.impliedVols[index] { return DoubleBoundary.double(vol) }
        guard case let .option(_, strike, _, underlying) = market.instruments[index].kind,
              let smile = options.smiles[underlying] else { return nil }
        return smile.vol(at: DoubleBoundary.double(strike))
    }

    /// Years from the valuation time to `expiry` (≥ 0; a 365-day year).
    public func years(to expiry: Int64) -> Double {
        guard let now = options.valuationTime else { return 0 }
        return max(0, Double(expiry - now) / 31_536_000_000)
    }

    /// Evaluates one account. Every position settles in the account's settle asset and every
    /// option has an underlying price and a vol (the input decoder guarantees it). An account
    /// settled in a coin (``isCoinSettled(_:)``) holds inverse contracts and inverse options
    /// and is valued in the coin (PortfolioMargin+Coin.swift); any other, linear ones.
    public func evaluate(_ account: Account) -> PortfolioEvaluation {
        let settlePrice = market.assets[account.settle].price
        var groups: [GroupRisk] = []
        var groupOf: [String: Int] = [:]
        var exposures: [[FixedDecimal]] = []  // per group: Σ linear exposure (settle units per unit move)
        var coinExposures: [FixedDecimal] = []  // per group: Σ s·Q/F over inverse perpetuals and futures (coin)
        var optionMoves: [[Double]] = []  // per group: Σ option value change per scenario (settle units, Double until the boundary)
        var positions: [PortfolioPositionEvaluation] = []
        positions.reserveCapacity(account.positions.count)
        var totalPnl = FixedDecimal.zero

        func group(_ name: String) -> Int {
            if let g = groupOf[name] { return g }
            let range = portfolio.range(of: name)
            let scenarios = portfolio.scenarios(range: range)
            groupOf[name] = groups.count
            groups.append(GroupRisk(underlying: name, priceRange: range, scenarios: scenarios, losses: [], worstLoss: .zero, worstIndex: 0,
                                    shortOptionMinimum: .zero, basisMinimum: .zero, initialMargin: .zero, deltaEquivalent: .zero))
            exposures.append([.zero])
            coinExposures.append(.zero)
            optionMoves.append([Double](repeating: 0, count: scenarios.count))
            return groups.count - 1
        }

        for position in account.positions {
            let instrument = market.instruments[position.instrument]
            let g = group(instrument.base)
            let size = position.quantity * instrument.contractSize  // signed
            switch instrument.kind {
            case .perpetual(.inverse), .future(.inverse, _):
                // Coin-valued: Q = |q|·cs USD, coin exposure s·Q/F, notional Q/F coins.
                guard let mark = market.marks[position.instrument] else { preconditionFailure("no mark for \(instrument.symbol)") }
                let coins = size.magnitude / mark
                coinExposures[g] += size.isNegative ? -coins : coins
                groups[g].basisMinimum += portfolio.basisMinimum * coins
                let pnl = PositionMath.unrealizedPnl(side: size.signum, size: size.magnitude, entry: position.entryPrice, mark: mark, inverse: true)
                totalPnl += pnl
                positions.append(PortfolioPositionEvaluation(notional: coins, unrealizedPnl: pnl, option: nil))
            case let .option(right, strike, expiry, _) where instrument.isInverseOption:
                // Coin-settled: v = Black76_USD(F, K, σ, T, r = 0)/F coins per coin of underlying
                // (r = 0 as Deribit: the document's `rate` does not discount a coin-settled option).
                guard let forward = forward(ofOption: position.instrument, settle: account.settle), let vol = impliedVol(position.instrument) else {
                    preconditionFailure("option \(instrument.symbol) lacks an underlying price or a vol")
                }
                let grid = OptionGrid(forward: DoubleBoundary.double(forward), strike: DoubleBoundary.double(strike),
                                      years: years(to: expiry), rate: 0, isCall: right == .call)
                let base = grid.value(growth: 1, logGrowth: 0, vol: vol) / grid.forward
                let units = DoubleBoundary.double(size)
                let shock = portfolio.volShockSize(years: grid.years)
                let vols = [max(0.01, vol * (1 - shock)), vol, vol * (1 + shock)]
                var previousMove: FixedDecimal? = nil
                var growth = 1.0, logGrowth = 0.0
                for (s, scenario) in groups[g].scenarios.enumerated() {
                    if scenario.move != previousMove {
                        growth = DoubleBoundary.double(Self.coinGrowth(scenario.move))
                        logGrowth = Double.log(growth)
                        previousMove = scenario.move
                    }
                    let value = grid.value(growth: growth, logGrowth: logGrowth, vol: vols[scenario.volShock.index]) / (grid.forward * growth)
                    optionMoves[g][s] += units * (value - base)
                }
                let valueDecimal = DoubleBoundary.decimal(base) ?? .zero
                let pnl = size * ((market.marks[position.instrument] ?? valueDecimal) - position.entryPrice)
                totalPnl += pnl
                if position.quantity.isNegative {
                    groups[g].shortOptionMinimum += portfolio.shortOptionMinimum * size.magnitude
                }
                positions.append(PortfolioPositionEvaluation(
                    notional: size.magnitude, unrealizedPnl: pnl,
                    option: OptionValuation(value: base, impliedVol: vol, years: grid.years, delta: grid.delta(vol: vol) - base)))
            case .perpetual, .future:
                guard let mark = market.marks[position.instrument] else { preconditionFailure("no mark for \(instrument.symbol)") }
                exposures[g][0] += size * mark
                groups[g].basisMinimum += portfolio.basisMinimum * (size.magnitude * mark)
                let pnl = size * (mark - position.entryPrice)
                totalPnl += pnl
                positions.append(PortfolioPositionEvaluation(notional: size.magnitude * mark, unrealizedPnl: pnl, option: nil))
            case let .option(right, strike, expiry, underlying):
                guard let forward = underlyingPrice(underlying, settle: account.settle), let vol = impliedVol(position.instrument) else {
                    preconditionFailure("option \(instrument.symbol) lacks an underlying price or a vol")
                }
                let grid = OptionGrid(forward: DoubleBoundary.double(forward), strike: DoubleBoundary.double(strike),
                                      years: years(to: expiry), rate: DoubleBoundary.double(options.rate), isCall: right == .call)
                let base = grid.value(growth: 1, logGrowth: 0, vol: vol)
                let units = DoubleBoundary.double(size)
                let shock = portfolio.volShockSize(years: grid.years)
                let vols = [max(0.01, vol * (1 - shock)), vol, vol * (1 + shock)]
                var previousMove: FixedDecimal? = nil
                var growth = 1.0, logGrowth = 0.0
                for (s, scenario) in groups[g].scenarios.enumerated() {
                    if scenario.move != previousMove {
                        growth = 1 + DoubleBoundary.double(scenario.move)
                        logGrowth = growth > 0 ? Double.log(growth) : -.infinity
                        previousMove = scenario.move
                    }
                    let value = growth > 0 ? grid.value(growth: growth, logGrowth: logGrowth, vol: vols[scenario.volShock.index]) : (right == .put ? grid.strike * grid.discount : 0)
                    optionMoves[g][s] += units * (value - base)
                }
                let valueDecimal = DoubleBoundary.decimal(base) ?? .zero
                let pnl = size * ((market.marks[position.instrument] ?? valueDecimal) - position.entryPrice)
                totalPnl += pnl
                if position.quantity.isNegative {
                    groups[g].shortOptionMinimum += portfolio.shortOptionMinimum * (size.magnitude * forward)
                }
                positions.append(PortfolioPositionEvaluation(
                    notional: size.magnitude * forward, unrealizedPnl: pnl,
                    option: OptionValuation(value: base, impliedVol: vol, years: grid.years, delta: grid.delta(vol: vol))))
            }
        }
        // Collateral joins the group of its asset when the account has positions there.
        for balance in account.collateral where balance.asset != account.settle {
            guard let g = groupOf[market.assets[balance.asset].symbol] else { continue }
            exposures[g][0] += (balance.amount * market.assets[balance.asset].price) / settlePrice
        }
        for g in groups.indices {
            let exposure = exposures[g][0]
            let coinExposure = coinExposures[g]
            // The boundary: option value changes enter decimals once per group and scenario.
            // A change beyond the decimal range (or not finite) is unreachable within the range
            // contract (docs/range-contract.md); were it reached, a gain counts as none and a loss
            // as `unrepresentableLoss`, so the scenario can only overstate the margin, never
            // hide the loss (a non-fitting loss once counted as 0: session 16's attack).
            let optionChange = optionMoves[g].map(Self.scenarioChange)
            var losses: [FixedDecimal] = []
            losses.reserveCapacity(groups[g].scenarios.count)
            var worst = 0
            for (s, scenario) in groups[g].scenarios.enumerated() {
                var raw = -(exposure * scenario.move + optionChange[s])
                if !coinExposure.isZero { raw -= Self.coinChange(exposure: coinExposure, move: scenario.move) }
                let loss = scenario.weight == .one ? raw : raw * scenario.weight
                losses.append(loss)
                if loss > losses[worst] { worst = s }
            }
            groups[g].losses = losses
            groups[g].worstIndex = worst
            groups[g].worstLoss = FixedDecimal.maximum(.zero, losses[worst])
            groups[g].initialMargin = FixedDecimal.maximum(groups[g].worstLoss, FixedDecimal.maximum(groups[g].shortOptionMinimum, groups[g].basisMinimum))
            // Unweighted losses at −R and +R with vol unchanged: the first and last "none" scenarios.
            let upIndex = 3 * (portfolio.priceSteps - 1) + 1
            let down = -(exposure * groups[g].scenarios[1].move + optionChange[1]) - Self.coinChange(exposure: coinExposure, move: groups[g].scenarios[1].move)
            let up = -(exposure * groups[g].scenarios[upIndex].move + optionChange[upIndex]) - Self.coinChange(exposure: coinExposure, move: groups[g].scenarios[upIndex].move)
            groups[g].deltaEquivalent = (down - up).divided(by: FixedDecimal(2), rounding: .halfEven)!
        }
        let credit = Self.correlationCredit(groups: groups, policy: portfolio)
        let gross = groups.reduce(FixedDecimal.zero) { $0 + $1.initialMargin }
        let im = gross - credit
        let mm = portfolio.maintenanceFraction * im
        let evaluator = MarginEvaluator(market: market, policy: policy)
        let collateral = isCoinSettled(account) ? coinCollateralValue(of: account, evaluator: evaluator) : evaluator.collateralValue(of: account)
        let pool = evaluator.makePool(.portfolio, collateral: collateral, pnl: totalPnl, mm: mm, im: im,
                                      count: account.positions.count)
        return PortfolioEvaluation(pool: pool, positions: positions, groups: groups, correlationCredit: credit)
    }

    /// SPAN-like inter-group credit: pairs by |ρ| descending (ties by name), eligible when the
    /// legs offset; `credit += rate·|ρ|·h` with `h = min(A₁, A₂)` consumed from both legs, where
    /// `A = min(group IM, |delta equivalent|)` is a group's directional risk.
    public static func correlationCredit(groups: [GroupRisk], policy: PortfolioPolicy) -> FixedDecimal {
        var index: [String: Int] = [:]
        for (g, group) in groups.enumerated() { index[group.underlying] = g }
        var available = groups.map { FixedDecimal.minimum($0.initialMargin, $0.deltaEquivalent.magnitude) }
        let pairs = policy.correlations.sorted { a, b in
            a.rho.magnitude != b.rho.magnitude ? a.rho.magnitude > b.rho.magnitude : a.name < b.name
        }
        var credit = FixedDecimal.zero
        for pair in pairs {
            guard let i = index[pair.first], let j = index[pair.second], i != j, !pair.rho.isZero else { continue }
            let si = groups[i].deltaEquivalent.signum, sj = groups[j].deltaEquivalent.signum
            guard si != 0, sj != 0, pair.rho.isPositive ? si != sj : si == sj else { continue }
            let hedged = FixedDecimal.minimum(available[i], available[j])
            guard hedged.isPositive else { continue }
            credit += policy.correlationCredit * pair.rho.magnitude * hedged
            available[i] -= hedged
            available[j] -= hedged
        }
        return credit
    }
}

extension VolShock {
    /// 0 down, 1 none, 2 up.
    var index: Int {
        switch self {
        case .down: return 0
        case .none: return 1
        case .up: return 2
        }
    }
}
