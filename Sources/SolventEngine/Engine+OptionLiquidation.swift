public import SolventCore
public import SolventRisk

/// Liquidating an option book (docs/options.md, "Liquidating an option book"; issue 17).
///
/// A pool holding options — a portfolio account's pool, or a standard account's cross pool with
/// an option in it — is liquidated step by step, each step chosen by **risk cut per unit of
/// cost**, sized to what the pool needs, and, when the option books are thin, optionally
/// replaced by a delta hedge in the underlying:
///
/// - **Risk cut** of a candidate step (close `x` contracts of one position at its mark): the
///   fall of the pool's maintenance margin, `MM(before) − MM(after the step)`, both from the
///   engine's evaluation (`PortfolioMargin` for a portfolio pool, the standard option rule
///   otherwise), each quantized to 10⁻⁸ settle units first (half-even) so the last-ulp
///   differences of the Black-76 `Double`s cannot reorder steps on another machine. Deribit
///   liquidates a portfolio-margin account by "the instrument contributing the most to the
///   overall margin requirements", moving to the next one when the order does not trade
///   (Deribit release notes, 1 August 2023, "New liquidation algorithm for Portfolio Margin
///   Clients", https://support.deribit.com/hc/en-us/articles/25944825289245-1-August-2023).
/// - **Cost**: the expected execution cost of the step — the book levels inside the price band
///   walked for `x` (what each fill gives up against the mark), the rest at the backstop price
///   (the mark: these positions have no bankruptcy price) when the backstop is on, else at the
///   band's edge — plus the liquidation fee (`liquidation_fee_rate` × the step's notional at
///   the mark); floored at 10⁻⁸ so a free step ranks by its cut.
/// - **Order**: among the *material* steps — a cut of at least a tenth of the largest cut on
///   offer (a near-worthless short option closed for almost nothing would otherwise go first
///   and spend steps without bringing the pool back) — the largest `cut / cost` first, compared
///   exactly (`cut₁·cost₂` against `cut₂·cost₁`, full-width products — no rounding); ties: short
///   options first, then the larger cut (the largest contributor), then the lower instrument
///   index; the other steps after them in the same order. Only steps that cut
///   risk (cut > 0) are taken while the pool has equity; a bankrupt pool closes everything in
///   this order. The first candidate that can trade (instrument not paused, book depth within
///   the band on its side or the backstop on, room under the notional cap) takes the step.
/// - **Partial steps**: as the linear path, at most `liquidation_step_fraction` of the position
///   per step (all of it when the pool is bankrupt), and no more than the smallest quantity that
///   brings the pool back — to the restore ratio when the call's deadline passed
///   (`liquidating until cured`), below maintenance otherwise — found by bisection on the
///   evaluation after the step; in lots of one contract for options (Deribit liquidates "1
///   option contract" per step, https://www.deribit.com/docs/auto-liquidation/) and 10⁻⁸ for
///   linear contracts (the linear path's lot); never more than the position, so never a flip.
/// - **Delta hedge** (`option_delta_hedge`, default off): when no candidate that cuts risk can
///   trade and one of them is an option whose book is thin — no level on its closing side
///   within the price band — the liquidator trades the options' underlying (the perpetual or
///   dated future the option names) to flatten the pool's delta in that underlying, if that
///   lowers the pool's maintenance margin, as Deribit does ("attempt to reduce the risk by
///   delta hedging via the Perpetual (if this would also reduce the maintenance margin) … could
///   result in opening or increasing an existing position there", same release notes). The
///   hedge is a liquidation fill (`executor` `delta_hedge`) through the same book, backstop and
///   fee; the delta is Black-76's (`OptionGrid.delta`), each option's quantized to 10⁻⁸.
extension Engine {
    /// One candidate liquidation step of a pool holding options.
    public struct OptionLiquidationStep: Sendable, Hashable {
        /// Position index in the account.
        public var position: Int
        public var instrument: Int
        public var symbol: String
        /// Contracts the step would close (unsigned; the position's fraction cap, or all of it).
        public var quantity: FixedDecimal
        /// `MM(before) − MM(after)`, each quantized to 10⁻⁸ (settle units; negative: the step adds risk).
        public var riskCut: FixedDecimal
        /// Expected execution cost plus fee (settle units, ≥ 10⁻⁸).
        public var cost: FixedDecimal
        public var isShortOption: Bool
        /// Whether it can trade now (not paused, depth within the band or the backstop, room under the cap).
        public var canTrade: Bool
        /// Whether the book has a level on the closing side within the band.
        public var hasDepth: Bool
    }

