public import SolventCore

// Coin-settled portfolio accounts (docs/evaluate.md, "Coin-settled portfolio accounts"; issue 17):
// a portfolio account settled in a coin C (Deribit's per-currency portfolio margin,
// https://www.deribit.com/kb/portfolio-margin) holds inverse perpetuals and futures and inverse
// options settled in C, C as its only collateral, and everything is valued in C:
//
//   L(m, ·) = −[ Σ_inverse perp/future  s·Q·(1/F − 1/(F(1+m)))      (Q = |q|·cs USD, F its mark)
//              + Σ_inverse option        q·cs·(v(F(1+m), σ') − v(F, σ)) ]
//
// with v(F, σ, T) = Black76_USD(F, K, σ, T)/F coins per coin of underlying (Deribit, "Inverse
// options", https://www.deribit.com/kb/options). `s·Q·(1/F − 1/(F(1+m))) = (s·Q/F)·m/(1+m)`.

extension PortfolioPolicy {
    /// The largest downward move a coin-valued group may be scanned with (90 %): a coin-settled
    /// book is revalued at `1/F(1+m)`, unbounded as `m → −1`. The evaluate decoder refuses a
    /// policy whose coin group has `range·extreme_multiple` above it; the engine must too.
    public static let maximumCoinDownMove = FixedDecimal("0.9")!

    /// `1 − maximumCoinDownMove`: the smallest `1 + m` a coin-valued position is revalued at.
    /// ``PortfolioMargin/evaluate(_:)`` clamps `1 + m` to it for coin-valued terms, so it stays
    /// total on a policy that was not checked (never reached through `evaluate`).
    public static let minimumCoinGrowth = FixedDecimal.one - maximumCoinDownMove

    /// Whether this policy's scan of group `group` stays within ``maximumCoinDownMove``
    /// (`range(of: group)·extremeMultiple ≤ 0.9`): required of a coin-settled account's group.
    public func admitsCoinGroup(_ group: String) -> Bool {
        range(of: group) * extremeMultiple <= Self.maximumCoinDownMove
    }
}

extension PortfolioMargin {
    /// Whether `account` is a coin-settled portfolio account: its settle asset is a coin that
    /// inverse contracts of the market settle in (``SolventCore/Market/isCoinSettlement(_:)``).
    /// Its evaluation is in that coin: inverse positions by the formulas above, collateral in
    /// the coin at face value (no haircut, no scenario move).
    public func isCoinSettled(_ account: Account) -> Bool { isCoinSettlement(account.settle) }

    /// Whether asset `asset` is a coin settlement asset of the market.
    public func isCoinSettlement(_ asset: Int) -> Bool { coinSettlements.contains(asset) }

    /// Whether a portfolio account settled in asset `settle` may hold instrument `instrument`:
    /// in a coin-settled account, inverse perpetuals, futures and inverse options settled in it;
    /// otherwise linear contracts settled in it. (The engine's typed refusals read this.)
    public func portfolioAdmits(instrument: Int, settle: Int) -> Bool {
        let definition = market.instruments[instrument]
        guard assetIndex[definition.settle] == settle else { return false }
        return definition.isInverse == isCoinSettlement(settle)
    }

    /// Whether a portfolio account settled in asset `settle` may hold collateral in `asset`:
    /// any asset in a linear account; only the coin itself in a coin-settled one.
    public func portfolioAdmits(collateral asset: Int, settle: Int) -> Bool {
        asset == settle || !isCoinSettlement(settle)
    }

    /// The forward `F` of option instrument `index` for an account settled in `settle`: for a
    /// coin-settled option, in USD — its underlying instrument's mark (an inverse perpetual or
    /// future), else the price of the asset of that name (the index); for a linear option,
    /// ``underlyingPrice(_:settle:)`` (settle units). Nil when missing or not an option.
    public func forward(ofOption index: Int, settle: Int) -> FixedDecimal? {
        let instrument = market.instruments[index]
        guard case let .option(_, _, _, underlying) = instrument.kind else { return nil }
        guard instrument.isInverseOption else { return underlyingPrice(underlying, settle: settle) }
        if let k = instrumentIndex[underlying], let mark = market.marks[k] { return mark }
        if let a = assetIndex[underlying] { return market.assets[a].price }
        return nil
    }

    /// `1 + m` for a coin-valued revaluation: clamped to ≥ ``PortfolioPolicy/minimumCoinGrowth``.
    static func coinGrowth(_ move: FixedDecimal) -> FixedDecimal {
        FixedDecimal.maximum(.one + move, PortfolioPolicy.minimumCoinGrowth)
    }

    /// The coin change of an inverse book of coin exposure `e = Σ s·Q/F` when its prices move
    /// by `m`: `e·m/(1+m)` (= `Σ s·Q·(1/F − 1/(F(1+m)))`), one half-even rounding.
    static func coinChange(exposure: FixedDecimal, move: FixedDecimal) -> FixedDecimal {
        guard !exposure.isZero else { return .zero }
        let growth = coinGrowth(move)
        return exposure.multiplied(by: growth - .one, dividedBy: growth, rounding: .halfEven) ?? .zero
    }

    /// The coin value of the collateral of a coin-settled account: its coin at face value (no
    /// haircut), bounded as the contract bounds a balance; any other asset (refused by
    /// `evaluate` and the engine) as the standard contract values it.
    func coinCollateralValue(of account: Account, evaluator: MarginEvaluator) -> FixedDecimal {
        var total = FixedDecimal.zero
        let bound = RangeContract.maxCollateralValue
        for balance in account.collateral {
            if balance.asset == account.settle {
                total += balance.amount.magnitude <= bound ? balance.amount : (balance.amount.isNegative ? -bound : bound)
            } else {
                total += evaluator.collateralValue(balance, settle: account.settle)
            }
        }
        return total
    }
}
