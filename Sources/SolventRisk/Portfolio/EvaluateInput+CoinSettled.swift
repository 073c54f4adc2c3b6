public import SolventCore

// The evaluate contract's coin-settled (inverse) options and coin-settled portfolio accounts
// (docs/evaluate.md, "Coin-settled portfolio accounts"; issue 17): `"kind": "inverse_option"`,
// an option settled in its base coin as Deribit's BTC and ETH options
// (https://www.deribit.com/kb/options, "Inverse options").

extension Market {
    /// Whether asset `asset` is a coin settlement asset: the settle asset of an inverse contract
    /// of the market (an inverse perpetual or future, or a coin-settled option), i.e. the base
    /// coin of that contract. A portfolio account settled in such an asset is **coin-settled**:
    /// it is valued in that coin, holds only inverse contracts and inverse options settled in it,
    /// and only that coin as collateral (docs/evaluate.md).
    public func isCoinSettlement(_ asset: Int) -> Bool {
        guard assets.indices.contains(asset) else { return false }
        let symbol = assets[asset].symbol
        return instruments.contains { $0.isInverse && $0.settle == symbol }
    }
}

extension EvaluateInput {
    /// `"kind": "inverse_option"` must settle in its base coin (error naming `settle`);
    /// `"kind": "option"` settled in its base coin is coin-settled and must say so (error naming
    /// `kind`, pointing to `inverse_option`).
    static func checkOptionSettlement(_ kindName: String, base: String, settle: String, kindReader: JSONReader,
                                      settleReader: JSONReader) throws(InputError) {
        if kindName == "inverse_option", settle != base {
            throw settleReader.error("a coin-settled (inverse) option settles in its base coin \"\(base)\", got \"\(settle)\"")
        }
        if kindName == "option", settle == base {
            throw kindReader.error("an option settled in its base coin \"\(base)\" is coin-settled: write \"kind\": \"inverse_option\"")
        }
    }

    /// The underlying of every coin-settled option, when it names an instrument, is an inverse
    /// perpetual or future on the option's coin (its mark is the USD forward `F`); when it names
    /// an asset, it is the option's base coin (its price is the USD index `F`). Errors name
    /// `instruments[i].underlying`. An underlying naming neither is reported when the option is
    /// held (``checkOptions(_:)``), as for linear options.
    static func checkInverseOptionUnderlyings(_ instruments: [Instrument], reader: JSONReader, instrumentIndex: [String: Int],
                                              assetIndex: [String: Int]) throws(InputError) {
        for (i, instrument) in instruments.enumerated() where instrument.isInverseOption {
            guard case let .option(_, _, _, underlying) = instrument.kind else { continue }
            let path = "\(reader.path)[\(i)].underlying"
            if let u = instrumentIndex[underlying] {
                let definition = instruments[u]
                let inverseFuture: Bool
                switch definition.kind {
                case .perpetual(.inverse), .future(.inverse, _): inverseFuture = true
                default: inverseFuture = false
                }
                guard inverseFuture, definition.base == instrument.base else {
                    throw InputError(path: path, reason: "the underlying \"\(underlying)\" of coin-settled option \"\(instrument.symbol)\" must be an inverse perpetual or future on \(instrument.base) (its mark is the forward in USD)")
                }
            } else if assetIndex[underlying] != nil, underlying != instrument.base {
                throw InputError(path: path, reason: "the underlying asset of coin-settled option \"\(instrument.symbol)\" must be its coin \"\(instrument.base)\", got \"\(underlying)\"")
            }
        }
    }

    /// A coin-settled portfolio account's scenario moves stay above −90 % (so every price in the
    /// coin group stays ≥ 10 % of its mark and `1/F` is bounded): `range·extreme_multiple ≤ 0.9`
    /// for the coin's group (``PortfolioPolicy/maximumCoinDownMove``). Errors name the range.
    func checkCoinSettledPolicy() throws(InputError) {
        var checked = Set<Int>()
        for (i, account) in accounts.enumerated() where modes[i] == .portfolio && checked.insert(account.settle).inserted {
            guard market.isCoinSettlement(account.settle) else { continue }
            let coin = market.assets[account.settle].symbol
            let range = portfolio.range(of: coin)
            guard range * portfolio.extremeMultiple > PortfolioPolicy.maximumCoinDownMove else { continue }
            let path = portfolio.priceRanges[coin] != nil ? "portfolio_policy.price_ranges.\(coin)" : "portfolio_policy.price_range"
            throw InputError(path: path, reason: "coin-settled portfolio account accounts[\(i)] (settle \(coin)): the largest move, range \(range) × extreme_multiple \(portfolio.extremeMultiple), must be at most \(PortfolioPolicy.maximumCoinDownMove) (a coin-valued book is revalued at 1/F)")
        }
    }

    /// Collateral other than the coin in a coin-settled portfolio account.
    static func coinCollateralError(_ reader: JSONReader, settle: String, asset: String) -> InputError {
        reader.error("collateral \"\(asset)\" in a coin-settled portfolio account (settle \(settle)): it holds only \(settle) as collateral (no cross-collateral across coins)")
    }

    /// A linear contract in a coin-settled portfolio account.
    static func coinLinearError(_ reader: JSONReader, symbol: String, settle: String) -> InputError {
        reader.error("linear contract \"\(symbol)\" in a coin-settled portfolio account (settle \(settle)): it holds inverse perpetuals, futures and inverse options settled in \(settle) only")
    }
}
