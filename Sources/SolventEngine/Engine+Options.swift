public import SolventCore
public import SolventRisk

/// Options in the engine (docs/options.md): option marks, account modes, the premium flow of
/// option trades, who may trade an option, and the standard accounts' option rule.
///
/// **Standard accounts** may buy options (premium paid in full: the long option's value counts
/// in equity at its mark, and its initial margin is that value, so it backs no new risk; no
/// maintenance margin) and write them under Deribit's published standard-margin rule for short
/// options, in settle units per unit of underlying (`F` the underlying's price, `m` the option's
/// mark, `OTM` = `max(0, K − F)` for a call, `max(0, F − K)` for a put):
///
/// - short call: `IM = max(0.15·F − OTM, 0.10·F) + m`, `MM = 0.075·F + m`;
/// - short put: `IM = max(max(0.15·F − OTM, 0.10·F) + m, MM)`, `MM = max(0.075·F, 0.075·m) + m`;
///
/// (Deribit quotes these in BTC per BTC of underlying, e.g. "Maximum (0.15 − Out of the Money
/// Amount/Underlying MarkPrice, 0.1) + Mark Price of the option"; times `F` here, as linear
/// venues publish the same rule, e.g. Aevo's "Maximum (0.15 − OTM Amount/Spot, 0.1) × Spot +
/// Mark Price of the Option" — sources and the full citation in docs/options.md).
extension Engine {
    /// Deribit's standard-margin fractions for short options.
    static let shortOptionInitialRate = FixedDecimal("0.15")!
    static let shortOptionInitialFloor = FixedDecimal("0.10")!
    static let shortOptionMaintenanceRate = FixedDecimal("0.075")!

    // MARK: commands

    /// `option_mark`: an option's mark price (premium per contract unit, settle units) and
    /// mark implied volatility (a yearly fraction in (0, 10]) with their source time. The price
    /// is the option's mark (the same rules as `mark`); the vol is what scenario margin revalues
    /// it with; the source time advances the option valuation time (never moves it back).
    /// Touches the option's holders, and every holder of an option when the valuation time moves.
    mutating func optionMark(_ symbol: String, _ price: FixedDecimal, _ vol: FixedDecimal, _ sourceTime: Int64) throws(RejectReason) -> [Int] {
        let i = try instrumentIndex(symbol)
        guard isOption(i) else { throw RejectReason(.invalidInput, field: "symbol", "\(symbol) is not an option (use mark)") }
        guard vol.isPositive, vol <= FixedDecimal(10) else {
            throw RejectReason(.outOfRange, field: "implied_vol", "out of range: an implied vol must be in (0, 10], got \(vol)")
        }
        var touched = try markPrice(symbol, price, sourceTime)  // validates the price and the source time first
        forgetSurfaceMark(i)  // a fed mark: no longer follows a surface (Engine+SurfaceFollow.swift)
        var o = optionState
        o.impliedVols[i] = vol
        o.forgetFedQuote(i)  // quoted at the underlying's current mark (Engine+StaleOptionMarks.swift)
        let advanced = o.valuationTime.map { sourceTime > $0 } ?? true
        if advanced { o.valuationTime = sourceTime }
        state.optionMarks = o
        touched += holders(of: i)
        if advanced { touched += state.accounts.indices.filter { a in state.accounts[a].account.positions.contains { isOption($0.instrument) } } }
        return touched
    }

    /// `set_account_mode`: portfolio (one pool, scenario margin) or standard; only for an
    /// account without positions and open orders.
    mutating func setAccountMode(_ id: String, portfolio: Bool) throws(RejectReason) -> [Int] {
        let a = try accountIndex(id)
        let record = state.accounts[a]
        guard record.account.positions.isEmpty, record.orders.isEmpty else {
            throw RejectReason(.modeChangeWithPosition, field: "mode", "the account mode changes only without positions and open orders")
        }
        if portfolio { try requirePortfolioCollateral(record.account, pending: a) }  // a coin-settled portfolio: Engine+InverseOptions.swift
        state.accounts[a].mode = portfolio ? .portfolio : nil
        if portfolio { state.accounts[a].isolated = [] }
        emit(.accountModeSet, account: a, [("mode", .text(portfolio ? "portfolio" : "standard"))])
        return [a]
    }

