/// A collateral asset: its price (in a common quote, e.g. USD) and its haircut.
public struct Asset: Sendable, Hashable, Codable {
    public var symbol: String
    /// Price in the common quote unit, > 0.
    public var price: FixedDecimal
    /// Fraction of value not counted as collateral, in [0, 1].
    public var haircut: FixedDecimal

    public init(symbol: String, price: FixedDecimal, haircut: FixedDecimal) {
        precondition(price.isPositive, "asset price must be positive")
        precondition(!haircut.isNegative && haircut <= .one, "haircut must be in [0, 1]")
        self.symbol = symbol
        self.price = price
        self.haircut = haircut
    }
}

/// Everything prices and parameters that an evaluation reads, as indexed tables.
public struct Market: Sendable, Hashable, Codable {
    public var assets: [Asset]
    public var instruments: [Instrument]
    /// Mark price per instrument (same index); nil when none was given.
    public var marks: [FixedDecimal?]

    public init(assets: [Asset], instruments: [Instrument], marks: [FixedDecimal?]) {
        precondition(marks.count == instruments.count, "one mark slot per instrument")
        self.assets = assets
        self.instruments = instruments
        self.marks = marks
    }
}

/// Thresholds of the margin-call procedure, as margin ratios (MM / equity).
public struct MarginPolicy: Sendable, Hashable, Codable {
    /// Ratio at which a pool enters `warning` (default 0.70).
    public var warningRatio: FixedDecimal
    /// Ratio at which a pool is in `margin_call` (default 0.85).
    public var callRatio: FixedDecimal
    /// Ratio a call must bring the pool back to (default 0.70).
    public var restoreRatio: FixedDecimal

    /// Maintenance margin per unit of debt (settle value of a negative balance), for assets
    /// without their own rate in ``debtRates`` (default 0.10: liquidation at a margin level of
    /// 1.1, Binance Margin's cross-margin liquidation level). docs/loans.md.
    public var debtMaintenanceRate: FixedDecimal = FixedDecimal(raw: 100_000_000_000_000_000)
    /// Initial margin per unit of debt (default 0.25: borrowing stops at a margin level of 1.25,
    /// i.e. a loan-to-value of 0.8, Aave v3's LTV for its major collateral). docs/loans.md.
    public var debtInitialRate: FixedDecimal = FixedDecimal(raw: 250_000_000_000_000_000)
    /// Per-asset overrides of the two debt rates, by asset index.
    public var debtRates: [Int: DebtRates] = [:]

    /// The debt margin rates of one borrowed asset.
    public struct DebtRates: Sendable, Hashable, Codable {
        public var maintenance: FixedDecimal
        public var initial: FixedDecimal
        public init(maintenance: FixedDecimal, initial: FixedDecimal) {
            self.maintenance = maintenance
            self.initial = initial
        }
    }

    /// The maintenance and initial rates for debt in `asset`.
    @inlinable public func debtRates(for asset: Int) -> DebtRates {
        debtRates[asset] ?? DebtRates(maintenance: debtMaintenanceRate, initial: debtInitialRate)
    }

    public init(warningRatio: FixedDecimal, callRatio: FixedDecimal, restoreRatio: FixedDecimal) {
        self.warningRatio = warningRatio
        self.callRatio = callRatio
        self.restoreRatio = restoreRatio
    }

    enum CodingKeys: String, CodingKey { case warningRatio, callRatio, restoreRatio, debtMaintenanceRate, debtInitialRate, debtRates }

    /// Documents written before debt margin (no debt keys) decode with the default debt rates.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        warningRatio = try c.decode(FixedDecimal.self, forKey: .warningRatio)
        callRatio = try c.decode(FixedDecimal.self, forKey: .callRatio)
        restoreRatio = try c.decode(FixedDecimal.self, forKey: .restoreRatio)
        if let v = try c.decodeIfPresent(FixedDecimal.self, forKey: .debtMaintenanceRate) { debtMaintenanceRate = v }
        if let v = try c.decodeIfPresent(FixedDecimal.self, forKey: .debtInitialRate) { debtInitialRate = v }
        if let v = try c.decodeIfPresent([Int: DebtRates].self, forKey: .debtRates) { debtRates = v }
    }

    /// 0.70 / 0.85 / 0.70, as in the contract.
    public static let standard = MarginPolicy(
        warningRatio: FixedDecimal(raw: 700_000_000_000_000_000),
        callRatio: FixedDecimal(raw: 850_000_000_000_000_000),
        restoreRatio: FixedDecimal(raw: 700_000_000_000_000_000))
}

/// Status of a margin pool, from best to worst.
public enum MarginStatus: Int, Sendable, Hashable, Codable, Comparable, CaseIterable {
    /// ratio < warning.
    case healthy = 0
    /// warning ≤ ratio < call.
    case warning = 1
    /// call ≤ ratio < 1.
    case marginCall = 2
    /// ratio ≥ 1 (equity ≤ MM) with equity > 0.
    case liquidatable = 3
    /// equity ≤ 0.
    case bankrupt = 4

    public static func < (a: MarginStatus, b: MarginStatus) -> Bool { a.rawValue < b.rawValue }

    /// The contract's name: `healthy`, `warning`, `margin_call`, `liquidatable`, `bankrupt`.
    public var name: String {
        switch self {
        case .healthy: return "healthy"
        case .warning: return "warning"
        case .marginCall: return "margin_call"
        case .liquidatable: return "liquidatable"
        case .bankrupt: return "bankrupt"
        }
    }
}
