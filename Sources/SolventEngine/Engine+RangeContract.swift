import SolventCore

extension Engine {
    /// Largest balance (or isolated margin) an account may hold before a trade: 10^18 settle
    /// units. One trade inside the contract moves a balance by at most ~10^17, so no balance
    /// can leave the decimal range; an account beyond this bound takes no more trades.
    static let tradingBalanceLimit = FixedDecimal(raw: 1_000_000_000_000_000_000 * FixedDecimal.unitRaw)

    /// The range contract (``RangeContract``, docs/range-contract.md) checked on a command
    /// before it runs: the values it carries and the products it would create (a position's
    /// size, a balance after a deposit). A command outside the contract is rejected with
    /// `out_of_range` naming the field, and changes nothing.
    ///
    /// Unknown accounts, instruments and assets are left to the command itself (it names them).
    func rangeProblem(_ timed: TimedCommand) -> RejectReason? {
        if let problem = RangeContract.timeProblem(timed.time) { return RejectReason(.outOfRange, field: "time", problem) }
        if let problem = totalsHeadroomProblem() { return problem }
        switch timed.command {
        case let .deposit(account, asset, amount, _), let .chainDeposit(account, asset, amount, _, _, _, _):
            if let problem = magnitudeProblem(amount) { return RejectReason(.outOfRange, field: "amount", problem) }
            if case let .chainDeposit(_, _, _, _, _, height, _) = timed.command, height < 0 || height > RangeContract.maxHeight {
                return RejectReason(.outOfRange, field: "height", "out of range: a block height must be in [0, 1e12], got \(height)")
            }
            guard let a = knownAccount(account), let k = state.market.assets.firstIndex(where: { $0.symbol == asset }) else { return nil }
            let after = try? state.accounts[a].balance(k).addingChecked(amount)
            guard let after, after <= RangeContract.maxBalance else {
                return RejectReason(.outOfRange, field: "amount", "out of range: the \(asset) balance would exceed 1e15")
            }
        case let .withdraw(_, _, amount):
            if let problem = magnitudeProblem(amount) { return RejectReason(.outOfRange, field: "amount", problem) }
        case let .placeOrder(_, account, symbol, quantity, price, _):
            if let problem = RangeContract.priceProblem(price) { return RejectReason(.outOfRange, field: "price", problem) }
            return positionProblem(account, symbol, quantity)
        case let .fill(account, symbol, quantity, price, fee, _):
            if let problem = RangeContract.priceProblem(price) { return RejectReason(.outOfRange, field: "price", problem) }
            if let problem = magnitudeProblem(fee) { return RejectReason(.outOfRange, field: "fee", problem) }
            return positionProblem(account, symbol, quantity)
        case let .markPrice(_, price, sourceTime), let .indexPrice(_, price, sourceTime):
            if let problem = RangeContract.priceProblem(price) { return RejectReason(.outOfRange, field: "price", problem) }
            if let problem = RangeContract.timeProblem(sourceTime) { return RejectReason(.outOfRange, field: "source_time", problem) }
        case let .assetPrice(_, price):
            if let problem = RangeContract.priceProblem(price) { return RejectReason(.outOfRange, field: "price", problem) }
        case let .book(_, bids, asks):
            for (side, levels) in [("bids", bids), ("asks", asks)] {
                for (k, level) in levels.enumerated() {
                    if let problem = RangeContract.priceProblem(level.price) { return RejectReason(.outOfRange, field: "\(side)[\(k)][0]", problem) }
                    if let problem = magnitudeProblem(level.quantity) { return RejectReason(.outOfRange, field: "\(side)[\(k)][1]", problem) }
                }
            }
        case let .funding(symbol, rate):
            if rate.magnitude >= .one { return RejectReason(.outOfRange, field: "rate", "out of range: must be within (−1, 1)") }
            return fundingProblem(symbol, rate)
        case let .setLeverage(_, _, leverage):
            if let problem = RangeContract.leverageProblem(leverage) { return RejectReason(.outOfRange, field: "leverage", problem) }
        case let .moveIsolatedMargin(_, _, amount):
            if let problem = magnitudeProblem(amount) { return RejectReason(.outOfRange, field: "amount", problem) }
        case let .borrow(account, asset, amount), let .repay(account, asset, amount):
            if let problem = magnitudeProblem(amount) { return RejectReason(.outOfRange, field: "amount", problem) }
            return loanRangeProblem(account, asset, amount, borrowing: { if case .borrow = timed.command { true } else { false } }())
        case let .changeParameters(change, effectiveTime):
            if let problem = RangeContract.timeProblem(effectiveTime) { return RejectReason(.outOfRange, field: "effective_time", problem) }
            return lendingChangeRangeProblem(change)  // Engine+Borrowing.swift
        case let .chainTip(_, height), let .chainReorg(_, height, _):
            if height < 0 || height > RangeContract.maxHeight {
                return RejectReason(.outOfRange, field: "height", "out of range: a block height must be in [0, 1e12], got \(height)")
            }
            if case let .chainReorg(_, _, hashes) = timed.command, let bad = hashes.keys.filter({ $0 < 0 || $0 > RangeContract.maxHeight }).min() {
                // the smallest, not the first in a Dictionary's order: the reason is journaled
                return RejectReason(.outOfRange, field: "new_hashes", "out of range: a block height must be in [0, 1e12], got \(bad)")
            }
        case let .optionMark(_, price, vol, sourceTime):
            if let problem = RangeContract.priceProblem(price) { return RejectReason(.outOfRange, field: "price", problem) }
            if !vol.isPositive || vol > FixedDecimal(10) { return RejectReason(.outOfRange, field: "implied_vol", "out of range: an implied vol must be in (0, 10], got \(vol)") }
            if let problem = RangeContract.timeProblem(sourceTime) { return RejectReason(.outOfRange, field: "source_time", problem) }
        case let .settlementPrice(_, price):
            if let problem = RangeContract.priceProblem(price) { return RejectReason(.outOfRange, field: "price", problem) }
        case let .volSurface(_, expiry, strikes, vols, sourceTime, _):
            if let problem = Self.volSurfaceRangeProblem(expiry: expiry, strikes: strikes, vols: vols, sourceTime: sourceTime) { return problem }  // Engine+VolSurface.swift
        case .cancelOrder, .setMarginMode, .tick, .setAccountMode:
            break
        case .deliver(_, _, let body):
            return deliveryRangeProblem(body)  // Engine+Shards.swift
        }
        return nil
    }

