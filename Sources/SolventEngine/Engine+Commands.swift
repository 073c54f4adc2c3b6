public import SolventCore
public import SolventRisk

extension Engine {
    /// Executes one command; validates everything before changing anything.
    /// Returns the accounts it touched (to re-evaluate).
    mutating func execute(_ command: EngineCommand) throws(RejectReason) -> [Int] {
        switch command {
        case let .deposit(account, asset, amount, settle): return try deposit(account, asset, amount, settle)
        case let .withdraw(account, asset, amount): return try withdraw(account, asset, amount)
        case let .placeOrder(id, account, symbol, quantity, price, reduceOnly):
            return try placeOrder(id: id, account, symbol, quantity, price, reduceOnly)
        case let .cancelOrder(id, account):
            let (a, key) = try resolveCancel(id, account: account)
            let order = state.orders.removeValue(forKey: key)!  // one lookup of the key (issue 18)
            state.accounts[a].orders.removeAll { $0 == id }
            emit(.orderCancelled, account: order.account, [("order", .text(id)), ("released_margin", .decimal(order.reservedMargin))])
            return []  // orders change no evaluation input: nothing to re-evaluate (see placeOrder)
        case let .fill(account, symbol, quantity, price, fee, orderID): return try fill(account, symbol, quantity, price, fee, orderID)
        case let .markPrice(symbol, price, sourceTime):
            let quoted = fedQuoteReference(symbol)  // Engine+StaleOptionMarks.swift: stale fed option marks follow the model
            return try markPrice(symbol, price, sourceTime) + followSurfaces(symbol) + followFedOptionMarks(symbol, from: quoted)  // Engine+SurfaceFollow.swift
        case let .indexPrice(symbol, price, sourceTime):
            let i = try instrumentIndex(symbol)
            guard price.isPositive else { throw RejectReason(.invalidInput, field: "price", "must be positive") }
            state.indexPrices[i] = SourcedPrice(price: price, sourceTime: sourceTime)
            return []
        case let .assetPrice(asset, price):
            let a = try assetIndex(asset)
            guard price.isPositive else { throw RejectReason(.invalidInput, field: "price", "must be positive") }
            state.market.assets[a].price = price
            return state.accounts.indices.filter { k in state.accounts[k].account.collateral.contains { $0.asset == a && !$0.amount.isZero } || state.accounts[k].account.settle == a }
                + followAssetSurfaces(asset)  // Engine+SurfaceFollow.swift: options on an asset price
        case let .book(symbol, bids, asks):
            let i = try instrumentIndex(symbol)
            try validateBook(bids, descending: true, field: "bids")
            try validateBook(asks, descending: false, field: "asks")
            state.books[i] = OrderBook(bids: bids, asks: asks)
            return []
        case let .funding(symbol, rate): return try funding(symbol, rate)
        case let .setLeverage(account, symbol, leverage): return try setLeverage(account, symbol, leverage)
        case let .setMarginMode(account, symbol, isolated):
            let a = try accountIndex(account)
            let i = try instrumentIndex(symbol)
            let record = state.accounts[a]
            if isolated { try requireIsolatable(a, i) }  // Engine+Options.swift
            if record.positionIndex(i) != nil || record.orders.contains(where: { state.openOrder(account: a, id: $0)?.instrument == i }) {
                throw RejectReason(.modeChangeWithPosition, field: "symbol", "cannot change margin mode with an open position or orders in \(symbol)")
            }
            if isolated { state.accounts[a].isolated.insert(i) } else { state.accounts[a].isolated.remove(i) }
            emit(.marginModeSet, account: a, [("symbol", .text(symbol)), ("mode", .text(isolated ? "isolated" : "cross"))])
            return [a]
        case let .moveIsolatedMargin(account, symbol, amount): return try moveIsolatedMargin(account, symbol, amount)
        case let .changeParameters(change, effectiveTime): return try scheduleChange(change, effectiveTime)
        case .tick: return []
        case let .chainDeposit(account, asset, amount, settle, chain, height, blockHash):
            return try chainDeposit(account, asset, amount, settle, chain: chain, height: height, hash: blockHash)
        case let .chainTip(chain, height): return try chainTip(chain, height)
        case let .chainReorg(chain, forkHeight, newHashes): return try chainReorg(chain, forkHeight, newHashes)
        case let .borrow(account, asset, amount): return try borrow(account, asset, amount)  // Engine+Borrowing.swift
        case let .repay(account, asset, amount): return try repay(account, asset, amount)
        case let .optionMark(symbol, price, vol, sourceTime): return try optionMark(symbol, price, vol, sourceTime)  // Engine+Options.swift
        case let .setAccountMode(account, portfolio): return try setAccountMode(account, portfolio: portfolio)
        case let .settlementPrice(symbol, price): return try settlementPrice(symbol, price)
        case let .volSurface(underlying, expiry, strikes, vols, sourceTime, sticky):
            return try volSurface(underlying, expiry, strikes, vols, sourceTime, sticky: sticky)  // Engine+VolSurface.swift
        case let .deliver(messageID, fromShard, body): return try deliver(messageID, fromShard: fromShard, body)  // Engine+Shards.swift
        }
    }

    func validateBook(_ levels: [BookLevel], descending: Bool, field: String) throws(RejectReason) {
        for (k, level) in levels.enumerated() {
            guard level.price.isPositive, level.quantity.isPositive else {
                throw RejectReason(.invalidInput, field: "\(field)[\(k)]", "price and quantity must be positive")
            }
            if k > 0 {
                let ordered = descending ? level.price < levels[k - 1].price : level.price > levels[k - 1].price
                guard ordered else { throw RejectReason(.invalidInput, field: "\(field)[\(k)].price", descending ? "bids must fall strictly" : "asks must rise strictly") }
            }
        }
    }

