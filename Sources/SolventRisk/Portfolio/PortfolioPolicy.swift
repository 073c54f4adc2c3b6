public import SolventCore

/// How an account is margined.
public enum AccountMode: String, Sendable, Hashable, Codable {
    /// Cross and isolated pools with bracket maintenance (the evaluation contract).
    case standard
    /// One pool, scenario (portfolio) margin over every position and hedging collateral.
    case portfolio
}

/// Parameters of scenario margin (docs/evaluate.md, "Portfolio (scenario) margin").
/// Fractions are plain decimals (0.15 = 15 %).
public struct PortfolioPolicy: Sendable, Hashable, Codable {
    /// A correlation between two underlying groups.
    public struct Correlation: Sendable, Hashable, Codable {
        public var first: String
        public var second: String
        /// In [−1, 1].
        public var rho: FixedDecimal
        /// `first/second`, as given.
        public var name: String { "\(first)/\(second)" }

        public init(first: String, second: String, rho: FixedDecimal) {
            self.first = first
            self.second = second
            self.rho = rho
        }
    }

    /// Default price scan range `R` (relative move), > 0.
    public var priceRange = FixedDecimal("0.15")!
    /// Range per underlying group, overriding `priceRange`.
    public var priceRanges: [String: FixedDecimal] = [:]
    /// Number of moves from −R to +R, odd, ≥ 3.
    public var priceSteps = 13
    /// Relative vol shock at the reference tenor, ≥ 0.
    public var volShock = FixedDecimal("0.20")!
    /// Largest relative vol shock, ≥ 0.
    public var volShockCap = FixedDecimal("0.50")!
    /// Tenor (days) at which the shock is `volShock`; shorter tenors get `volShock·√(ref/days)`.
    public var volShockReferenceDays = 30
    /// Extreme moves are ±`extremeMultiple`·R ...
    public var extremeMultiple = FixedDecimal(2)
    /// ... counted at this fraction of their loss, in [0, 1].
    public var extremeFraction = FixedDecimal("0.35")!
    /// Charge per short option as a fraction of its underlying notional, ≥ 0.
    public var shortOptionMinimum = FixedDecimal("0.01")!
    /// Floor per group as a fraction of the gross notional of its perpetuals and futures, ≥ 0:
    /// a hedged book (spot against perpetual) still carries basis risk.
    public var basisMinimum = FixedDecimal("0.005")!
    /// MM = this fraction of IM, in (0, 1].
    public var maintenanceFraction = FixedDecimal("0.75")!
    /// Share of an offsetting pair's hedged risk credited, scaled by |ρ|, in [0, 1].
    public var correlationCredit = FixedDecimal("0.70")!
    /// Correlations between groups; pairs not listed get no credit.
    public var correlations: [Correlation] = []

    public init() {}

    /// The range of `group`.
    public func range(of group: String) -> FixedDecimal { priceRanges[group] ?? priceRange }
}

/// Implied volatility by strike for one underlying: linear between points, flat beyond.
public struct VolatilitySmile: Sendable, Hashable {
    /// (strike, vol) sorted by strike, strikes distinct, vols > 0.
    public var points: [(strike: Double, vol: Double)]

    public static func == (a: VolatilitySmile, b: VolatilitySmile) -> Bool {
        a.points.map(\.strike) == b.points.map(\.strike) && a.points.map(\.vol) == b.points.map(\.vol)
    }

    public func hash(into hasher: inout Hasher) {
        for p in points { hasher.combine(p.strike); hasher.combine(p.vol) }
    }

    public init(points: [(strike: Double, vol: Double)]) {
        precondition(!points.isEmpty, "a smile needs at least one point")
        self.points = points.sorted { $0.strike < $1.strike }
    }

    /// The vol at `strike`.
    public func vol(at strike: Double) -> Double {
        if strike <= points[0].strike { return points[0].vol }
        for k in 1..<points.count where strike <= points[k].strike {
            let (k0, v0) = points[k - 1], (k1, v1) = points[k]
            return v0 + (v1 - v0) * (strike - k0) / (k1 - k0)
        }
        return points[points.count - 1].vol
    }
}

/// What option valuation reads besides the market: the valuation time, the rate and vols.
public struct OptionInputs: Sendable, Hashable {
    /// ms since the epoch; required when an option is held.
    public var valuationTime: Int64?
    /// Continuously compounded, per year.
    public var rate: FixedDecimal = .zero
    /// Implied vol per option instrument index.
    public var impliedVols: [Int: FixedDecimal] = [:]
    /// Smile per underlying name (the option's `underlying`).
    public var smiles: [String: VolatilitySmile] = [:]

    public init(valuationTime: Int64? = nil, rate: FixedDecimal = .zero, impliedVols: [Int: FixedDecimal] = [:], smiles: [String: VolatilitySmile] = [:]) {
        self.valuationTime = valuationTime
        self.rate = rate
        self.impliedVols = impliedVols
        self.smiles = smiles
    }
}