    /// Largest balance (or isolated margin) a funding payment may leave: 10^19. A payment is at
    /// most a position's notional (10^17), so repeated fundings are the one way a balance could
    /// otherwise grow without a trade; a funding that would pass the bound is refused whole.
    static let fundingBalanceLimit = FixedDecimal(raw: 10_000_000_000_000_000_000 * FixedDecimal.unitRaw)

    /// Whether paying funding at `rate` would push any holder's balance or isolated margin
    /// beyond ±10^19 (then the whole funding is refused, nothing paid).
    func fundingProblem(_ symbol: String, _ rate: FixedDecimal) -> RejectReason? {
        guard let i = state.market.instruments.firstIndex(where: { $0.symbol == symbol }), let mark = state.market.marks[i] else { return nil }
        let instrument = state.market.instruments[i]
        for record in state.accounts {
            guard let k = record.positionIndex(i) else { continue }
            let position = record.account.positions[k]
            let size = position.quantity.magnitude.multiplied(by: instrument.contractSize, rounding: .halfEven)
            let notional = size.flatMap { instrument.kind.settlement == .inverse ? $0.divided(by: mark, rounding: .halfEven) : $0.multiplied(by: mark, rounding: .halfEven) }
            let payment = notional.flatMap { $0.multiplied(by: rate, rounding: .awayFromZero) }?.magnitude
            var held = record.balance(record.account.settle).magnitude
            if case .isolated(let margin) = position.marginMode { held = margin.magnitude }
            guard let payment, let after = try? held.addingChecked(payment), after <= Self.fundingBalanceLimit else {
                return RejectReason(.outOfRange, field: "rate", "out of range: the payment would take account \"\(record.id)\" beyond a balance of 1e19")
            }
        }
        return nil
    }