    mutating func deposit(_ id: String, _ assetSymbol: String, _ amount: FixedDecimal, _ settle: String?) throws(RejectReason) -> [Int] {
        let asset = try assetIndex(assetSymbol)
        guard amount.isPositive else { throw RejectReason(.invalidInput, field: "amount", "must be positive, got \(amount)") }
        let a = try openAccountIfNeeded(id, settle: settle, defaultSettle: asset)
        try requirePortfolioCollateral(a, asset: asset, field: "asset")  // a coin-settled portfolio: Engine+InverseOptions.swift
        state.accounts[a].credit(asset, amount)
        state.totals[asset].deposited += amount
        emitCommandEvent(.deposited, account: a, .deposited(asset: assetSymbol, amount: amount, balance: state.accounts[a].balance(asset)))  // a compact record (CommandEventRecord.swift)
        return [a]
    }

    /// The account's index, opening it (settled in `settle`, else `defaultSettle`) when new.
    mutating func openAccountIfNeeded(_ id: String, settle: String?, defaultSettle: Int) throws(RejectReason) -> Int {
        if let a = knownAccount(id) { return a }
        guard !id.isEmpty else { throw RejectReason(.invalidInput, field: "account", "must not be empty") }
        let settleAsset = try settle.map { s throws(RejectReason) in try assetIndex(s, field: "settle") } ?? defaultSettle
        state.accountIndex[id] = state.accounts.count
        state.accounts.append(EngineAccount(account: Account(id: id, settle: settleAsset, collateral: [], positions: [])))
        let a = state.accounts.count - 1
        emit(.accountOpened, account: a, [("settle", .text(state.market.assets[settleAsset].symbol))])
        return a
    }

    mutating func withdraw(_ id: String, _ assetSymbol: String, _ amount: FixedDecimal) throws(RejectReason) -> [Int] {
        let a = try accountIndex(id)
        let asset = try assetIndex(assetSymbol)
        guard amount.isPositive else { throw RejectReason(.invalidInput, field: "amount", "must be positive, got \(amount)") }
        let record = state.accounts[a]
        if let pool = record.procedures.sorted(by: { $0.key < $1.key }).first(where: { $0.value.restrictsAccount }) {
            throw RejectReason(.withdrawalInMarginCall, field: "account", "withdrawals are blocked while pool \(poolName(pool.key)) is in a margin call")
        }
        // Unconfirmed on-chain deposits may count as collateral (at a haircut) but never leave.
        let unconfirmed = state.chainDeposits.filter { $0.account == a && $0.asset == asset && !$0.isFinal }.reduce(FixedDecimal.zero) { $0 + $1.credited }
        // Borrowed funds are held (the balance is net of the loan, docs/loans.md): they may leave.
        let held = record.balance(asset) + state.lending.owed(account: a, asset: asset)
        guard held - unconfirmed >= amount else {
            throw RejectReason(.insufficientBalance, field: "amount",
                               "withdrawable \(held - unconfirmed) \(assetSymbol) (balance \(held), unconfirmed \(unconfirmed)) is below \(amount)")
        }
        var after = record
        after.credit(asset, -amount)
        let free = Self.withdrawable(evaluateAccount(after, prices: false).cross) - reservedMargin(a)
        if free.isNegative {
            throw RejectReason(.insufficientMargin, field: "amount",
                               "would leave the cross pool \(free.magnitude) below initial margin plus open-order margin (unrealized profit is not withdrawable)")
        }
        state.accounts[a] = after
        state.totals[asset].withdrawn += amount
        state.payouts.append(Payout(sequence: state.commandsApplied, account: id, asset: asset, amount: amount))
        emit(.withdrew, account: a, [("asset", .text(assetSymbol)), ("amount", .decimal(amount)), ("balance", .decimal(after.balance(asset)))])
        return [a]
    }

    /// What a pool lets leave it, before open-order margin: `collateral − IM + min(0, uPnL)`
    /// (negative when short). Unrealized profit counts as margin but is not withdrawable until
    /// realized (as Binance and Bybit do); unrealized loss reduces what may leave.
    static func withdrawable(_ pool: PoolEvaluation) -> FixedDecimal {
        pool.collateral + FixedDecimal.minimum(.zero, pool.equity - pool.collateral) - pool.initialMargin
    }

    /// What account `a` may withdraw of its settle asset now: `max(0, min(balance − unconfirmed
    /// deposits, cross collateral − IM − open-order margin + min(0, cross uPnL)))`, 0 in a margin
    /// call. A withdrawal of exactly this amount is accepted.
    public func withdrawable(_ id: String) -> FixedDecimal? {
        guard let a = state.accountIndex[id] else { return nil }
        let record = state.accounts[a]
        if isInCall(a) { return .zero }
        let settle = record.account.settle
        let unconfirmed = state.chainDeposits.filter { $0.account == a && $0.asset == settle && !$0.isFinal }.reduce(FixedDecimal.zero) { $0 + $1.credited }
        let free = Self.withdrawable(evaluateAccount(record, prices: false).cross) - reservedMargin(a)
        // Collateral counts at its haircut value; the settle asset has none unless the market sets one.
        let haircut = state.market.assets[settle].haircut
        // free / (1 − haircut): beyond the decimal range (a haircut a few units of 10^-18 below 1)
        // it is more than the balance (or, negative, nothing).
        let byMargin = haircut < .one ? (free.divided(by: FixedDecimal.one - haircut, rounding: .halfEven) ?? (free.isNegative ? .zero : record.balance(settle))) : free
        let held = record.balance(settle) + state.lending.owed(account: a, asset: settle)  // net of a loan (docs/loans.md)
        return FixedDecimal.maximum(.zero, FixedDecimal.minimum(held - unconfirmed, byMargin))
    }

    /// Margin reserved by the account's open orders (settle units).
    func reservedMargin(_ a: Int) -> FixedDecimal {
        var total = FixedDecimal.zero
        for id in state.accounts[a].orders { total += state.openOrder(account: a, id: id)?.reservedMargin ?? .zero }
        return total
    }

    func isInCall(_ a: Int) -> Bool {
        state.accounts[a].procedures.values.contains { $0.restrictsAccount }
    }

    func notional(_ quantity: FixedDecimal, _ instrument: Instrument, price: FixedDecimal) -> FixedDecimal {
        PositionMath.notional(size: quantity.magnitude * instrument.contractSize, mark: price, inverse: instrument.kind.settlement == .inverse)
    }