    static let riskQuantum = 8
    /// A step is material when its cut is at least this fraction of the largest cut available.
    static let materialFraction = FixedDecimal("0.1")!
    static let minimumStepCost = FixedDecimal("0.00000001")!
    /// The linear path's quantity lot (10⁻⁸ contracts).
    static let linearLot = FixedDecimal("0.00000001")!

    /// Whether pool `key` of the account is liquidated by risk cut per unit of cost: the cross
    /// pool of a portfolio account, or of a standard account holding an option.
    func usesRiskCutOrder(_ record: EngineAccount, _ key: PoolKey) -> Bool {
        key == .cross && (record.isPortfolio || record.account.positions.contains { isOption($0.instrument) })
    }

    /// The candidate steps of account `id`'s cross pool, best first (the order above); empty
    /// for an unknown account or a pool that is not liquidated this way.
    public func optionLiquidationPlan(of id: String) -> [OptionLiquidationStep] {
        guard let a = state.accountIndex[id], usesRiskCutOrder(state.accounts[a], .cross) else { return [] }
        let record = state.accounts[a]
        return rankedSteps(record, evaluateAccount(record, prices: false).cross)
    }

    /// The cross pool's candidate steps, ranked.
    func rankedSteps(_ record: EngineAccount, _ pool: PoolEvaluation) -> [OptionLiquidationStep] {
        let bankrupt = !pool.equity.isPositive
        let before = pool.maintenanceMargin.rounded(toDigits: Self.riskQuantum)
        var steps: [OptionLiquidationStep] = []
        for (k, position) in record.account.positions.enumerated() where record.pool(of: position.instrument) == .cross {
            let i = position.instrument
            guard let mark = state.market.marks[i] else { continue }
            var quantity = position.quantity.magnitude
            if !bankrupt {
                let lot = stepLot(i)
                let part = (quantity * state.parameters.liquidationStepFraction).rounded(toDigits: lot, rule: .up)
                if part.isPositive && part < quantity { quantity = part }
            }
            let cost = stepCost(i, long: position.isLongSide, quantity: quantity, mark: mark)
            let after = evaluateAccount(closing(record, k, quantity, mark: mark, cost: cost), prices: false).cross
            let cut = before - after.maintenanceMargin.rounded(toDigits: Self.riskQuantum)
            let depth = hasDepth(i, long: position.isLongSide, mark: mark)
            steps.append(OptionLiquidationStep(position: k, instrument: i, symbol: state.market.instruments[i].symbol, quantity: quantity,
                                               riskCut: cut, cost: FixedDecimal.maximum(cost, Self.minimumStepCost),
                                               isShortOption: isOption(i) && position.quantity.isNegative,
                                               canTrade: canLiquidate(i, quantity: quantity, mark: mark, depth: depth), hasDepth: depth))
        }
        // Material steps first: a cut below a tenth of the largest one would spend a step (and
        // the command's step budget) without bringing the pool back, however cheap it is.
        let largest = steps.map(\.riskCut).max() ?? .zero
        let threshold = largest.isPositive ? largest * Self.materialFraction : .zero
        let material = steps.filter { $0.riskCut.isPositive && $0.riskCut >= threshold }
        let rest = steps.filter { !($0.riskCut.isPositive && $0.riskCut >= threshold) }
        return material.sorted(by: Self.ranksBefore) + rest.sorted(by: Self.ranksBefore)
    }

