public import SolventCore
public import SolventRisk

/// Coin-settled (inverse) options in the engine (docs/options.md, "Coin-settled (inverse)
/// options"; issue 17): options whose settle asset is their base coin, as Deribit's BTC and ETH
/// options (https://www.deribit.com/kb/options, "Inverse options"): one contract is
/// `contract_size` coins of underlying, the premium, the mark, the margin and the settlement are
/// in the coin, the strike and the underlying's price are in USD.
///
/// - **Underlying**: an inverse perpetual or future on the same coin, settled in it, with a mark
///   (USD). The option needs a mark implied vol (`option_mark` or a `vol_surface`) as a linear one.
/// - **Marks** are in coin per coin of underlying: a fed `option_mark` price is taken as such;
///   a surface mark is `v = Black76_USD(F, K, σ, T, r = 0) / F` (`coinMark`).
/// - **Premium** `q·cs·p` coins, rounded in the venue's favour as the linear premium
///   (`Engine.premium`); the option's PnL is linear in its coin price (`q·cs·(mark − entry)`),
///   so every PnL, notional and cost path treats it by `kind.settlement` (`.linear` for options),
///   not by `isInverse` (which says where it settles).
/// - **Settlement** at `S` (USD): `max(S − K, 0)/S` (call), `max(K − S, 0)/S` (put) coins per coin
///   of underlying, rounded down for a holder and up for a writer (`inverseOptionPayoff`).
/// - **Standard accounts**: Deribit's standard margin as published, in coin per coin of
///   underlying (`coinStandardOptionMargin`).
extension Engine {
    /// The underlying of coin-settled option `instrument`: an inverse perpetual or future on the
    /// same base coin, settled in it, with a mark. Throws `optionsNotSupported` (2012) or
    /// `noMark` (2008) naming `field`.
    func inverseOptionUnderlying(_ instrument: Instrument, field: String) throws(RejectReason) -> Int {
        guard case let .option(_, _, _, underlying) = instrument.kind else {
            throw RejectReason(.optionsNotSupported, field: field, "\(instrument.symbol) is not an option")
        }
        guard let u = state.market.instruments.firstIndex(where: { $0.symbol == underlying }) else {
            throw RejectReason(.optionsNotSupported, field: field,
                               "coin-settled option \(instrument.symbol): its underlying \"\(underlying)\" is not an instrument (an inverse perpetual or future on \(instrument.base))")
        }
        let definition = state.market.instruments[u]
        guard definition.kind.settlement == .inverse, !isOption(u), definition.base == instrument.base, definition.settle == instrument.settle else {
            throw RejectReason(.optionsNotSupported, field: field,
                               "coin-settled option \(instrument.symbol): its underlying \"\(underlying)\" is not an inverse perpetual or future on \(instrument.base) settled in \(instrument.settle)")
        }
        return u
    }

    /// Whether instrument `i` is a coin-settled (inverse) option.
    func isInverseOption(_ i: Int) -> Bool { state.market.instruments[i].isInverseOption }

    /// A coin-settled option's mark in coin per coin of underlying from a model price in USD:
    /// `usd / F` (half-even), nil when it does not fit or `F` is not positive.
    static func coinMark(usd: FixedDecimal, forward: FixedDecimal) -> FixedDecimal? {
        guard forward.isPositive else { return nil }
        return usd.divided(by: forward, rounding: .halfEven)
    }

    /// The intrinsic value of coin-settled option `i` at settlement price `price` (USD), in coin
    /// per coin of underlying: `max(S − K, 0)/S` (call), `max(K − S, 0)/S` (put) (Deribit,
    /// "Inverse options"). Rounded toward −∞ for a holder (`roundingUp: false`: receives at
    /// most the exact amount) and toward +∞ for a writer (pays at least). Nil for other
    /// instruments or a non-positive price.
    func inverseOptionPayoff(_ i: Int, underlying price: FixedDecimal, roundingUp: Bool) -> FixedDecimal? {
        guard case let .option(right, strike, _, _) = state.market.instruments[i].kind, isInverseOption(i), price.isPositive else { return nil }
        let intrinsic = FixedDecimal.maximum(.zero, right == .call ? price - strike : strike - price)
        return intrinsic.divided(by: price, rounding: roundingUp ? .up : .down) ?? .zero
    }

