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

    public init(warningRatio: FixedDecimal, callRatio: FixedDecimal, restoreRatio: FixedDecimal) {
        self.warningRatio = warningRatio
        self.callRatio = callRatio
        self.restoreRatio = restoreRatio
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