    /// The order of steps: larger `cut / cost` (exact: `cut₁·cost₂ > cut₂·cost₁`, costs > 0),
    /// then short options, then the larger cut, then the lower instrument index.
    static func ranksBefore(_ l: OptionLiquidationStep, _ r: OptionLiquidationStep) -> Bool {
        let c = FixedDecimal.compareProducts(l.riskCut, r.cost, r.riskCut, l.cost)
        if c != 0 { return c > 0 }
        if l.isShortOption != r.isShortOption { return l.isShortOption }
        if l.riskCut != r.riskCut { return l.riskCut > r.riskCut }
        return l.instrument < r.instrument
    }

    /// Digits of a step's lot: whole contracts for options, 10⁻⁸ for linear contracts.
    func stepLot(_ i: Int) -> Int { isOption(i) ? 0 : 8 }

    /// The price band of liquidation fills on instrument `i` (index·(1 ± band), the mark without an index).
    func liquidationBand(_ i: Int, mark: FixedDecimal) -> (low: FixedDecimal, high: FixedDecimal) {
        let reference = state.indexPrices[i]?.price ?? mark
        return (reference * (FixedDecimal.one - state.parameters.priceBand), reference * (FixedDecimal.one + state.parameters.priceBand))
    }

    /// Whether the book of `i` has a level within the band on the side closing a position
    /// (`long`: the bids; a short: the asks). Always false for the backstop execution port.
    func hasDepth(_ i: Int, long: Bool, mark: FixedDecimal) -> Bool {
        guard state.parameters.execution == .depth else { return false }
        let band = liquidationBand(i, mark: mark)
        return (long ? state.books[i].bids : state.books[i].asks).contains { $0.quantity.isPositive && $0.price >= band.low && $0.price <= band.high }
    }

    /// Whether a liquidation trade of `quantity` in `i` can go ahead now.
    func canLiquidate(_ i: Int, quantity: FixedDecimal, mark: FixedDecimal, depth: Bool) -> Bool {
        guard state.breakers[i].pausedReasons.isEmpty else { return false }
        let backstop = state.parameters.execution == .backstop || state.parameters.backstopEnabled
        guard depth || backstop else { return false }
        if let cap = state.parameters.liquidationNotionalCap, !(cap - state.breakers[i].capUsed).isPositive { return false }
        return true
    }

    /// Expected cost (settle units) of trading `quantity` contracts of `i` on the side that
    /// closes a position that is `long`: the in-band book levels walked best first (what each
    /// fill gives up against the mark), the rest at the mark with the backstop on or at the
    /// band's edge, plus the liquidation fee on the notional at the mark. Not floored.
    func stepCost(_ i: Int, long: Bool, quantity: FixedDecimal, mark: FixedDecimal) -> FixedDecimal {
        let instrument = state.market.instruments[i]
        let side = long ? 1 : -1
        let band = liquidationBand(i, mark: mark)
        var left = quantity
        var slippage = FixedDecimal.zero
        if state.parameters.execution == .depth {
            for level in long ? state.books[i].bids : state.books[i].asks where left.isPositive {
                guard level.quantity.isPositive, level.price >= band.low, level.price <= band.high else { continue }
                let take = FixedDecimal.minimum(left, level.quantity)
                slippage += lossPerContract(side: side, price: level.price, bankruptcy: mark, instrument: instrument) * take
                left -= take
            }
        }
        if left.isPositive {
            let backstop = state.parameters.execution == .backstop || state.parameters.backstopEnabled
            let price = backstop ? mark : (long ? band.low : band.high)
            slippage += lossPerContract(side: side, price: price, bankruptcy: mark, instrument: instrument) * left
        }
        let fee = notional(quantity, instrument, price: mark) * state.parameters.liquidationFeeRate
        return FixedDecimal.maximum(.zero, slippage) + fee
    }

