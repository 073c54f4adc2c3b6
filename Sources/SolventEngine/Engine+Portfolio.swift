public import SolventCore
public import SolventRisk

/// Portfolio-margined accounts in the engine (docs/options.md).
///
/// An account in portfolio mode has one pool, the engine's cross pool, margined by
/// `SolventRisk.PortfolioMargin` — the scenario engine of `solvent evaluate`, called here, not
/// copied — with the engine's market, its margin policy (the warning, call and restore ratios),
/// the default portfolio policy of docs/evaluate.md and the fed option marks (`option_mark`).
/// Its equity, IM, MM, ratio and status then run through the same margin-call procedure,
/// liquidation backlog, withdrawal check and summary as a standard cross pool.
///
/// **Premium.** Option fills move the premium (`q·cs·price`) out of (buy) or into (sell) the
/// settle balance. The account handed to the evaluator (`evaluationView`) adds the premium
/// basis `Σ q·cs·entry` back to the settle balance, so that with the evaluate contract's option
/// `uPnL = q·cs·(mark − entry)` the equity is `cash + Σ q·cs·mark` (the option valued at its
/// mark): the same account an `evaluate` document states, and the same numbers.
extension Engine {
    /// The default scenario-margin parameters of portfolio accounts: those of docs/evaluate.md
    /// ("Portfolio (scenario) margin"): R = 15 %, 13 moves, vol shock 20 % (cap 50 %), extremes
    /// ±2R at 35 %, short-option minimum 1 %, basis minimum 0.5 %, MM = 75 % of IM.
    public static let portfolioPolicy = PortfolioPolicy()

    /// The scenario-margin parameters in force: the scenario's `portfolio_policy` (kept in
    /// `OptionMarkState.portfolioPolicy`), else the defaults.
    public var activePortfolioPolicy: PortfolioPolicy { optionState.portfolioPolicy ?? Self.portfolioPolicy }

    /// The option inputs the engine holds (OptionMarks.swift).
    var optionState: OptionMarkState { state.optionMarks ?? OptionMarkState() }

    /// What option valuation reads: the valuation time (the latest option mark's source time),
    /// rate 0, the fed mark implied vols.
    public var optionInputs: OptionInputs {
        let o = optionState
        return OptionInputs(valuationTime: o.valuationTime ?? state.time, rate: .zero, impliedVols: o.impliedVols)
    }

    /// The scenario engine over the engine's market and inputs (the one `evaluate` uses).
    public var portfolioMargin: PortfolioMargin {
        PortfolioMargin(market: state.market, policy: state.parameters.policy, portfolio: activePortfolioPolicy, options: optionInputs)
    }

    /// Whether instrument `i` is an option.
    func isOption(_ i: Int) -> Bool {
        if case .option = state.market.instruments[i].kind { return true }
        return false
    }

    /// `Σ q·cs·entry` over the account's option positions (settle units, signed: + for longs):
    /// the premium its option positions cost (or, short, brought in) at their entry prices.
    func premiumBasis(_ account: Account) -> FixedDecimal {
        var basis = FixedDecimal.zero
        for position in account.positions where isOption(position.instrument) {
            basis += position.quantity * state.market.instruments[position.instrument].contractSize * position.entryPrice
        }
        return basis
    }

    /// The account as the evaluators see it: the premium basis added back to the settle balance
    /// (see the type's documentation); the account itself when it holds no option.
    public func evaluationView(_ record: EngineAccount) -> Account {
        var account = record.account
        let basis = premiumBasis(account)
        guard !basis.isZero else { return account }
        if let k = account.collateral.firstIndex(where: { $0.asset == account.settle }) {
            account.collateral[k].amount += basis
        } else {
            let k = account.collateral.firstIndex { $0.asset > account.settle } ?? account.collateral.count
            account.collateral.insert(CollateralBalance(asset: account.settle, amount: basis), at: k)
        }
        return account
    }