    /// `notional`, or nil when it does not fit the decimal range.
    func checkedNotional(_ quantity: FixedDecimal, _ instrument: Instrument, price: FixedDecimal) -> FixedDecimal? {
        checkedNotional(quantity, contractSize: instrument.contractSize, inverse: instrument.kind.settlement == .inverse, price: price)
    }

    /// `checkedNotional` from the instrument's contract size and settlement (no copy of the instrument).
    func checkedNotional(_ quantity: FixedDecimal, contractSize: FixedDecimal, inverse: Bool, price: FixedDecimal) -> FixedDecimal? {
        guard let size = quantity.magnitude.multiplied(by: contractSize, rounding: .halfEven) else { return nil }
        if inverse { return size.divided(by: price, rounding: .halfEven) }
        return size.multiplied(by: price, rounding: .halfEven)
    }

    mutating func placeOrder(id: String, _ accountID: String, _ symbol: String, _ quantity: FixedDecimal, _ price: FixedDecimal,
                             _ reduceOnly: Bool) throws(RejectReason) -> [Int] {
        let check = try checkOrder(id: id, account: accountID, symbol: symbol, quantity: quantity, price: price, reduceOnly: reduceOnly)
        let a = check.account
        // Stored under the id text unless another account's order holds that key (EngineState.orderKey).
        // One hash of the id in the common case (issue 18): the plain key is tried first; when
        // another account's order holds it, that order goes back and this one takes the scoped key.
        let order = OpenOrder(id: id, account: a, instrument: check.instrument, quantity: quantity, price: price,
                              reduceOnly: check.reduceOnly, reservedMargin: check.reservedMargin)
        if let other = state.orders.updateValue(order, forKey: id) {
            state.orders[id] = other
            state.orders[EngineState.scopedOrderKey(account: a, id: id)] = order
        }
        state.accounts[a].orders.append(id)
        emitCommandEvent(.orderAccepted, account: a, .orderAccepted(order: id, symbol: symbol, quantity: quantity, price: price,
                                                                    reservedMargin: check.reservedMargin))  // a compact record (CommandEventRecord.swift)
        // Nothing to re-evaluate: an account's evaluation, procedure and bands read its balances,
        // positions and the market, never its orders (evaluateAccount, advance, bands), so the
        // re-evaluation after an order only repeated the last one (issue 18: 45 % of the order's
        // instructions). The property test index ≡ full rescan covers it.
        return []
    }

    /// The pre-trade check of an order, without placing it: every rule of `place_order`
    /// (account, instrument, settle asset, mark, reduce-only and margin-call restrictions, stale
    /// marks, position limit, leverage against the bracket, initial margin against free margin).
    /// Throws the reason `place_order` would reject with; changes nothing.
    public func checkOrder(id: String, account accountID: String, symbol: String, quantity: FixedDecimal, price: FixedDecimal,
                           reduceOnly: Bool) throws(RejectReason) -> OrderCheck {
        guard !id.isEmpty else { throw RejectReason(.invalidInput, field: "id", "must not be empty") }
        if let problem = EngineState.orderIDProblem(id) { throw RejectReason(.invalidInput, field: "id", problem) }  // Engine+OrderIDs.swift
        let a = try accountIndex(accountID)
        // Order ids are the account's own: only its own open orders can collide with a new one.
        // The account's own list first: an open order of it is always listed (Engine+Invariants),
        // and a new id then costs no storage-key lookups (issue 18).
        guard !(state.accounts[a].orders.contains(id) && state.openOrder(account: a, id: id) != nil) else {
            throw RejectReason(.duplicateOrder, field: "id", "order \"\(id)\" already exists")
        }
        let i = try instrumentIndex(symbol)
        try requireTradable(i, account: a)  // Engine+Expiry.swift
        guard !quantity.isZero else { throw RejectReason(.invalidInput, field: "quantity", "must not be zero") }
        guard price.isPositive else { throw RejectReason(.invalidInput, field: "price", "must be positive") }
        // The record's and the instrument's fields are read in place below (a copy of the whole
        // `EngineAccount` or `Instrument` retained and released each of its arrays, strings and
        // dictionaries: issue 18).
        guard state.accounts[a].orders.count < RangeContract.maxOrdersPerAccount else {
            throw RejectReason(.outOfRange, field: "account", "out of range: an account holds at most \(RangeContract.maxOrdersPerAccount) resting orders")
        }
        let settle = state.accounts[a].account.settle
        guard state.market.assets[settle].symbol == state.market.instruments[i].settle else {
            throw RejectReason(.settleMismatch, field: "symbol", "\(symbol) settles in \(state.market.instruments[i].settle), the account in \(state.market.assets[settle].symbol)")
        }
        _ = try mark(i)
        let contractSize = state.market.instruments[i].contractSize
        let inverse = state.market.instruments[i].kind.settlement == .inverse
        let position = positionQuantity(a, i)
        // Sums over resting orders and the exposure's notional use checked arithmetic: a total
        // beyond the decimal range is refused (out of range), never a trap.
        let overflow = RejectReason(.outOfRange, field: "quantity", "out of range: the account's resting orders and this one exceed the decimal range")
        func sum(_ values: [FixedDecimal]) throws(RejectReason) -> FixedDecimal {
            var total = FixedDecimal.zero
            for value in values {
                guard let next = try? total.addingChecked(value) else { throw overflow }
                total = next
            }
            return total
        }
        // The account's open orders, looked up once (issue 18: three passes by id before), in list order.
        let openOrders = state.accounts[a].orders.compactMap { state.openOrder(account: a, id: $0) }
        let pendingReduce = try sum(openOrders.filter { $0.instrument == i && $0.reduceOnly }.map(\.quantity))
        let reduces = !position.isZero && position.signum != quantity.signum && (pendingReduce + quantity).magnitude <= position.magnitude
        if reduceOnly || isInCall(a) {
            guard reduces else {
                if isInCall(a) { throw RejectReason(.reduceOnlyInMarginCall, field: "quantity", "the account is in a margin call: only orders that reduce a position are accepted") }
                throw RejectReason(.wouldNotReduce, field: "quantity", "a reduce-only order must reduce the \(symbol) position (\(position))")
            }
        }
        if !reduces, let marginal = try marginalOrderCheck(a, i, quantity: quantity, price: price) {  // portfolio accounts, options: Engine+Portfolio.swift
            return OrderCheck(account: a, instrument: i, reduces: false, reduceOnly: reduceOnly, reservedMargin: marginal.reserved, freeMargin: marginal.free)
        }
        var reserved = FixedDecimal.zero
        var free: FixedDecimal? = nil
        if !reduces {
            if isStale(i) { throw RejectReason(.staleMark, field: "symbol", "the mark of \(symbol) is stale: risk-increasing orders are frozen") }
            let sameSide = try sum(openOrders.filter { $0.instrument == i && !$0.reduceOnly && $0.quantity.signum == quantity.signum }
                .map(\.quantity))
            // An order against the position first closes what resting reduce-only orders leave
            // of it; only the rest opens (and needs margin, and counts toward the bracket).
            let closable = position.signum == -quantity.signum ? FixedDecimal.maximum(.zero, position.magnitude - pendingReduce.magnitude) : .zero
            let openingSize = FixedDecimal.maximum(.zero, quantity.magnitude - closable)
            let opening = quantity.isNegative ? -openingSize : openingSize
            let exposure = try sum([position.signum == quantity.signum ? position : .zero, sameSide, opening])
            guard let newNotional = checkedNotional(exposure, contractSize: contractSize, inverse: inverse, price: price) else { throw overflow }
            let table = state.market.instruments[i].brackets
            if newNotional >= table.brackets[table.brackets.count - 1].notionalCap {
                throw RejectReason(.positionLimit, field: "quantity", "notional \(newNotional) reaches the position limit \(table.brackets[table.brackets.count - 1].notionalCap)")
            }
            let bracket = table.bracket(forNotional: newNotional)
            let leverage = state.accounts[a].leverage[i] ?? bracket.maxLeverage
            if leverage > bracket.maxLeverage {
                throw RejectReason(.leverageAboveBracket, field: "quantity", "leverage \(leverage) is above \(bracket.maxLeverage), the maximum for notional \(newNotional)")
            }
            reserved = PositionMath.notional(size: opening.magnitude * contractSize, mark: price, inverse: inverse) / leverage  // `notional`
            let cross = crossEquityAndInitialMargin(a)  // the last evaluation's numbers when still valid (PoolNumbersCache.swift)
            let resting = try sum(openOrders.map(\.reservedMargin))
            guard let available = try? cross.equity.subtractingChecked(cross.initialMargin).subtractingChecked(resting) else { throw overflow }
            free = available
            if available < reserved {
                throw RejectReason(.insufficientMargin, field: "quantity", "needs \(reserved) initial margin, \(FixedDecimal.maximum(.zero, available)) available")
            }
        }
        return OrderCheck(account: a, instrument: i, reduces: reduces, reduceOnly: reduceOnly || reduces && isInCall(a),
                          reservedMargin: reserved, freeMargin: free)
    }