    /// The account after closing `x` contracts of position `k` at `mark` and paying `cost`: the
    /// realized PnL (linear) or the premium (options: `side·x·cs·mark`) credited, so the pool's
    /// equity falls by the cost only.
    func closing(_ record: EngineAccount, _ k: Int, _ x: FixedDecimal, mark: FixedDecimal, cost: FixedDecimal) -> EngineAccount {
        var r = record
        let position = r.account.positions[k]
        let instrument = state.market.instruments[position.instrument]
        let size = x * instrument.contractSize
        let proceeds = isOption(position.instrument)
            ? FixedDecimal(position.side) * size * mark
            : PositionMath.unrealizedPnl(side: position.side, size: size, entry: position.entryPrice, mark: mark, inverse: instrument.kind.settlement == .inverse)
        r.credit(r.account.settle, proceeds - cost)
        let left = position.quantity.isPositive ? position.quantity - x : position.quantity + x
        if left.isZero { r.account.positions.remove(at: k) } else { r.account.positions[k].quantity = left }
        return r
    }

    /// Whether the pool is back: at or below the restore ratio when the liquidation runs until
    /// the call is cured, below maintenance otherwise.
    func isRestored(_ pool: PoolEvaluation, untilCured: Bool) -> Bool {
        if pool.positionCount == 0 { return true }
        if untilCured { return FixedDecimal.compareProducts(pool.maintenanceMargin, .one, pool.equity, state.parameters.policy.restoreRatio) <= 0 }
        return pool.status < .liquidatable
    }

    /// The smallest quantity (whole lots, at most `step`) closing which restores the pool, by
    /// bisection; `step` when even it does not.
    func neededQuantity(_ record: EngineAccount, _ k: Int, step: FixedDecimal, mark: FixedDecimal, untilCured: Bool) -> FixedDecimal {
        let position = record.account.positions[k]
        let i = position.instrument
        func restores(_ x: FixedDecimal) -> Bool {
            let cost = stepCost(i, long: position.isLongSide, quantity: x, mark: mark)
            return isRestored(evaluateAccount(closing(record, k, x, mark: mark, cost: cost), prices: false).cross, untilCured: untilCured)
        }
        guard restores(step) else { return step }
        let digits = stepLot(i)
        let lot = digits == 0 ? FixedDecimal.one : Self.linearLot
        var low = FixedDecimal.zero  // does not restore (the pool is liquidating)
        var high = step               // restores
        while high - low > lot {
            var mid = ((low + high).divided(by: FixedDecimal(2), rounding: .down) ?? low).rounded(toDigits: digits, rule: .down)
            if mid <= low { mid = low + lot }
            if mid >= high { break }
            if restores(mid) { high = mid } else { low = mid }
        }
        return high
    }