    /// The evaluation of an engine account: scenario margin for a portfolio account, the
    /// standard contract (with the standard option rule, Engine+Options.swift) otherwise.
    public func evaluateAccount(_ record: EngineAccount, prices: Bool = true) -> AccountEvaluation {
        // No option and not portfolio-margined: the evaluation view is the account itself (no premium basis).
        if !record.isPortfolio && !record.account.positions.contains(where: { isOption($0.instrument) }) {
            // The market and policy read in place: no `MarginEvaluator` built (a copy of the engine's parameters, the market's arrays retained; issue 18).
            var evaluation = AccountEvaluation.empty
            MarginEvaluator.evaluate(record.account, market: state.market, policy: state.parameters.policy, prices: prices, into: &evaluation)
            return evaluation
        }
        let view = evaluationView(record)
        if record.isPortfolio { return portfolioEvaluation(view) }
        if record.account.positions.contains(where: { isOption($0.instrument) }) { return standardOptionEvaluation(view, prices: prices) }
        return evaluator.evaluate(view, prices: prices)
    }

    /// A portfolio account's evaluation in the engine's shape: the portfolio pool as the cross
    /// pool; each position's MM is its share of the pool's MM by liquidation weight.
    func portfolioEvaluation(_ view: Account) -> AccountEvaluation {
        let margin = portfolioMargin
        let evaluation = margin.evaluate(view)
        return evaluation.accountEvaluation(as: .cross, weights: liquidationWeights(view, evaluation, margin))
    }

    /// The full scenario-margin evaluation of account `id` (groups, scenario losses, option
    /// values and deltas), nil for an unknown or standard account.
    public func portfolioEvaluation(of id: String) -> PortfolioEvaluation? {
        guard let a = state.accountIndex[id], state.accounts[a].isPortfolio else { return nil }
        return portfolioMargin.evaluate(evaluationView(state.accounts[a]))
    }

    /// Per position, how much of the group's worst-scenario loss it carries (`max(0, loss)` in
    /// that scenario, at its weight), plus for a short option its short-option floor
    /// (`short_option_minimum·|q|·cs·F`): the liquidation step closes the largest first, so
    /// short options and the largest contributors to the worst scenario go first.
    func liquidationWeights(_ view: Account, _ evaluation: PortfolioEvaluation, _ margin: PortfolioMargin) -> [FixedDecimal] {
        guard evaluation.pool.status >= .marginCall else { return [FixedDecimal](repeating: .zero, count: view.positions.count) }
        var weights: [FixedDecimal] = []
        weights.reserveCapacity(view.positions.count)
        for position in view.positions {
            let loss = margin.worstScenarioLoss(of: position, in: view, evaluation: evaluation) ?? .zero
            var floor = FixedDecimal.zero
            if position.quantity.isNegative, case let .option(_, _, _, underlying) = state.market.instruments[position.instrument].kind,
               let forward = margin.underlyingPrice(underlying, settle: view.settle) {
                // A coin-settled option's floor is in coin: the linear one divided by F (Engine+InverseOptions.swift).
                let units = position.quantity.magnitude * state.market.instruments[position.instrument].contractSize
                floor = margin.portfolio.shortOptionMinimum * (state.market.instruments[position.instrument].isInverseOption ? units : units * forward)
            }
            weights.append(FixedDecimal.maximum(.zero, loss) + floor)
        }
        return weights
    }

    /// The at-risk index for a portfolio account (a documented budgeted re-evaluation): a
    /// zero-width band at the current mark of every instrument it holds and of every held
    /// option's underlying, so any move of one of them re-evaluates the account (the scenario
    /// grid has no closed-form band in price for a non-linear book). A fed option mark re-evaluates
    /// the option's holders, and a valuation time moving forward every holder of an option
    /// (`optionMark`). The cost per underlying tick is in BENCHMARKS.md.
    func portfolioBands(_ a: Int) -> [PriceBand] {
        var instruments = Set<Int>()
        for position in state.accounts[a].account.positions {
            instruments.insert(position.instrument)
            if case let .option(_, _, _, underlying) = state.market.instruments[position.instrument].kind,
               let u = state.market.instruments.firstIndex(where: { $0.symbol == underlying }) {
                instruments.insert(u)
            }
        }
        return instruments.sorted().compactMap { i in state.market.marks[i].map { PriceBand(instrument: i, low: $0, high: $0) } }
    }