    /// Removes account `a`'s open order `id` (if any).
    mutating func removeOrder(_ a: Int, _ id: String) {
        guard let key = state.orderKey(account: a, id: id), state.orders.removeValue(forKey: key) != nil else { return }
        state.accounts[a].orders.removeAll { $0 == id }
    }

    mutating func fill(_ accountID: String, _ symbol: String, _ quantity: FixedDecimal, _ price: FixedDecimal, _ fee: FixedDecimal,
                       _ orderID: String?) throws(RejectReason) -> [Int] {
        let a = try accountIndex(accountID)
        let i = try instrumentIndex(symbol)
        try requireTradable(i, account: a)  // Engine+Expiry.swift
        guard !quantity.isZero else { throw RejectReason(.invalidInput, field: "quantity", "must not be zero") }
        guard price.isPositive else { throw RejectReason(.invalidInput, field: "price", "must be positive") }
        _ = try mark(i)
        let instrument = state.market.instruments[i]
        let settle = state.accounts[a].account.settle
        guard state.market.assets[settle].symbol == instrument.settle else {
            throw RejectReason(.settleMismatch, field: "symbol", "\(symbol) settles in \(instrument.settle)")
        }
        var order: OpenOrder? = nil
        if let orderID {
            guard let found = state.openOrder(account: a, id: orderID), found.instrument == i else {
                throw RejectReason(.unknownOrder, field: "order_id", "no open order \"\(orderID)\" of this account in \(symbol)")
            }
            guard found.quantity.signum == quantity.signum else { throw RejectReason(.invalidInput, field: "quantity", "fill side differs from order \(orderID)") }
            order = found
        }
        // A fill on a reduce-only order, and any fill while the account is in a margin call or
        // being liquidated, may only reduce the position: it is capped at the position (and at a
        // reduce-only order's remaining quantity); the excess is rejected and nothing of it applied.
        var applied = quantity
        let reduceOnly = order?.reduceOnly ?? false
        if reduceOnly || isInCall(a) {
            let position = positionQuantity(a, i)
            var limit = position.isZero || position.signum == quantity.signum ? FixedDecimal.zero : position.magnitude
            if let order, order.reduceOnly { limit = FixedDecimal.minimum(limit, order.quantity.magnitude) }
            if quantity.magnitude > limit { applied = quantity.isNegative ? -limit : limit }
            if applied.isZero {
                throw RejectReason(reduceOnly ? .wouldNotReduce : .reduceOnlyInMarginCall, field: "quantity",
                                   reduceOnly ? "a fill on reduce-only order \(order!.id) must reduce the \(symbol) position (\(position))"
                                              : "the account is in a margin call: a fill may only reduce the \(symbol) position (\(position))")
            }
        }
        if let order {
            let remaining = order.quantity - applied
            if remaining.isZero || remaining.signum != order.quantity.signum {
                removeOrder(a, order.id)
            } else {
                state.orders.modify(state.orderKey(account: a, id: order.id)!) { open in
                    open.reservedMargin = order.reservedMargin * (remaining / order.quantity)
                    open.quantity = remaining
                }
            }
        }
        // The fee is charged on what was applied.
        // fee · applied / quantity (|applied| ≤ |quantity|, so at most the fee): the ordinary two
        // roundings when fee · applied fits, else one on a 256-bit intermediate.
        let appliedFee = applied == quantity ? fee
            : (fee.multiplied(by: applied, rounding: .halfEven).flatMap { $0.divided(by: quantity, rounding: .halfEven) }
               ?? fee.multiplied(by: applied, dividedBy: quantity, rounding: .halfEven) ?? fee)
        let realized = applyTrade(a, i, quantity: applied, price: price)
        state.accounts[a].credit(settle, -appliedFee)
        state.totals[settle].fees += appliedFee
        emitCommandEvent(.filled, account: a, .filled(symbol: symbol, quantity: applied, price: price, fee: appliedFee, realizedPnl: realized,
                                                      position: positionQuantity(a, i)))  // a compact record (CommandEventRecord.swift)
        // A fill that closes the last cross position with a negative settle balance leaves a
        // deficit: settled as an emptied pool's (other collateral, fund, bad debt). A wallet
        // overdrawn by the opening margin of an isolated position is no such deficit.
        if state.accounts[a].pool(of: i) == .cross { settleDebtWithoutPositions(a) }
        if applied != quantity {
            let reason = RejectReason(reduceOnly ? .wouldNotReduce : .reduceOnlyInMarginCall, field: "quantity",
                                      "excess \(quantity - applied) of the fill not applied: "
                                      + (reduceOnly ? "reduce-only order \(order!.id) may only close the position" : "the account is in a margin call"))
            emit(.rejected, account: a, [("code", .integer(Int64(reason.code.rawValue))), ("field", .text(reason.field)), ("reason", .text(reason.message)),
                                         ("excess", .decimal(quantity - applied))])
        }
        return [a]
    }

