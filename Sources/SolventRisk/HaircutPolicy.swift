public import SolventCore

/// Per-account collateral haircuts in `evaluate` (docs/haircuts.md, "In evaluate"): the
/// ``HaircutModel`` applied to each holding with its size and the account's exposure, instead
/// of one static haircut per asset.
public struct HaircutPolicy: Sendable {
    /// Market statistics of a modelled asset.
    public struct AssetStatistics: Sendable, Hashable {
        /// Daily volatility of the log price (0.03 = 3 %).
        public var dailyVolatility: Double
        /// Daily traded volume, units of the asset.
        public var dailyVolume: Double
        /// Correlation with other assets' prices (by asset index); an asset is 1 with itself.
        public var correlations: [Int: Double]
    }

    public var model: HaircutModel
    /// Statistics by asset index; assets not listed keep their static haircut.
    public var assets: [Int: AssetStatistics]

    public init(model: HaircutModel, assets: [Int: AssetStatistics]) {
        self.model = model
        self.assets = assets
    }

    /// The haircut breakdown of every modelled, positive, non-settle holding of `account`.
    ///
    /// Exposure: each position's signed notional in the common quote is attributed to its base
    /// asset (`q·cs·mark·price_settle` linear, `q·cs·price_settle` inverse, both signed by side).
    /// For a holding of asset `A`, `ρ = Σ_B ρ(A, B)·E_B / Σ_B |E_B|` (E signed) and the exposure
    /// ratio is `Σ_B |E_B| / value(A)`: BTC collateral behind a long BTC perp has ρ = 1 (wrong way),
    /// behind a short BTC perp ρ = −1 (a hedge, no add-on).
    public func haircuts(for account: Account, market: Market) -> [Int: HaircutModel.Breakdown] {
        var exposure: [String: Double] = [:]
        let settlePrice = DoubleBoundary.double(market.assets[account.settle].price)
        for position in account.positions {
            let instrument = market.instruments[position.instrument]
            guard let mark = market.marks[position.instrument] else { continue }
            let q = DoubleBoundary.double(position.quantity) * DoubleBoundary.double(instrument.contractSize)
            // Linear: q·cs base units at the mark, in settle units, times the settle price.
            // Inverse: q·cs is already a USD (quote) amount.
            let value = instrument.kind.settlement == .inverse ? q : q * DoubleBoundary.double(mark) * settlePrice
            exposure[instrument.base, default: 0] += value
        }
        let gross = exposure.values.reduce(0) { $0 + abs($1) }
        var out: [Int: HaircutModel.Breakdown] = [:]
        for balance in account.collateral where balance.asset != account.settle && balance.amount.isPositive {
            guard let stats = assets[balance.asset] else { continue }
            let asset = market.assets[balance.asset]
            let price = DoubleBoundary.double(asset.price)
            let amount = DoubleBoundary.double(balance.amount)
            var rho = 0.0
            if gross > 0 {
                for (base, e) in exposure {
                    guard let b = market.assets.firstIndex(where: { $0.symbol == base }) else { continue }
                    let correlation = b == balance.asset ? 1 : (stats.correlations[b] ?? 0)
                    rho += correlation * e / gross
                }
            }
            out[balance.asset] = model.haircut(HaircutModel.Holding(dailyVolatility: stats.dailyVolatility, dailyVolume: stats.dailyVolume,
                                                                    amount: amount, price: price, exposureCorrelation: rho,
                                                                    exposureRatio: amount * price > 0 ? gross / (amount * price) : 0))
        }
        return out
    }

    /// `market` with this account's modelled haircuts (rounded up to 1e-6, never down).
    public func market(for account: Account, base market: Market) -> (Market, [Int: HaircutModel.Breakdown]) {
        let breakdowns = haircuts(for: account, market: market)
        guard !breakdowns.isEmpty else { return (market, breakdowns) }
        var adjusted = market
        for (asset, breakdown) in breakdowns {
            let raw = Int128((breakdown.total * 1e6).rounded(.up)) * 1_000_000_000_000
            adjusted.assets[asset].haircut = FixedDecimal.minimum(.one, FixedDecimal(raw: raw))
        }
        return (adjusted, breakdowns)
    }
}