    /// Whether account `a` needs the option bands (a portfolio account, or one holding an option).
    func usesOptionBands(_ a: Int) -> Bool {
        let record = state.accounts[a]
        return record.isPortfolio || record.account.positions.contains { isOption($0.instrument) }
    }

    /// The pre-trade check of a risk-increasing order of a portfolio account from its marginal
    /// scenario margin: `reserved = max(0, IM(positions + order) − IM(positions))` (the
    /// `PortfolioMargin` of `evaluate` on both books), against `free = equity − IM − margin
    /// reserved by resting orders`. For a standard account trading an option, the standard
    /// option rule (Engine+Options.swift). Nil for anything else (the bracket check applies).
    func marginalOrderCheck(_ a: Int, _ i: Int, quantity: FixedDecimal, price: FixedDecimal) throws(RejectReason) -> (reserved: FixedDecimal, free: FixedDecimal)? {
        let record = state.accounts[a]
        if !record.isPortfolio {
            guard isOption(i) else { return nil }
            return try standardOptionOrderCheck(a, i, quantity: quantity, price: price)
        }
        let symbol = state.market.instruments[i].symbol
        if isStale(i) { throw RejectReason(.staleMark, field: "symbol", "the mark of \(symbol) is stale: risk-increasing orders are frozen") }
        var hypothetical = record
        if let k = hypothetical.positionIndex(i) {
            hypothetical.account.positions[k].quantity += quantity
            if hypothetical.account.positions[k].quantity.isZero { hypothetical.account.positions.remove(at: k) }
        } else {
            hypothetical.account.positions.append(Position(instrument: i, quantity: quantity, entryPrice: price, leverage: nil, marginMode: .cross))
        }
        let margin = portfolioMargin
        let before = margin.evaluate(evaluationView(record)).pool
        let after = margin.evaluate(evaluationView(hypothetical)).pool
        let reserved = FixedDecimal.maximum(.zero, after.initialMargin - before.initialMargin)
        let free = before.equity - before.initialMargin - reservedMargin(a)
        if free < reserved {
            throw RejectReason(.insufficientMargin, field: "quantity",
                               "the order raises the portfolio's initial margin by \(reserved), \(FixedDecimal.maximum(.zero, free)) available")
        }
        return (reserved, free)
    }
}

extension Engine {
    /// The summary's `mode` (portfolio accounts only) and `pools` of an account: per pool with
    /// a margin requirement (and always the cross pool) its name (`portfolio` for a portfolio
    /// account's one pool, else `cross` / `isolated:<symbol>`), equity, initial and maintenance
    /// margin, margin ratio and status — how the book is margined, for `simulate`'s reader.
    func writePools(_ record: EngineAccount, _ evaluation: AccountEvaluation, into w: inout JSONWriter) {
        if record.isPortfolio { w.member("mode", "portfolio") }
        w.key("pools"); w.beginArray()
        for (key, pool) in Self.poolsByKey(record, evaluation) where key == .cross || pool.isMargined {
            w.beginObject()
            w.member("pool", record.isPortfolio ? "portfolio" : poolName(key))
            w.member("equity", pool.equity)
            w.member("initial_margin", pool.initialMargin)
            w.member("maintenance_margin", pool.maintenanceMargin)
            w.key("margin_ratio"); w.optionalDecimal(pool.marginRatio)
            w.member("status", pool.status.name)
            w.endObject()
        }
        w.endArray()
    }
}
