public import SolventCore
public import SolventRisk

/// Dated instruments in the engine: expiry and cash settlement of futures and options (options
/// pay their intrinsic value at their underlying's expiration price; docs/options.md), and the
/// option and portfolio trading rules of `requireTradable` (Engine+Options.swift).
///
/// **When.** An instrument with an expiry (`linear_future`, `inverse_future`, `option`) expires
/// at the first applied command whose time reaches its expiry (`time ≥ expiry`, where the
/// engine time before the command was `< expiry`). Settlement runs before that command is
/// executed, so the command itself already sees the instrument expired.
///
/// **Settlement price** (`settlementPrice`): a fed `settlement_price` first (for an option: its
/// underlying's expiration price, paid as intrinsic value); else the last fed index price of the instrument when
/// its source time lies in `[expiry − mark_staleness_ms, expiry]`; otherwise the last mark.
/// **Without any of these** (for an option: no fed price and no index or mark of its
/// underlying) settlement is **postponed**, not done at the entry price (which would refund an
/// option's premium): resting orders are still cancelled and trading is refused (the instrument
/// has expired), a `settlement_postponed` event names the instrument, the positions stay open
/// and margined at their last values, and the instrument settles as below when a
/// `settlement_price` for it arrives (accepted after expiry only for a postponed settlement). Venues settle on an average of the index over the last 30 minutes
/// (Binance delivery contracts: the mean of the per-second index over the last 30 minutes before
/// delivery; Deribit: the index's time-weighted average over the last 30 minutes,
/// https://www.deribit.com/docs/expiration-price/); this engine
/// keeps one index price per instrument, so it uses the last fresh one — a feed that wants the
/// venue's average sends it as the last `index` before expiry.
///
/// **What happens.** Every resting order on the instrument is cancelled (`order_cancelled`,
/// `reason: "expired"`); every position is closed at the settlement price with no fee through
/// the same trade path as a fill (`applyTrade`): PnL is realized against the clearing side, an
/// isolated pool settles into its own margin and a deficit there goes to the insurance fund,
/// socialized loss and bad debt (`releaseIsolatedPool`); a cross pool left with no positions
/// and a negative settle balance is settled like any emptied pool (`settleDebtWithoutPositions`).
/// One `settled` event per position, then one `expired` event per instrument. Afterwards orders
/// and fills on the instrument are rejected (`instrument_expired`, 2011).
extension Engine {
    /// The expiry of instrument `i` (ms), nil for a perpetual.
    func expiry(_ i: Int) -> Int64? {
        switch state.market.instruments[i].kind {
        case .perpetual: return nil
        case .future(_, let expiry): return expiry
        case .option(_, _, let expiry, _): return expiry
        }
    }

    /// Whether instrument `i` has expired at the engine's time.
    public func isExpired(_ i: Int) -> Bool {
        guard let expiry = expiry(i) else { return false }
        return state.time >= expiry
    }

    /// Rejects trading (orders, fills) in an expired instrument; for account `a`, the option and
    /// portfolio rules of `requireOptionRules` (Engine+Options.swift).
    func requireTradable(_ i: Int, account a: Int? = nil, field: String = "symbol") throws(RejectReason) {
        if isExpired(i) {
            throw RejectReason(.instrumentExpired, field: field, "\(state.market.instruments[i].symbol) expired at \(expiry(i)!)")
        }
        // The option and portfolio rules bind options and portfolio accounts only (for a standard
        // account and a perpetual or future `requireOptionRules` returns at its option test):
        // skipped there, with its copy of the instrument (issue 18: 0.54 K of a pre-trade check).
        if let a, state.accounts[a].isPortfolio || isOption(i) {
            try requireOptionRules(i, portfolio: state.accounts[a].isPortfolio, isolated: state.accounts[a].isolated.contains(i), field: field,
                                   settle: state.accounts[a].account.settle)
        }
    }

    /// The starting positions of an account must be in tradable instruments (not expired; the
    /// option and portfolio rules for an account of `mode`).
    func requireTradablePositions(_ account: Account, mode: AccountMode = .standard) throws(RejectReason) {
        try requireStartPositionsInRange(account)  // Engine+StartRange.swift
        for (k, position) in account.positions.enumerated() {
            let field = "positions[\(k)].symbol"
            try requireTradable(position.instrument, field: field)
            if mode == .portfolio, !position.marginMode.isCross {
                throw RejectReason(.invalidInput, field: "positions[\(k)].margin_mode", "a portfolio account has one pool: no isolated margin")
            }
            try requireOptionRules(position.instrument, portfolio: mode == .portfolio, isolated: !position.marginMode.isCross, field: field,
                                   settle: account.settle)
        }
    }

