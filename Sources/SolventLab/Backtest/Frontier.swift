public import SolventCore
public import SolventRisk

/// The capital-against-shortfall frontier (docs/lab.md): every margin model and parameter set
/// backtested on the same history and book; what each locks (mean and peak first-bracket rate,
/// the lowest leverage cap it imposed) against what it lets through (shortfall beyond
/// bankruptcy: fund draws, ADL, socialized loss, bad debt). A point is on the Pareto frontier
/// when no other point locks no more capital and lets no more through, one of them strictly less.
public enum Frontier {
    /// One model and parameter set.
    public struct Variant: Sendable, Hashable {
        public var label: String
        /// `static`, `calibrated` or `dynamic` (the colour family in the plot).
        public var family: String
        public var model: MarginModel
        /// Static tiers scaled by this factor.
        public var staticScale = 1.0
        /// First-bracket horizon in seconds (dynamic models); nil: one bar.
        public var horizonSeconds: Double? = nil
        public var coverage = 0.995
        /// The industry's own table (drawn apart on the plot).
        public var industry = false

        public init(label: String, family: String, model: MarginModel, staticScale: Double = 1, horizonSeconds: Double? = nil,
                    coverage: Double = 0.995, industry: Bool = false) {
            self.label = label
            self.family = family
            self.model = model
            self.staticScale = staticScale
            self.horizonSeconds = horizonSeconds
            self.coverage = coverage
            self.industry = industry
        }
    }

    /// What one variant locked and let through.
    public struct Point: Sendable, Hashable {
        public var variant: Variant
        public var meanRate: Double
        public var peakRate: Double
        /// Lowest first-bracket leverage cap in force.
        public var maxLeverage: Double
        public var shortfall: Double
        public var fundDraws: Double
        public var adl: Double
        public var adlEvents: Int
        public var socialized: Double
        public var badDebt: Double
        public var liquidations: Int
        public var onFrontier = false
    }

    /// The variants of the report: the industry (Binance-like) tiers and their multiples, the
    /// calibrated model at liquidation horizons from one minute to one bar and three coverages,
    /// and the two daily dynamic models.
    public static func defaultVariants(barMs: Int64) -> [Variant] {
        var out: [Variant] = [
            Variant(label: "static ×0.5", family: "static", model: .staticTiers, staticScale: 0.5),
            Variant(label: "industry tiers", family: "static", model: .staticTiers, industry: true),
            Variant(label: "static ×2", family: "static", model: .staticTiers, staticScale: 2),
            Variant(label: "static ×5", family: "static", model: .staticTiers, staticScale: 5),
            Variant(label: "static ×15", family: "static", model: .staticTiers, staticScale: 15),
        ]
        let bar = Double(barMs) / 1000
        for seconds in [60.0, 300, 900, bar] where seconds <= bar {
            out.append(Variant(label: "calibrated \(RangeVolatility.formatHorizon(seconds))", family: "calibrated", model: .calibrated, horizonSeconds: seconds))
        }
        for coverage in [0.99, 0.999] {
            out.append(Variant(label: "calibrated \(RangeVolatility.formatHorizon(bar)) \(DoubleBoundary.shortestText(coverage * 100))%", family: "calibrated",
                               model: .calibrated, horizonSeconds: bar, coverage: coverage))
        }
        out.append(Variant(label: "dynamic (APC)", family: "dynamic", model: .dynamic))
        out.append(Variant(label: "dynamic_raw", family: "dynamic", model: .dynamicRaw))
        return out
    }

    /// Backtests every variant under `config` (same book, fund and seed).
    public static func run(bars: [Bar], variants: [Variant], config: BacktestConfig, progress: ((Double) -> Void)? = nil) -> [Point] {
        var points: [Point] = []
        for (k, variant) in variants.enumerated() {
            var c = config
            c.label = variant.label
            c.staticScale = variant.staticScale
            c.dynamicPolicy.coverage = variant.coverage
            c.dynamicPolicy.horizonSeconds = variant.horizonSeconds
            let r = Backtest.run(bars: bars, model: variant.model, config: c)
            points.append(Point(variant: variant, meanRate: r.meanMaintenanceRate, peakRate: r.peakMaintenanceRate, maxLeverage: r.minimumMaxLeverage,
                                shortfall: r.totalShortfall, fundDraws: r.fundDraws, adl: r.adlCovered, adlEvents: r.adlEvents, socialized: r.socialized,
                                badDebt: r.badDebt, liquidations: r.liquidations))
            progress?(Double(k + 1) / Double(variants.count))
        }
        return mark(points)
    }

    /// Marks the Pareto-optimal points (minimizing mean rate and shortfall).
    public static func mark(_ points: [Point]) -> [Point] {
        let flags = pareto(points.map { ($0.meanRate, $0.shortfall) })
        return zip(points, flags).map { p, f in var q = p; q.onFrontier = f; return q }
    }

    /// For each pair `(x, y)` (both to minimize), whether no other pair dominates it (≤ in both,
    /// < in one). Equal pairs do not dominate each other.
    public static func pareto(_ pairs: [(Double, Double)]) -> [Bool] {
        pairs.indices.map { i in
            !pairs.indices.contains { j in
                j != i && pairs[j].0 <= pairs[i].0 && pairs[j].1 <= pairs[i].1 && (pairs[j].0 < pairs[i].0 || pairs[j].1 < pairs[i].1)
            }
        }
    }

    /// The recommendation for an insurance fund of `fund`: the frontier point locking the least
    /// capital (lowest mean rate) whose whole shortfall beyond bankruptcy stays within `budget` of
    /// the fund (so the fund alone absorbs it with room for the next event: no ADL, no socialized
    /// loss). nil when none qualifies.
    public static func recommend(_ points: [Point], fund: Double, budget: Double = 0.5) -> Point? {
        points.filter { $0.onFrontier && $0.shortfall <= budget * fund && $0.socialized == 0 && $0.badDebt == 0 }
            .min { $0.meanRate < $1.meanRate }
    }
}