    func positionQuantity(_ a: Int, _ i: Int) -> FixedDecimal {
        state.accounts[a].positionIndex(i).map { state.accounts[a].account.positions[$0].quantity } ?? .zero
    }

    /// Realized PnL of closing `closed` contracts (magnitude) of a position with `side` and `entry` at `price`.
    func realizedPnl(side: Int, closed: FixedDecimal, entry: FixedDecimal, price: FixedDecimal, instrument: Instrument) -> FixedDecimal {
        PositionMath.unrealizedPnl(side: side, size: closed * instrument.contractSize, entry: entry, mark: price, inverse: instrument.kind.settlement == .inverse)
    }

    /// What a trade did: the realized PnL, and the margin left in an isolated pool whose
    /// position it closed (not yet settled; nil when no isolated position closed).
    struct TradeOutcome {
        var realized: FixedDecimal
        var closedIsolatedMargin: FixedDecimal?
    }

    /// Applies a trade (`trade`) and settles an isolated pool it emptied: a surplus returns to
    /// the wallet, a deficit goes to the fund, socialized loss, bad debt — never the wallet
    /// (`releaseIsolatedPool`). Returns the realized PnL (settle units).
    @discardableResult
    mutating func applyTrade(_ a: Int, _ i: Int, quantity: FixedDecimal, price: FixedDecimal) -> FixedDecimal {
        let outcome = trade(a, i, quantity: quantity, price: price)
        if let margin = outcome.closedIsolatedMargin { releaseIsolatedPool(a, i, margin: margin) }
        return outcome.realized
    }

    /// Applies a trade of signed `quantity` at `price` to the account's position: realizes
    /// PnL on the closed part (against the external clearing side; into the isolated margin
    /// for an isolated position), averages the entry on the opened part, and moves initial
    /// margin into an isolated pool as it opens. An isolated position closed whole leaves its
    /// margin in the outcome, for the caller to settle. Resting reduce-only orders are then
    /// resized to the position (`resizeReduceOnlyOrders`).
    mutating func trade(_ a: Int, _ i: Int, quantity: FixedDecimal, price: FixedDecimal) -> TradeOutcome {
        defer { resizeReduceOnlyOrders(a, i) }
        let instrument = state.market.instruments[i]
        let settle = state.accounts[a].account.settle
        let isolated = state.accounts[a].isolated.contains(i)
        // The record is moved out of the array while it changes and moved back below (a copy
        // retained every array and dictionary it holds and destroyed the old record on the write
        // back: issue 18, ≈ 0.8 K instructions per fill). Nothing in between reads `state.accounts[a]`.
        var record = EngineAccount(account: Account(id: "", settle: settle, collateral: [], positions: []))
        swap(&record, &state.accounts[a])
        var realized = FixedDecimal.zero
        var closedIsolatedMargin: FixedDecimal? = nil
        var opened = quantity
        if let k = record.positionIndex(i) {
            var position = record.account.positions[k]
            if position.quantity.signum != quantity.signum {
                let closed = FixedDecimal.minimum(position.quantity.magnitude, quantity.magnitude)
                realized = realizedPnl(side: position.side, closed: closed, entry: position.entryPrice, price: price, instrument: instrument)
                opened = quantity.magnitude > closed ? quantity + (quantity.isNegative ? closed : -closed) : .zero
                position.quantity += quantity.isNegative ? -closed : closed
                if case .isolated(let margin) = position.marginMode { position.marginMode = .isolated(margin: margin + realized) } else { record.credit(settle, realized) }
                if position.quantity.isZero {
                    if case .isolated(let margin) = position.marginMode { closedIsolatedMargin = margin }
                    record.account.positions.remove(at: k)
                } else {
                    record.account.positions[k] = position
                }
            }
            if !opened.isZero, let k = record.positionIndex(i) {
                var position = record.account.positions[k]
                let total = position.quantity + opened
                position.entryPrice = Self.averageEntry(held: position.quantity.magnitude, entry: position.entryPrice,
                                                        opened: opened.magnitude, price: price, inverse: instrument.kind.settlement == .inverse)
                position.quantity = total
                record.account.positions[k] = position
                opened = .zero
                if isolated { moveOpeningMargin(&record, k, quantity: quantity, price: price, instrument: instrument) }
            }
        }
        if !opened.isZero {
            let mode: MarginMode = isolated ? .isolated(margin: .zero) : .cross
            record.account.positions.append(Position(instrument: i, quantity: opened, entryPrice: price, leverage: record.leverage[i], marginMode: mode))
            if isolated { moveOpeningMargin(&record, record.account.positions.count - 1, quantity: opened, price: price, instrument: instrument) }
        }
        swap(&record, &state.accounts[a])
        state.totals[settle].external -= realized
        settlePremium(a, i, quantity: quantity, price: price, realized: realized)  // options: Engine+Options.swift
        return TradeOutcome(realized: realized, closedIsolatedMargin: closedIsolatedMargin)
    }