    /// The price instrument `i` settles at (see the type's documentation).
    func settlementPrice(_ i: Int, expiry: Int64) -> (price: FixedDecimal, source: String)? {
        if let fed = optionState.settlementPrices[i] {
            return (optionPayoff(i, underlying: fed) ?? fed, "settlement_price")
        }
        if case let .option(_, _, _, underlying) = state.market.instruments[i].kind {
            // An option pays its intrinsic value at its underlying's price (index, else mark, as for a future).
            guard let u = state.market.instruments.firstIndex(where: { $0.symbol == underlying }),
                  let price = settlementPrice(u, expiry: expiry) else { return nil }
            return (optionPayoff(i, underlying: price.price) ?? .zero, "underlying_\(price.source)")
        }
        if let index = state.indexPrices[i], index.sourceTime <= expiry, expiry - index.sourceTime <= state.parameters.markStalenessMs {
            return (index.price, "index")
        }
        if let mark = state.market.marks[i] { return (mark, "mark") }
        return nil
    }

    /// Intrinsic value per contract unit of option `i` at underlying price `price`: `max(0, F − K)`
    /// for a call, `max(0, K − F)` for a put; nil for other instruments.
    /// A coin-settled option's is in coin per coin of underlying, rounded down (a holder's; a
    /// writer pays the value rounded up: `settle`, Engine+InverseOptions.swift).
    func optionPayoff(_ i: Int, underlying price: FixedDecimal) -> FixedDecimal? {
        if isInverseOption(i) { return inverseOptionPayoff(i, underlying: price, roundingUp: false) }
        guard case let .option(right, strike, _, _) = state.market.instruments[i].kind else { return nil }
        return FixedDecimal.maximum(.zero, right == .call ? price - strike : strike - price)
    }

    /// Settles every instrument whose expiry lies in `(previous, state.time]`; returns the accounts touched.
    mutating func settleExpiries(since previous: Int64) -> [Int] {
        var touched: [Int] = []
        for i in state.market.instruments.indices {
            guard let expiry = expiry(i), previous < expiry, expiry <= state.time else { continue }
            touched += settle(i, expiry: expiry)
        }
        return touched
    }

    /// Whether instrument `i` expired and waits for a `settlement_price` (see the type's documentation).
    func isSettlementPending(_ i: Int) -> Bool { optionState.pendingSettlements?.contains(i) ?? false }

    /// Expires instrument `i`: cancels its orders, closes its positions at the settlement price
    /// (or, without one, postpones the settlement: see the type's documentation).
    mutating func settle(_ i: Int, expiry: Int64) -> [Int] {
        let symbol = state.market.instruments[i].symbol
        let price = settlementPrice(i, expiry: expiry)
        var touched: [Int] = []
        defer {
            var o = optionState
            if price == nil {
                o.pendingSettlements = ((o.pendingSettlements ?? []) + [i]).sorted()
                state.optionMarks = o
                emit(.settlementPostponed, [("symbol", .text(symbol)), ("expiry", .integer(expiry)),
                                            ("positions", .integer(Int64(holders(of: i).count))),
                                            ("reason", .text("no settlement_price and no index or mark at expiry: waiting for settlement_price"))])
            } else if let pending = o.pendingSettlements, pending.contains(i) {
                o.pendingSettlements = pending.filter { $0 != i }
                state.optionMarks = o
            }
        }
        // Resting orders, in a deterministic order (by account, then placement).
        for a in state.accounts.indices {
            for id in state.accounts[a].orders {
                guard let order = state.openOrder(account: a, id: id), order.instrument == i else { continue }
                removeOrder(a, id)
                emit(.orderCancelled, account: a, [("order", .text(id)), ("released_margin", .decimal(order.reservedMargin)),
                                                   ("reason", .text("expired"))])
                touched.append(a)
            }
        }
        guard let price else { return touched }  // postponed (the defer above)
        var positions = 0
        for a in state.accounts.indices {
            guard let k = state.accounts[a].positionIndex(i) else { continue }
            let position = state.accounts[a].account.positions[k]
            var settlePrice = price.price
            // A coin-settled option's writer pays its intrinsic value rounded up (Engine+InverseOptions.swift).
            if position.quantity.isNegative, isInverseOption(i), let s = inverseOptionSettlementUnderlying(i, expiry: expiry),
               let owed = inverseOptionPayoff(i, underlying: s, roundingUp: true) {
                settlePrice = owed
            }
            let realized = applyTrade(a, i, quantity: -position.quantity, price: settlePrice)
            if state.accounts[a].pool(of: i) == .cross { settleDebtWithoutPositions(a) }
            positions += 1
            emit(.settled, account: a, [("symbol", .text(symbol)), ("quantity", .decimal(position.quantity)),
                                        ("entry_price", .decimal(position.entryPrice)), ("settlement_price", .decimal(settlePrice)),
                                        ("realized_pnl", .decimal(realized)), ("pool", .text(poolName(state.accounts[a].pool(of: i), account: a)))])
            touched.append(a)
        }
        emit(.expired, [("symbol", .text(symbol)), ("expiry", .integer(expiry)),
                        ("settlement_price", .optionalDecimal(price.price)), ("source", .text(price.source)),
                        ("positions_settled", .integer(Int64(positions)))])
        return touched
    }
}