    /// One liquidation step on a pool holding options (the type's documentation). Returns false
    /// when nothing can act now.
    mutating func liquidateOptionPool(_ a: Int, _ record: EngineAccount, _ evaluation: AccountEvaluation) -> Bool {
        let pool = evaluation.cross
        let bankrupt = !pool.equity.isPositive
        let ranked = rankedSteps(record, pool)
        guard let first = ranked.first else { return false }
        let cutting = bankrupt ? ranked : ranked.filter { $0.riskCut.isPositive }
        let eligible = cutting.isEmpty ? ranked : cutting
        guard let chosen = eligible.first(where: \.canTrade) else {
            if state.parameters.deltaHedgeEnabled, !bankrupt, let thin = cutting.first(where: { isOption($0.instrument) && !$0.hasDepth }),
               deltaHedge(a, record, pool, option: thin.instrument) {
                return true
            }
            // Nothing can trade: the best step reports why, as a linear step does — paused:
            // silently; the notional cap used up: `liquidation_throttled` once per interval; no
            // liquidity: the executor's `liquidation_throttled` (it finds nothing to take).
            let i = first.instrument
            guard state.breakers[i].pausedReasons.isEmpty, let mark = state.market.marks[i] else { return false }
            if let cap = state.parameters.liquidationNotionalCap, !(cap - state.breakers[i].capUsed).isPositive {
                if !state.breakers[i].throttleReported {
                    state.breakers[i].throttleReported = true
                    emit(.liquidationThrottled, [("symbol", .text(state.market.instruments[i].symbol)), ("cap", .decimal(cap)),
                                                 ("backlog", .integer(Int64(state.backlog.count)))])
                }
                return false
            }
            return execute(a, first.position, quantity: first.quantity, bankruptcy: nil, mark: mark)
        }
        let mark = state.market.marks[chosen.instrument]!
        var quantity = chosen.quantity
        if !bankrupt {
            var untilCured = false
            if case .liquidating(let until)? = record.procedures[.cross] { untilCured = until }
            quantity = neededQuantity(record, chosen.position, step: chosen.quantity, mark: mark, untilCured: untilCured)
        }
        // The notional cap: the most whole lots that fit the room.
        if let cap = state.parameters.liquidationNotionalCap {
            let instrument = state.market.instruments[chosen.instrument]
            let room = cap - state.breakers[chosen.instrument].capUsed
            if notional(quantity, instrument, price: mark) > room {
                let perContract = notional(.one, instrument, price: mark)
                let fitting = perContract.isPositive
                    ? FixedDecimal.minimum(quantity, (room.divided(by: perContract, rounding: .down) ?? .zero).rounded(toDigits: 8, rule: .down)) : .zero
                guard fitting.isPositive else { return false }
                quantity = fitting
            }
        }
        return execute(a, chosen.position, quantity: quantity, bankruptcy: nil, mark: mark)
    }

    /// The pool's delta in the underlying of base `base` (units of the base asset): `q·cs` of
    /// every linear contract on it plus `q·cs·Δ` of every option on it, `Δ` Black-76's
    /// (`OptionGrid.delta` at the option's mark vol), quantized to 10⁻⁸ per option.
    public func poolDelta(_ record: EngineAccount, base: String) -> FixedDecimal {
        let margin = portfolioMargin
        var delta = FixedDecimal.zero
        for position in record.account.positions where record.pool(of: position.instrument) == .cross {
            let instrument = state.market.instruments[position.instrument]
            guard instrument.base == base, !instrument.isInverse else { continue }
            let units = position.quantity * instrument.contractSize
            guard case let .option(right, strike, expiry, underlying) = instrument.kind else { delta += units; continue }
            guard let forward = margin.underlyingPrice(underlying, settle: record.account.settle), forward.isPositive,
                  let vol = margin.impliedVol(position.instrument) else { continue }
            let grid = OptionGrid(forward: DoubleBoundary.double(forward), strike: DoubleBoundary.double(strike),
                                  years: margin.years(to: expiry), rate: DoubleBoundary.double(margin.options.rate), isCall: right == .call)
            let optionDelta = (DoubleBoundary.decimal(grid.delta(vol: vol)) ?? .zero).rounded(toDigits: Self.riskQuantum)
            delta += units * optionDelta
        }
        return delta
    }