    /// Resting reduce-only orders of account `a` in instrument `i` after its position changed
    /// (any fill, liquidation or ADL), in placement order: an order on the position's side, or
    /// with no position left, is cancelled; the others keep their quantity while their running
    /// total fits the position, the first one past it is cut to what is left, and the rest are
    /// cancelled (as Binance and Bybit do). So resting reduce-only orders never total more
    /// than the position and can never open or flip one.
    mutating func resizeReduceOnlyOrders(_ a: Int, _ i: Int) {
        let position = positionQuantity(a, i)
        var room = position.magnitude
        for id in state.accounts[a].orders {
            guard let key = state.orderKey(account: a, id: id), let order = state.orders[key], order.instrument == i, order.reduceOnly else { continue }
            if position.isZero || order.quantity.signum == position.signum || room.isZero {
                removeOrder(a, id)
                emit(.orderCancelled, account: a, [("order", .text(id)), ("released_margin", .decimal(order.reservedMargin)),
                                                   ("reason", .text("reduce_only_exceeds_position")), ("position", .decimal(position))])
            } else if order.quantity.magnitude > room {
                let resized = order.quantity.isNegative ? -room : room
                state.orders.modify(key) { open in
                    open.quantity = resized
                    open.reservedMargin = .zero
                }
                room = .zero
                emit(.orderResized, account: a, [("order", .text(id)), ("quantity_before", .decimal(order.quantity)),
                                                 ("quantity", .decimal(resized)), ("position", .decimal(position))])
            } else {
                room -= order.quantity.magnitude
            }
        }
    }

    /// The entry price after adding `opened` contracts at `price` to `held` at `entry`: the
    /// contract-weighted average (harmonic for inverse contracts: contracts / Σ(contracts / price)).
    /// Quantities reach 10^15 (a small contract size), so the sums of products can leave the
    /// decimal range: then the same average is formed from weights ≤ 1 (`held / total`), which
    /// stays between the two prices.
    static func averageEntry(held: FixedDecimal, entry: FixedDecimal, opened: FixedDecimal, price: FixedDecimal, inverse: Bool) -> FixedDecimal {
        let total = held + opened
        if inverse {
            if let a = held.divided(by: entry, rounding: .halfEven), let b = opened.divided(by: price, rounding: .halfEven),
               let sum = try? a.addingChecked(b), let average = total.divided(by: sum, rounding: .halfEven) {
                return average
            }
            // 1 / (w/entry + (1 − w)/price), w = held / total; each term ≤ 10^8.
            let w = held.divided(by: total, rounding: .halfEven) ?? .one
            let inverseSum = w / entry + (FixedDecimal.one - w) / price
            return FixedDecimal.maximum(FixedDecimal.minimum(entry, price), FixedDecimal.minimum(FixedDecimal.maximum(entry, price), FixedDecimal.one / inverseSum))
        }
        if let a = held.multiplied(by: entry, rounding: .halfEven), let b = opened.multiplied(by: price, rounding: .halfEven),
           let sum = try? a.addingChecked(b), let average = sum.divided(by: total, rounding: .halfEven) {
            return average
        }
        // entry + (price − entry) · opened / total, one rounding on a 256-bit intermediate.
        return entry + ((price - entry).multiplied(by: opened, dividedBy: total, rounding: .halfEven) ?? .zero)
    }

    /// Moves the initial margin of an opening trade from the wallet into the isolated pool.
    func moveOpeningMargin(_ record: inout EngineAccount, _ k: Int, quantity: FixedDecimal, price: FixedDecimal, instrument: Instrument) {
        let tradeNotional = notional(quantity, instrument, price: price)
        let bracket = instrument.brackets.bracket(forNotional: tradeNotional)
        let margin = PositionMath.initialMargin(notional: tradeNotional, leverage: record.account.positions[k].leverage, bracket: bracket)
        if case .isolated(let current) = record.account.positions[k].marginMode {
            record.account.positions[k].marginMode = .isolated(margin: current + margin)
            record.credit(record.account.settle, -margin)
        }
    }

    mutating func markPrice(_ symbol: String, _ price: FixedDecimal, _ sourceTime: Int64) throws(RejectReason) -> [Int] {
        let i = try instrumentIndex(symbol)
        guard price.isPositive else { throw RejectReason(.invalidInput, field: "price", "must be positive") }
        if let previous = state.markSources[i], sourceTime < previous.sourceTime {
            throw RejectReason(.invalidInput, field: "source_time", "older than the current mark's source time \(previous.sourceTime)")
        }
        guard sourceTime <= state.time else { throw RejectReason(.invalidInput, field: "source_time", "is in the future of engine time \(state.time)") }
        let old = state.market.marks[i]
        state.market.marks[i] = price
        state.markSources[i] = SourcedPrice(price: price, sourceTime: sourceTime)
        guard let old else { return holders(of: i) }
        return index.crossed(instrument: i, from: old, to: price)
    }

    /// Accounts with a position in instrument `i`.
    func holders(of i: Int) -> [Int] {
        state.accounts.indices.filter { state.accounts[$0].positionIndex(i) != nil }
    }