    /// `settlement_price`: the price a dated instrument settles at when it expires — for a
    /// future its settlement price, for an option its underlying's expiration price (the option
    /// pays its intrinsic value at it). Before the expiry (the last one fed wins), or after it
    /// when the instrument's settlement was postponed for want of a price (Engine+Expiry.swift):
    /// then it settles at once.
    mutating func settlementPrice(_ symbol: String, _ price: FixedDecimal) throws(RejectReason) -> [Int] {
        let i = try instrumentIndex(symbol)
        guard let expiry = expiry(i) else { throw RejectReason(.invalidInput, field: "symbol", "\(symbol) has no expiry") }
        guard price.isPositive else { throw RejectReason(.invalidInput, field: "price", "must be positive") }
        let pending = isSettlementPending(i)
        guard state.time < expiry || pending else { throw RejectReason(.instrumentExpired, field: "symbol", "\(symbol) expired at \(expiry)") }
        var o = optionState
        o.settlementPrices[i] = price
        state.optionMarks = o
        emit(.settlementPriceSet, [("symbol", .text(symbol)), ("price", .decimal(price)), ("expiry", .integer(expiry))])
        return pending ? settle(i, expiry: expiry) : []
    }

    // MARK: trading rules

    /// Whether account `a` (or an account of `mode` with the isolated set `isolated`) may hold a
    /// position in instrument `i`: a portfolio account holds linear contracts only, in its one
    /// pool; an option needs its underlying instrument with a mark in the option's settle asset,
    /// a fed implied vol (`option_mark`) and the cross pool.
    ///
    /// A portfolio account settled in a coin that inverse contracts settle in (BTC, …) holds
    /// inverse contracts and coin-settled options only, valued in the coin (docs/options.md,
    /// "Coin-settled (inverse) options"); any other portfolio account linear contracts only.
    func requireOptionRules(_ i: Int, portfolio: Bool, isolated: Bool, field: String, settle: Int? = nil) throws(RejectReason) {
        let instrument = state.market.instruments[i]
        if portfolio {
            let coin = settle.map { portfolioMargin.isCoinSettlement($0) } ?? false
            if instrument.isInverse, !coin {
                throw RejectReason(.optionsNotSupported, field: field, "\(instrument.symbol) is inverse: a portfolio account settled in a linear asset holds linear contracts only")
            }
            if !instrument.isInverse, coin, let settle {
                throw RejectReason(.optionsNotSupported, field: field,
                                   "\(instrument.symbol) is linear: a portfolio account settled in \(state.market.assets[settle].symbol) holds inverse contracts and coin-settled options only")
            }
        }
        guard case let .option(_, _, _, underlying) = instrument.kind else { return }
        if isolated { throw RejectReason(.optionsNotSupported, field: field, "an option is held in the cross pool only") }
        let u: Int
        if instrument.isInverseOption {
            u = try inverseOptionUnderlying(instrument, field: field)  // Engine+InverseOptions.swift
        } else {
            guard let k = state.market.instruments.firstIndex(where: { $0.symbol == underlying }),
                  state.market.instruments[k].settle == instrument.settle, state.market.instruments[k].kind.settlement == .linear else {
                throw RejectReason(.optionsNotSupported, field: field,
                                   "option \(instrument.symbol): its underlying \"\(underlying)\" is not a linear instrument settled in \(instrument.settle)")
            }
            u = k
        }
        guard state.market.marks[u] != nil else { throw RejectReason(.noMark, field: field, "no mark price for \(underlying), the underlying of \(instrument.symbol), yet") }
        guard optionState.impliedVols[i] != nil else {
            throw RejectReason(.noMark, field: field, "no mark implied vol for \(instrument.symbol) yet (option_mark)")
        }
    }

    /// Account `a` may not isolate instrument `i` when it is portfolio-margined or `i` is an option.
    func requireIsolatable(_ a: Int, _ i: Int) throws(RejectReason) {
        if state.accounts[a].isPortfolio { throw RejectReason(.invalidInput, field: "mode", "a portfolio account has one pool: no isolated margin") }
        if isOption(i) { throw RejectReason(.optionsNotSupported, field: "symbol", "an option is held in the cross pool only") }
    }