    /// The underlying settlement price `S` (USD) of a coin-settled option expiring at `expiry`:
    /// a fed `settlement_price`, else its underlying's settlement price (Engine+Expiry.swift).
    func inverseOptionSettlementUnderlying(_ i: Int, expiry: Int64) -> FixedDecimal? {
        if let fed = optionState.settlementPrices[i] { return fed }
        guard case let .option(_, _, _, underlying) = state.market.instruments[i].kind,
              let u = state.market.instruments.firstIndex(where: { $0.symbol == underlying }) else { return nil }
        return settlementPrice(u, expiry: expiry)?.price
    }

    /// Deribit's standard margin of a coin-settled option position, in coin (docs/options.md):
    /// a long needs its value `|q|·cs·m` as IM and no MM; a short of `|q|·cs` coins of underlying
    ///
    /// - call: `IM = max(0.15 − OTM/F, 0.10) + m`, `MM = 0.075 + m`;
    /// - put: `MM = max(0.075, 0.075·m) + m`, `IM = max(max(0.15 − OTM/F, 0.10) + m, MM)`;
    ///
    /// per coin of underlying, with `m` the option's mark in coin, `F` the underlying's mark
    /// (USD), `OTM = max(K − F, 0)` (call) or `max(F − K, 0)` (put) in USD — Deribit's published
    /// rule ("Maximum (0.15 − Out of the Money Amount/Underlying MarkPrice, 0.1) + Mark Price of
    /// the option"; maintenance "0.075 + Mark Price of the option"), the linear rule of
    /// `standardOptionMargin` divided by `F`. `OTM/F` is rounded down and every product up: the
    /// requirement is rounded in the venue's favour.
    func coinStandardOptionMargin(_ position: Position, mark: FixedDecimal, forward: FixedDecimal) -> (im: FixedDecimal, mm: FixedDecimal) {
        let instrument = state.market.instruments[position.instrument]
        guard case let .option(right, strike, _, _) = instrument.kind else { return (.zero, .zero) }
        let up = Self.requirement
        let units = up(position.quantity.magnitude, instrument.contractSize)
        if !position.quantity.isNegative { return (up(units, mark), .zero) }
        let otm = right == .call ? FixedDecimal.maximum(.zero, strike - forward) : FixedDecimal.maximum(.zero, forward - strike)
        let ratio = forward.isPositive ? (otm.divided(by: forward, rounding: .down) ?? .zero) : .zero
        let base = FixedDecimal.maximum(Self.shortOptionInitialRate - ratio, Self.shortOptionInitialFloor) + mark
        let mm: FixedDecimal
        let im: FixedDecimal
        if right == .call {
            mm = Self.shortOptionMaintenanceRate + mark
            im = base
        } else {
            mm = FixedDecimal.maximum(Self.shortOptionMaintenanceRate, up(Self.shortOptionMaintenanceRate, mark)) + mark
            im = FixedDecimal.maximum(base, mm)
        }
        return (up(units, im), up(units, mm))
    }
}

extension Engine {
    /// The greeks of one coin-settled option per coin of underlying, in coin (Deribit's
    /// convention for its BTC/ETH options, https://www.deribit.com/kb/options): with `B`, `Δ`,
    /// `Γ`, `vega`, `θ` the Black-76 USD greeks (rate 0) and `v = B/F` the value in coin,
    ///
    /// - delta `= Δ − v` (the "BTC delta": `F·∂v/∂F`, the coin-denominated delta), coin per coin;
    /// - gamma `= ∂(Δ − v)/∂F = Γ − (Δ − v)/F`, per USD of underlying;
    /// - vega `= vega/(100·F)`, coin per volatility point; theta `= θ/(365·F)`, coin per day
    ///   (the linear greeks' units, divided by `F`).
    ///
    /// At or past expiry (`years ≤ 0`) the intrinsic value's: `Δ ∈ {1, −1, 0}` in the money or
    /// not, `v = max(±(F − K), 0)/F`, gamma, vega and theta 0. Returns `[delta, gamma, vega, theta]`.
    static func coinGreeks(forward: Double, strike: Double, years: Double, vol: Double, isCall: Bool) -> [Double] {
        guard forward > 0 else { return [0, 0, 0, 0] }
        guard years > 0 else {
            let inTheMoney = isCall ? forward > strike : forward < strike
            let value = inTheMoney ? abs(forward - strike) / forward : 0
            let delta = inTheMoney ? (isCall ? 1.0 : -1.0) : 0
            return [delta - value, 0, 0, 0]
        }
        let model = Black76(forward: forward, strike: strike, years: years, volatility: vol, rate: 0, isCall: isCall)
        let value = model.price / forward
        let coinDelta = model.delta - value
        return [coinDelta, model.gamma - coinDelta / forward, model.vega / (100 * forward), model.theta / (365 * forward)]
    }
}