    mutating func funding(_ symbol: String, _ rate: FixedDecimal) throws(RejectReason) -> [Int] {
        let i = try instrumentIndex(symbol)
        let mark = try mark(i)
        guard rate.magnitude < .one else { throw RejectReason(.invalidInput, field: "rate", "must be within (−1, 1)") }
        let instrument = state.market.instruments[i]
        let settle = try assetIndex(instrument.settle)
        var touched: [Int] = []
        var net = RunningTotal()  // a sum over every holder: exact past the decimal range
        for a in holders(of: i) {
            let k = state.accounts[a].positionIndex(i)!
            let position = state.accounts[a].account.positions[k]
            let payment = notional(position.quantity, instrument, price: mark) * rate * FixedDecimal(position.side)
            if case .isolated(let margin) = position.marginMode {
                state.accounts[a].account.positions[k].marginMode = .isolated(margin: margin - payment)
            } else {
                state.accounts[a].credit(settle, -payment)
            }
            net += payment
            touched.append(a)
            emit(.funding, account: a, [("symbol", .text(symbol)), ("rate", .decimal(rate)), ("mark", .decimal(mark)), ("payment", .decimal(-payment))])
        }
        state.totals[settle].external = state.totals[settle].external + net
        return touched
    }

    mutating func setLeverage(_ accountID: String, _ symbol: String, _ leverage: FixedDecimal) throws(RejectReason) -> [Int] {
        let a = try accountIndex(accountID)
        let i = try instrumentIndex(symbol)
        guard leverage.isPositive else { throw RejectReason(.invalidInput, field: "leverage", "must be positive") }
        let instrument = state.market.instruments[i]
        var record = state.accounts[a]
        if let k = record.positionIndex(i) {
            let current = notional(record.account.positions[k].quantity, instrument, price: try mark(i))
            let bracket = instrument.brackets.bracket(forNotional: current)
            if leverage > bracket.maxLeverage {
                throw RejectReason(.leverageAboveBracket, field: "leverage", "\(leverage) is above \(bracket.maxLeverage), the maximum for the position's notional \(current)")
            }
            record.account.positions[k].leverage = leverage
            let evaluation = evaluateAccount(record)
            if record.account.positions[k].marginMode.isCross, evaluation.cross.equity - evaluation.cross.initialMargin - reservedMargin(a) < .zero {
                throw RejectReason(.insufficientMargin, field: "leverage", "the cross pool cannot hold the initial margin at leverage \(leverage)")
            }
        } else if leverage > instrument.brackets.brackets[0].maxLeverage {
            throw RejectReason(.leverageAboveBracket, field: "leverage", "\(leverage) is above the instrument's maximum \(instrument.brackets.brackets[0].maxLeverage)")
        }
        record.leverage[i] = leverage
        state.accounts[a] = record
        emit(.leverageSet, account: a, [("symbol", .text(symbol)), ("leverage", .decimal(leverage))])
        return [a]
    }

    mutating func moveIsolatedMargin(_ accountID: String, _ symbol: String, _ amount: FixedDecimal) throws(RejectReason) -> [Int] {
        let a = try accountIndex(accountID)
        let i = try instrumentIndex(symbol)
        guard !amount.isZero else { throw RejectReason(.invalidInput, field: "amount", "must not be zero") }
        var record = state.accounts[a]
        guard let k = record.positionIndex(i), case .isolated(let margin) = record.account.positions[k].marginMode else {
            throw RejectReason(.invalidInput, field: "symbol", "no isolated position in \(symbol)")
        }
        let settle = record.account.settle
        if amount.isPositive {
            // What may leave the cross pool: as for a withdrawal, unrealized profit does not move.
            let free = Self.withdrawable(evaluateAccount(record, prices: false).cross) - reservedMargin(a)
            guard free >= amount, record.balance(settle) >= amount else {
                throw RejectReason(.insufficientMargin, field: "amount", "only \(FixedDecimal.maximum(.zero, FixedDecimal.minimum(free, record.balance(settle)))) can move out of the cross pool")
            }
        } else {
            if isInCall(a) { throw RejectReason(.withdrawalInMarginCall, field: "amount", "margin cannot leave a pool during a margin call") }
            let evaluation = evaluateAccount(record, prices: false)
            let pool = evaluation.pools.first { $0.pool == .isolated(position: k) }!
            // Margin above the position's initial margin, less any unrealized loss; unrealized profit stays.
            let removable = FixedDecimal.maximum(.zero, Self.withdrawable(pool))
            guard removable >= amount.magnitude else {
                throw RejectReason(.insufficientMargin, field: "amount", "only \(removable) can leave the isolated pool (margin − initial margin + min(0, unrealized PnL))")
            }
        }
        record.account.positions[k].marginMode = .isolated(margin: margin + amount)
        record.credit(settle, -amount)
        state.accounts[a] = record
        emit(.isolatedMarginMoved, account: a, [("symbol", .text(symbol)), ("amount", .decimal(amount)), ("isolated_margin", .decimal(margin + amount))])
        return [a]
    }

    /// Schedules a parameter change. Its engine parameters are a partial update, checked by
    /// merging it into the parameters that will be in force at its effective time (the current
    /// ones with every change scheduled up to that time applied first).
    mutating func scheduleChange(_ change: ParameterChange, _ effectiveTime: Int64) throws(RejectReason) -> [Int] {
        for symbol in change.brackets.keys.sorted() { _ = try instrumentIndex(symbol, field: "brackets.\(symbol)") }
        for (asset, haircut) in change.haircuts.sorted(by: { $0.key < $1.key }) {
            _ = try assetIndex(asset, field: "haircuts.\(asset)")
            guard !haircut.isNegative, haircut <= .one else { throw RejectReason(.invalidInput, field: "haircuts.\(asset)", "must be in [0, 1]") }
        }
        guard effectiveTime >= state.time else { throw RejectReason(.invalidInput, field: "effective_time", "is in the past") }
        if let update = change.parameters {
            var inForce = state.parameters
            for pending in state.pendingChanges where pending.time <= effectiveTime {
                if let u = pending.change.parameters { inForce = u.merged(into: inForce) }
            }
            if let problem = update.merged(into: inForce).validationError() {
                throw RejectReason(.invalidInput, field: "parameters.\(problem.field)", problem.reason)
            }
        }
        let k = state.pendingChanges.firstIndex { $0.time > effectiveTime } ?? state.pendingChanges.count
        state.pendingChanges.insert(PendingChange(time: effectiveTime, change: change), at: k)
        emit(.parametersScheduled, [("effective_time", .integer(effectiveTime)), ("brackets", .text(change.brackets.keys.sorted().joined(separator: ","))),
                                    ("haircuts", .text(change.haircuts.keys.sorted().joined(separator: ","))),
                                    ("policy", .flag(change.parameters.map { !$0.isEmpty } ?? false))])
        return []
    }