    // MARK: premium

    /// After `trade` applied an option trade of signed `quantity` at `price`: the realized PnL it
    /// credited is taken back and the premium `quantity·cs·price` moves instead — out of the
    /// settle balance for a buy, in for a sale — to the clearing side (`external`). Nothing for
    /// other instruments. The premium is rounded in the venue's favour: toward +∞ at each of its
    /// two products (`premium(quantity:…)`), so a buyer pays at least, and a seller (or an
    /// expiring holder paid its intrinsic value) receives at most, the exact amount.
    mutating func settlePremium(_ a: Int, _ i: Int, quantity: FixedDecimal, price: FixedDecimal, realized: FixedDecimal) {
        guard isOption(i) else { return }
        let settle = state.accounts[a].account.settle
        let flow = realized + Self.premium(quantity: quantity, contractSize: state.market.instruments[i].contractSize, price: price)
        state.accounts[a].credit(settle, -flow)
        state.totals[settle].external += flow
    }

    /// `quantity·cs·price` (signed, settle units) rounded toward +∞ at each product: what the
    /// account pays (positive) or receives (negative) for an option trade, in the venue's favour.
    static func premium(quantity: FixedDecimal, contractSize: FixedDecimal, price: FixedDecimal) -> FixedDecimal {
        let units = quantity.multiplied(by: contractSize, rounding: .up) ?? quantity * contractSize
        return units.multiplied(by: price, rounding: .up) ?? units * price
    }

    /// `a·b` rounded toward +∞: a margin requirement (rounded up, in the venue's favour).
    static func requirement(_ a: FixedDecimal, _ b: FixedDecimal) -> FixedDecimal { a.multiplied(by: b, rounding: .up) ?? a * b }

    /// An opening option position (scenario start) is taken as traded at its entry price: its
    /// premium moves out of (long) or into (short) the opening settle balance, to the clearing side.
    mutating func payOpeningPremiums(_ a: Int) {
        let basis = premiumBasis(state.accounts[a].account)
        guard !basis.isZero else { return }
        let settle = state.accounts[a].account.settle
        state.accounts[a].credit(settle, -basis)
        state.totals[settle].external += basis
    }

    // MARK: standard accounts

    /// Standard initial and maintenance margin of an option position (settle units): 0 and 0…
    /// see the type's documentation. `mark` is the option's price per unit, `forward` the underlying's.
    func standardOptionMargin(_ position: Position, mark: FixedDecimal, forward: FixedDecimal) -> (im: FixedDecimal, mm: FixedDecimal) {
        let instrument = state.market.instruments[position.instrument]
        guard case let .option(right, strike, _, _) = instrument.kind else { return (.zero, .zero) }
        if instrument.isInverseOption { return coinStandardOptionMargin(position, mark: mark, forward: forward) }  // Engine+InverseOptions.swift
        // Requirements round up (toward +∞) at every product: the venue's favour (docs/options.md).
        let up = Self.requirement
        let units = up(position.quantity.magnitude, instrument.contractSize)
        if !position.quantity.isNegative { return (up(units, mark), .zero) }
        let otm = right == .call ? FixedDecimal.maximum(.zero, strike - forward) : FixedDecimal.maximum(.zero, forward - strike)
        let base = FixedDecimal.maximum(up(Self.shortOptionInitialRate, forward) - otm, up(Self.shortOptionInitialFloor, forward)) + mark
        let mm: FixedDecimal
        let im: FixedDecimal
        if right == .call {
            mm = up(Self.shortOptionMaintenanceRate, forward) + mark
            im = base
        } else {
            mm = FixedDecimal.maximum(up(Self.shortOptionMaintenanceRate, forward), up(Self.shortOptionMaintenanceRate, mark)) + mark
            im = FixedDecimal.maximum(base, mm)
        }
        return (up(units, im), up(units, mm))
    }