extension Engine {
    /// The coin delta of a coin-settled book's cross pool on coin `base` (Deribit's "delta
    /// total" in coin): `Σ q·cs·(Δ − v)` over its coin-settled options (`coinGreeks`, quantized
    /// to 1e-8 as `poolDelta`) plus `Σ s·Q/F` over its inverse perpetuals and futures on `base`
    /// (`Q = |q|·cs` USD at their own mark `F`). Its coin PnL moves by `delta/F` per +1 USD of
    /// the underlying, so the option liquidation's delta hedge buys `−delta·F` USD of the
    /// inverse underlying (`−delta·F/cs` contracts, Engine+OptionLiquidation.swift), which zeroes it.
    public func coinPoolDelta(_ record: EngineAccount, base: String) -> FixedDecimal {
        let margin = portfolioMargin
        var delta = FixedDecimal.zero
        for position in record.account.positions where record.pool(of: position.instrument) == .cross {
            let instrument = state.market.instruments[position.instrument]
            guard instrument.base == base, instrument.isInverse else { continue }
            let units = position.quantity * instrument.contractSize
            guard case let .option(right, strike, expiry, underlying) = instrument.kind else {
                if let mark = state.market.marks[position.instrument], mark.isPositive, let coins = units.divided(by: mark, rounding: .halfEven) {
                    delta += coins
                }
                continue
            }
            guard let forward = margin.underlyingPrice(underlying, settle: record.account.settle), forward.isPositive,
                  let vol = margin.impliedVol(position.instrument) else { continue }
            let greeks = Self.coinGreeks(forward: DoubleBoundary.double(forward), strike: DoubleBoundary.double(strike),
                                         years: margin.years(to: expiry), vol: vol, isCall: right == .call)
            let optionDelta = (DoubleBoundary.decimal(greeks[0]) ?? .zero).rounded(toDigits: Self.riskQuantum)
            delta += units * optionDelta
        }
        return delta
    }
}

extension Engine {
    /// A portfolio account settled in a coin (an asset inverse contracts settle in) holds only
    /// that coin as collateral (spec item 6; Deribit's per-currency portfolios — cross-collateral
    /// across coins is out of scope, docs/options.md): a deposit, on-chain deposit or borrow of
    /// another asset into it is refused, `invalid_input` (1001) naming `field`. Nothing for a
    /// standard account or a linear-settled portfolio account.
    func requirePortfolioCollateral(_ a: Int, asset: Int, field: String) throws(RejectReason) {
        let record = state.accounts[a]
        guard record.isPortfolio, asset != record.account.settle, portfolioMargin.isCoinSettlement(record.account.settle) else { return }
        let coin = state.market.assets[record.account.settle].symbol
        throw RejectReason(.invalidInput, field: field,
                           "a portfolio account settled in \(coin) holds only \(coin) as collateral (no cross-collateral across coins): \(state.market.assets[asset].symbol) refused")
    }

    /// `set_account_mode portfolio` for an account settled in a coin that holds another asset
    /// (a non-zero balance) is refused, `invalid_input` (1001) naming `collateral`; an account
    /// opened in portfolio mode likewise (`openAccount`). With `pending` (the account's index),
    /// an unconfirmed on-chain deposit of another asset, which would be credited later, refuses too.
    func requirePortfolioCollateral(_ account: Account, pending a: Int? = nil, field: String = "collateral") throws(RejectReason) {
        guard portfolioMargin.isCoinSettlement(account.settle) else { return }
        let coin = state.market.assets[account.settle].symbol
        if let a, let deposit = state.chainDeposits.first(where: { $0.account == a && $0.asset != account.settle && !$0.isFinal }) {
            throw RejectReason(.invalidInput, field: field,
                               "a portfolio account settled in \(coin) holds only \(coin) as collateral: an unconfirmed deposit of \(state.market.assets[deposit.asset].symbol) is pending")
        }
        for balance in account.collateral where balance.asset != account.settle && !balance.amount.isZero {
            throw RejectReason(.invalidInput, field: field,
                               "a portfolio account settled in \(coin) holds only \(coin) as collateral (no cross-collateral across coins): it holds \(balance.amount) \(state.market.assets[balance.asset].symbol)")
        }
    }
}