    /// Applies scheduled parameter changes whose time has come; every account is re-evaluated.
    /// The event lists exactly what changed, each with its old and new value (`changes`:
    /// field, old, new; bracket tables as `brackets.<symbol>`, haircuts as `haircuts.<asset>`).
    mutating func applyDueParameterChanges(_ touched: inout [Int]) {
        var applied = false
        while let first = state.pendingChanges.first, first.time <= state.time {
            state.pendingChanges.removeFirst()
            let before = state
            let next = Self.applying(first.change, to: state)
            if let problem = next.parameters.validationError() {
                // Only possible when changes scheduled later with an earlier time moved what this one merges into.
                emit(.rejected, [("code", .integer(Int64(RejectReason.Code.invalidInput.rawValue))), ("field", .text("parameters.\(problem.field)")),
                                 ("reason", .text("scheduled change not applied: \(problem.reason)"))])
                continue
            }
            state = next
            state.parameterVersion += 1
            applied = true
            var changes: [[(String, EventValue)]] = []
            for (field, old, new) in ParameterUpdate.differences(before.parameters, state.parameters) {
                changes.append([("field", .text(field)), ("old", .text(old)), ("new", .text(new))])
            }
            for symbol in first.change.brackets.keys.sorted() {
                guard let i = state.market.instruments.firstIndex(where: { $0.symbol == symbol }),
                      before.market.instruments[i].brackets != state.market.instruments[i].brackets else { continue }
                changes.append([("field", .text("brackets.\(symbol)")), ("old", .text(Self.describe(before.market.instruments[i].brackets))),
                                ("new", .text(Self.describe(state.market.instruments[i].brackets)))])
            }
            for asset in first.change.haircuts.keys.sorted() {
                guard let k = state.market.assets.firstIndex(where: { $0.symbol == asset }),
                      before.market.assets[k].haircut != state.market.assets[k].haircut else { continue }
                changes.append([("field", .text("haircuts.\(asset)")), ("old", .text("\(before.market.assets[k].haircut)")),
                                ("new", .text("\(state.market.assets[k].haircut)"))])
            }
            changes += Self.lendingDifferences(before, state, first.change)
            emit(.parametersApplied, [("version", .integer(state.parameterVersion)), ("changes", .list(changes))])
        }
        if applied { touched = Array(state.accounts.indices) }
    }

    /// A bracket table as text: `floor-cap:max_leverage:mmr` per bracket, `;`-separated.
    static func describe(_ table: BracketTable) -> String {
        table.brackets.map { "\($0.notionalFloor)-\($0.notionalCap):\($0.maxLeverage):\($0.maintenanceMarginRate)" }.joined(separator: ";")
    }

    /// The state with a parameter change applied (used by the dry run too): the named bracket
    /// tables and haircuts replaced, the named engine parameters merged into those in force.
    static func applying(_ change: ParameterChange, to state: EngineState) -> EngineState {
        var next = state
        for (symbol, table) in change.brackets {
            if let i = next.market.instruments.firstIndex(where: { $0.symbol == symbol }) { next.market.instruments[i].brackets = table }
        }
        for (asset, haircut) in change.haircuts {
            if let k = next.market.assets.firstIndex(where: { $0.symbol == asset }) { next.market.assets[k].haircut = haircut }
        }
        if let u = change.parameters { next.parameters = u.merged(into: state.parameters) }
        applyingLending(change, to: &next)  // lending terms and debt rates (Engine+Borrowing.swift)
        return next
    }

    /// The engine parameters a change would leave in force if applied now (the merged result
    /// the dry run evaluates with).
    public func mergedParameters(_ change: ParameterChange) -> EngineParameters {
        Self.applying(change, to: state).parameters
    }

    /// Dry run of a parameter change: the status every account's pools would have under
    /// it, for the accounts whose status would change (from, to), in account order.
    public func dryRun(_ change: ParameterChange) -> [(account: String, from: MarginStatus, to: MarginStatus)] {
        // Through `evaluateAccount` on both sides, so portfolio-margined accounts, option
        // writers and borrowers (debt margin) are judged as the engine judges them.
        var next = self
        next.state = Self.applying(change, to: state)
        var result: [(String, MarginStatus, MarginStatus)] = []
        for record in state.accounts {
            let from = evaluateAccount(record, prices: false).status
            let to = next.evaluateAccount(record, prices: false).status
            if from != to { result.append((record.id, from, to)) }
        }
        return result
    }

    /// `cross` or `isolated:<symbol>`, as events and the API name a pool.
    public func poolName(_ pool: PoolKey) -> String {
        switch pool {
        case .cross: return "cross"
        case .isolated(let i): return "isolated:\(state.market.instruments[i].symbol)"
        }
    }
}

/// What placing an order would do (the pre-trade check of `Engine.checkOrder`).
public struct OrderCheck: Sendable, Hashable {
    /// Index of the account and the instrument in the engine's state.
    public var account: Int
    public var instrument: Int
    /// Whether the order only reduces the position (then no margin is reserved).
    public var reduces: Bool
    /// Whether the order would be stored reduce-only (asked, or forced by a margin call).
    public var reduceOnly: Bool
    /// Initial margin the order would reserve (settle units, ≥ 0).
    public var reservedMargin: FixedDecimal
    /// Free cross margin before the order: equity − IM − margin reserved by open orders
    /// (settle units; nil when the order reduces and no margin check applies).
    public var freeMargin: FixedDecimal?
}