    /// The thin-book delta hedge (the type's documentation): trades the underlying of `option`
    /// to flatten the pool's delta when that lowers its maintenance margin. Returns whether it traded.
    mutating func deltaHedge(_ a: Int, _ record: EngineAccount, _ pool: PoolEvaluation, option: Int) -> Bool {
        guard case let .option(_, _, _, underlying) = state.market.instruments[option].kind,
              let u = state.market.instruments.firstIndex(where: { $0.symbol == underlying }),
              record.pool(of: u) == .cross, !isOption(u), state.breakers[u].pausedReasons.isEmpty,
              let mark = state.market.marks[u] else { return false }
        let hedgeInstrument = state.market.instruments[u]
        // A coin-settled option is hedged with an inverse contract, in USD contracts from the coin delta (Engine+InverseOptions.swift).
        let inverse = state.market.instruments[option].isInverseOption
        guard inverse == (hedgeInstrument.kind.settlement == .inverse), hedgeInstrument.contractSize.isPositive else { return false }
        let delta = inverse ? coinPoolDelta(record, base: hedgeInstrument.base) : poolDelta(record, base: hedgeInstrument.base)
        guard let target = inverse ? (-delta).multiplied(by: mark, rounding: .towardZero) : -delta,
              let raw = target.divided(by: hedgeInstrument.contractSize, rounding: .towardZero) else { return false }
        var hedge = raw.rounded(toDigits: 8, rule: .towardZero)
        guard !hedge.isZero else { return false }
        if let cap = state.parameters.liquidationNotionalCap, notional(hedge, hedgeInstrument, price: mark) > cap - state.breakers[u].capUsed { return false }
        // Only when it lowers the pool's maintenance margin (Deribit).
        var hedged = record
        if let k = hedged.positionIndex(u) {
            hedged.account.positions[k].quantity += hedge
            if hedged.account.positions[k].quantity.isZero { hedged.account.positions.remove(at: k) }
        } else {
            hedged.account.positions.append(Position(instrument: u, quantity: hedge, entryPrice: mark, leverage: nil, marginMode: .cross))
        }
        let after = evaluateAccount(hedged, prices: false).cross.maintenanceMargin.rounded(toDigits: Self.riskQuantum)
        guard after < pool.maintenanceMargin.rounded(toDigits: Self.riskQuantum) else { return false }
        // The fills: the in-band book on the hedge's side, the rest to the backstop at the mark.
        let buy = hedge.isPositive
        let band = liquidationBand(u, mark: mark)
        var levels = buy ? state.books[u].asks : state.books[u].bids
        var fills: [(price: FixedDecimal, quantity: FixedDecimal, executor: String)] = []
        var left = hedge.magnitude
        if state.parameters.execution == .depth {
            for n in levels.indices where left.isPositive {
                guard levels[n].quantity.isPositive, levels[n].price >= band.low, levels[n].price <= band.high else { continue }
                let take = FixedDecimal.minimum(left, levels[n].quantity)
                fills.append((levels[n].price, take, "delta_hedge"))
                levels[n].quantity -= take
                left -= take
            }
            let rest = levels.filter { $0.quantity.isPositive }
            if buy { state.books[u].asks = rest } else { state.books[u].bids = rest }
        }
        if left.isPositive && (state.parameters.execution == .backstop || state.parameters.backstopEnabled) {
            fills.append((mark, left, "delta_hedge_backstop"))
            left = .zero
        }
        guard !fills.isEmpty else { return false }
        hedge = buy ? hedge.magnitude - left : -(hedge.magnitude - left)
        var traded = FixedDecimal.zero
        let optionSymbol = state.market.instruments[option].symbol
        for f in fills {
            let outcome = trade(a, u, quantity: buy ? f.quantity : -f.quantity, price: f.price)
            traded += notional(f.quantity, hedgeInstrument, price: f.price)
            emit(.liquidationFill, account: a, [("symbol", .text(hedgeInstrument.symbol)), ("quantity", .decimal(buy ? f.quantity : -f.quantity)),
                                                ("price", .decimal(f.price)), ("executor", .text(f.executor)),
                                                ("bankruptcy_price", .optionalDecimal(nil)), ("realized_pnl", .decimal(outcome.realized)),
                                                ("hedged_option", .text(optionSymbol)), ("pool_delta", .decimal(delta)),
                                                ("hedge_quantity", .decimal(hedge))])
        }
        state.breakers[u].capUsed += traded
        var closedMargin: FixedDecimal? = nil
        chargeLiquidationFee(a, u, key: .cross, closedNotional: traded, closedMargin: &closedMargin)
        evaluateAndAdvance(a, emit: true)
        return true
    }
}