    /// A standard account holding options: the contract's evaluation with every option's bracket
    /// margin replaced by the standard option rule in the cross pool (options are cross only);
    /// its positions get no liquidation or bankruptcy price (with options there is no single one).
    func standardOptionEvaluation(_ view: Account, prices: Bool) -> AccountEvaluation {
        var evaluation = evaluator.evaluate(view, prices: false)
        let margin = portfolioMargin
        var cross = evaluation.cross
        var mm = cross.maintenanceMargin, im = cross.initialMargin
        for (k, position) in view.positions.enumerated() {
            guard case let .option(_, _, _, underlying) = state.market.instruments[position.instrument].kind else { continue }
            let forward = margin.underlyingPrice(underlying, settle: view.settle) ?? .zero
            let mark = state.market.marks[position.instrument] ?? .zero
            let option = standardOptionMargin(position, mark: mark, forward: forward)
            mm += option.mm - evaluation.positions[k].maintenanceMargin
            im += option.im - evaluation.positions[k].initialMargin
            evaluation.positions[k] = PositionEvaluation(pool: .cross, notional: evaluation.positions[k].notional,
                                                         unrealizedPnl: evaluation.positions[k].unrealizedPnl, initialMargin: option.im,
                                                         maintenanceMargin: option.mm)
        }
        cross = evaluator.pool(.cross, collateral: cross.collateral, pnl: cross.equity - cross.collateral, mm: mm, im: im,
                               count: cross.positionCount, debt: cross.debt)
        evaluation.pools[0] = cross
        return AccountEvaluation(pools: evaluation.pools, positions: evaluation.positions)
    }

    /// The pre-trade check of a standard account's risk-increasing option order: a buy reserves
    /// its premium `|q|·cs·price` (paid in full), a sale the standard short-option IM at the order
    /// price, against `free = cross equity − IM − margin reserved by resting orders`.
    func standardOptionOrderCheck(_ a: Int, _ i: Int, quantity: FixedDecimal, price: FixedDecimal) throws(RejectReason) -> (reserved: FixedDecimal, free: FixedDecimal) {
        let instrument = state.market.instruments[i]
        if isStale(i) { throw RejectReason(.staleMark, field: "symbol", "the mark of \(instrument.symbol) is stale: risk-increasing orders are frozen") }
        guard case let .option(_, _, _, underlying) = instrument.kind,
              let forward = portfolioMargin.underlyingPrice(underlying, settle: state.accounts[a].account.settle) else { return (.zero, .zero) }
        let order = Position(instrument: i, quantity: quantity, entryPrice: price, leverage: nil, marginMode: .cross)
        let reserved = standardOptionMargin(order, mark: price, forward: forward).im
        let cross = evaluateAccount(state.accounts[a], prices: false).cross
        let free = cross.equity - cross.initialMargin - reservedMargin(a)
        if free < reserved {
            throw RejectReason(.insufficientMargin, field: "quantity", "needs \(reserved) (\(quantity.isNegative ? "short-option initial margin" : "premium")), \(FixedDecimal.maximum(.zero, free)) available")
        }
        return (reserved, free)
    }
}

extension Engine {
    /// A scenario's start: the option valuation time (`valuation_time`, else the start time) and
    /// a mark implied vol for every option the start prices (`implied_vols`, else its smile).
    public mutating func seedOptionInputs(_ start: EvaluateInput, startTime: Int64) {
        if start.portfolio != Self.portfolioPolicy {  // the scenario's portfolio_policy: kept only when not the defaults
            var o = optionState
            o.portfolioPolicy = start.portfolio
            state.optionMarks = o
        }
        guard state.market.instruments.contains(where: { if case .option = $0.kind { true } else { false } }) else { return }
        let margin = PortfolioMargin(market: start.market, policy: start.policy, portfolio: start.portfolio, options: start.options)
        var o = optionState
        o.valuationTime = start.options.valuationTime ?? startTime
        for k in state.market.instruments.indices where isOption(k) {
            if let vol = start.options.impliedVols[k] {
                o.impliedVols[k] = vol
            } else if let v = margin.impliedVol(k), let vol = DoubleBoundary.decimal(v), vol.isPositive, vol <= FixedDecimal(10) {
                o.impliedVols[k] = vol
            }
        }
        state.optionMarks = o
    }
}
