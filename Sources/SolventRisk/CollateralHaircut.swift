import RealModule

/// Collateral haircuts from the asset's volatility, its market depth, the size held and
/// wrong-way risk (docs/haircuts.md). Statistics in `Double`; the result crosses into the
/// decimal world through ``DoubleBoundary`` like every model output.
public struct HaircutModel: Sendable, Hashable {
    /// One-sided normal quantile of the confidence level (2.576 ≈ 99.5%).
    public var confidenceZ: Double
    /// Liquidation horizon in days before selling starts.
    public var horizonDays: Double
    /// Share of an asset's daily volume that can be sold without leading the market.
    public var participation: Double
    /// Value tiers `(floor, extra haircut)` in increasing floors (the first floor is 0):
    /// each slice of a holding's value takes its tier's extra haircut (Bybit/Binance style).
    public var concentrationTiers: [(floor: Double, extra: Double)]
    /// Weight of the wrong-way add-on (0 disables it).
    public var wrongWayWeight: Double
    /// Upper bound of the total haircut.
    public var maximum: Double

    public static func == (a: HaircutModel, b: HaircutModel) -> Bool {
        a.confidenceZ == b.confidenceZ && a.horizonDays == b.horizonDays && a.participation == b.participation
            && a.concentrationTiers.map(\.floor) == b.concentrationTiers.map(\.floor)
            && a.concentrationTiers.map(\.extra) == b.concentrationTiers.map(\.extra)
            && a.wrongWayWeight == b.wrongWayWeight && a.maximum == b.maximum
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(confidenceZ)
        hasher.combine(horizonDays)
        hasher.combine(participation)
    }

    public init(confidenceZ: Double = 2.576, horizonDays: Double = 1, participation: Double = 0.1,
                concentrationTiers: [(floor: Double, extra: Double)] = [(0, 0), (1_000_000, 0.02), (10_000_000, 0.05), (50_000_000, 0.15)],
                wrongWayWeight: Double = 0.5, maximum: Double = 1) {
        precondition(confidenceZ > 0 && horizonDays >= 0 && participation > 0 && maximum > 0 && maximum <= 1, "invalid haircut model")
        precondition(concentrationTiers.first?.floor == 0, "concentration tiers start at 0")
        self.confidenceZ = confidenceZ
        self.horizonDays = horizonDays
        self.participation = participation
        self.concentrationTiers = concentrationTiers
        self.wrongWayWeight = wrongWayWeight
        self.maximum = maximum
    }

    /// What a holding and its account look like to the model.
    public struct Holding: Sendable, Hashable {
        /// Daily volatility of the asset's log price (0.04 = 4%).
        public var dailyVolatility: Double
        /// Daily traded volume, in units of the asset.
        public var dailyVolume: Double
        /// Units held.
        public var amount: Double
        /// Price in the common quote.
        public var price: Double
        /// Correlation between the asset and the account's net exposure direction: +1 when the
        /// account is long the same asset (BTC collateral backing a long BTC perp), −1 when short.
        public var exposureCorrelation: Double
        /// The account's net exposure notional in that direction divided by this holding's value.
        public var exposureRatio: Double

        public init(dailyVolatility: Double, dailyVolume: Double, amount: Double, price: Double,
                    exposureCorrelation: Double = 0, exposureRatio: Double = 0) {
            self.dailyVolatility = dailyVolatility
            self.dailyVolume = dailyVolume
            self.amount = amount
            self.price = price
            self.exposureCorrelation = exposureCorrelation
            self.exposureRatio = exposureRatio
        }
    }

    /// The haircut and where it comes from (fractions of value, each ≥ 0).
    public struct Breakdown: Sendable, Hashable {
        /// A `z`-sigma fall over the horizon: `1 − e^(−z·σ·√H)`.
        public var volatility: Double
        /// The extra fall while the holding is sold into the book over `amount / (participation·volume)` days.
        public var liquidity: Double
        /// Value-tiered concentration add-on.
        public var concentration: Double
        /// Wrong-way add-on: `weight · ρ⁺ · min(1, exposure ratio) · (volatility + liquidity)`.
        public var wrongWay: Double
        /// `min(maximum, sum)`.
        public var total: Double
    }

    public func haircut(_ h: Holding) -> Breakdown {
        precondition(h.dailyVolatility >= 0 && h.amount >= 0 && h.price > 0 && h.dailyVolume >= 0, "invalid holding")
        func fall(_ days: Double) -> Double { 1 - Double.exp(-confidenceZ * h.dailyVolatility * days.squareRoot()) }
        let daysToSell = h.dailyVolume > 0 ? h.amount / (participation * h.dailyVolume) : .infinity
        // Selling evenly over `daysToSell` days: the average slice waits half of it.
        let market = daysToSell.isFinite ? fall(horizonDays + daysToSell / 2) : 1
        let volatility = fall(horizonDays)
        let value = h.amount * h.price
        var concentration = 0.0
        if value > 0 {
            for (k, tier) in concentrationTiers.enumerated() where value > tier.floor {
                let top = k + 1 < concentrationTiers.count ? min(value, concentrationTiers[k + 1].floor) : value
                concentration += (top - tier.floor) * tier.extra
            }
            concentration /= value
        }
        let wrongWay = wrongWayWeight * max(0, h.exposureCorrelation) * min(1, max(0, h.exposureRatio)) * market
        let total = min(maximum, market + concentration + wrongWay)
        return Breakdown(volatility: volatility, liquidity: market - volatility, concentration: concentration, wrongWay: wrongWay, total: total)
    }
}