    /// The venue's flows (deposited, withdrawn, fees, external, socialized loss) are
    /// `RunningTotal`s and never overflow. The insurance fund is money the engine spends (a
    /// `FixedDecimal`); it grows by at most 5 × 10^19 in one command inside the contract (a drain
    /// of at most 500 steps — the documents' bound on `liquidation_steps_per_command` — of
    /// ≤ 10^17), so a fund past 10^20 (a million times the world's money) refuses commands,
    /// typed, instead of trapping. Nothing a user can repeat moves the fund up: only fees out of
    /// liquidated pools' surplus and the operator's opening fund.
    static let fundHeadroomLimit = FixedDecimal(raw: 100_000_000_000_000_000_000 * FixedDecimal.unitRaw)

    func totalsHeadroomProblem() -> RejectReason? {
        for (a, t) in state.totals.enumerated() where t.insuranceFund.magnitude > Self.fundHeadroomLimit {
            return RejectReason(.outOfRange, field: "insurance_fund", "out of range: the \(state.market.assets[a].symbol) insurance fund passed 1e20")
        }
        return nil
    }

    /// Why a decimal is beyond ±1e15, or nil.
    func magnitudeProblem(_ value: FixedDecimal) -> String? {
        value.magnitude > RangeContract.maxMagnitude ? "out of range: magnitude above 1e15, got \(value)" : nil
    }

    /// The products a trade or an order of signed `quantity` creates: the position's size if it
    /// all fills (≤ 1e9), the number of positions (≤ 100), and the balances it moves (≤ 1e18).
    func positionProblem(_ account: String, _ symbol: String, _ quantity: FixedDecimal) -> RejectReason? {
        if let problem = magnitudeProblem(quantity) { return RejectReason(.outOfRange, field: "quantity", problem) }
        guard let a = knownAccount(account), let i = state.market.instruments.firstIndex(where: { $0.symbol == symbol }) else { return nil }
        // Fields read in place, not copies of the whole record and instrument (a copy retains
        // and releases every array and dictionary they hold; issue 18's pre-trade profile).
        let contractSize = state.market.instruments[i].contractSize
        let current = state.accounts[a].positionIndex(i).map { state.accounts[a].account.positions[$0] }
        let resulting = try? (current?.quantity ?? .zero).addingChecked(quantity)
        let size = resulting.flatMap { $0.magnitude.multiplied(by: contractSize, rounding: .halfEven) }
        let orderSize = quantity.magnitude.multiplied(by: contractSize, rounding: .halfEven)
        if let problem = RangeContract.sizeProblem(size) ?? RangeContract.sizeProblem(orderSize) {
            return RejectReason(.outOfRange, field: "quantity", problem)
        }
        // A coin-settled option pays up to K/S coins per coin of underlying (a put settled at
        // S ≥ 1e-8): its strike notional |q|·contract_size·K, in quote units like an inverse
        // contract's size, stays ≤ 1e9, so its payout and marks stay ≤ 1e17 coins.
        if state.market.instruments[i].isInverseOption, case let .option(_, strike, _, _) = state.market.instruments[i].kind {
            let notional = size.flatMap { $0.multiplied(by: strike, rounding: .awayFromZero) }
            let orderNotional = orderSize.flatMap { $0.multiplied(by: strike, rounding: .awayFromZero) }
            if notional.map({ $0 > RangeContract.maxPositionSize }) ?? true || orderNotional.map({ $0 > RangeContract.maxPositionSize }) ?? true {
                return RejectReason(.outOfRange, field: "quantity", "out of range: a coin-settled option's strike notional |quantity|·contract_size·strike above 1e9")
            }
        }
        // A position whose size |q|·contract_size rounds to zero (1e-18 contracts of a 0.1
        // contract) has no notional, margin or liquidation price: never created.
        if let resulting, !resulting.isZero, let size, size.isZero {
            return RejectReason(.outOfRange, field: "quantity", "out of range: the position's size |quantity|·contract_size would round to zero")
        }
        if current == nil, state.accounts[a].account.positions.count >= RangeContract.maxPositionsPerAccount {
            return RejectReason(.outOfRange, field: "symbol", "out of range: an account holds at most \(RangeContract.maxPositionsPerAccount) positions")
        }
        var held = state.accounts[a].balance(state.accounts[a].account.settle).magnitude
        if case .isolated(let margin)? = current?.marginMode { held = FixedDecimal.maximum(held, margin.magnitude) }
        if held > Self.tradingBalanceLimit {
            return RejectReason(.outOfRange, field: "account", "out of range: a balance above 1e18 takes no more trades")
        }
        return nil
    }
}
