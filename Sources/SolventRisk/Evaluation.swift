public import SolventCore

/// Which margin pool a number belongs to.
public enum PoolID: Sendable, Hashable, Codable {
    /// The account's cross pool (collateral plus all cross positions).
    case cross
    /// The isolated pool of the position at this index in the account's list.
    case isolated(position: Int)
    /// The single pool of a portfolio (scenario-margined) account.
    case portfolio

    /// The contract's name: `cross` or `isolated:<symbol>:<position index>`.
    public func name(symbol: (Int) -> String) -> String {
        switch self {
        case .cross: return "cross"
        case .isolated(let index): return "isolated:\(symbol(index)):\(index)"
        case .portfolio: return "portfolio"
        }
    }
}

/// The margin numbers of one position. Amounts are in the instrument's settle asset.
public struct PositionEvaluation: Sendable, Hashable {
    public var pool: PoolID
    /// `|q|·cs·mark` (linear) or `|q|·cs/mark` (inverse), ≥ 0.
    public var notional: FixedDecimal
    /// Signed unrealized PnL at the mark.
    public var unrealizedPnl: FixedDecimal
    /// `notional · max(1/leverage, 1/max_leverage)`, ≥ 0.
    public var initialMargin: FixedDecimal
    /// `notional · mmr − maintenance_amount` of the bracket holding the notional.
    public var maintenanceMargin: FixedDecimal
    /// Index of the bracket holding the notional.
    public var bracket: Int
    /// Maintenance margin rate of that bracket.
    public var maintenanceMarginRate: FixedDecimal
    /// Mark at which the pool's equity equals its maintenance margin; nil when no positive price.
    public var liquidationPrice: FixedDecimal?
    /// Mark at which the pool's equity is zero; nil when no positive price.
    public var bankruptcyPrice: FixedDecimal?
}

/// The margin numbers of one pool. Amounts are in the account's settle asset.
public struct PoolEvaluation: Sendable, Hashable {
    public var pool: PoolID
    /// Collateral backing the pool: haircut collateral value (cross) or isolated margin.
    public var collateral: FixedDecimal
    /// `collateral + Σ uPnL`; may be negative (a shortfall is a state, not an error).
    public var equity: FixedDecimal
    public var initialMargin: FixedDecimal
    public var maintenanceMargin: FixedDecimal
    /// `MM / equity` rounded half-even; nil when equity ≤ 0.
    public var marginRatio: FixedDecimal?
    /// `max(0, equity − IM)`.
    public var available: FixedDecimal
    public var status: MarginStatus
    /// Collateral that restores the restore ratio: `max(0, MM/restore − equity)`; 0 when healthy or warning.
    public var callAmount: FixedDecimal
    /// Number of positions in the pool.
    public var positionCount: Int
    /// Settle value of the pool's negative balances (cross pool only; docs/loans.md), ≥ 0.
    public var debt: FixedDecimal = .zero
    /// `(equity + debt) / debt` rounded half-even; nil without debt (docs/loans.md).
    public var marginLevel: FixedDecimal? = nil

    /// Whether the pool has a margin requirement at all: positions or debt.
    public var isMargined: Bool { positionCount > 0 || debt.isPositive }
}

/// The collateral liquidation price of one positive balance (docs/loans.md).
public struct CollateralLiquidationPrice: Sendable, Hashable {
    public var asset: Int
    /// Asset price at which the cross pool reaches maintenance, all else fixed; nil when none.
    public var price: FixedDecimal?
    public init(asset: Int, price: FixedDecimal?) {
        self.asset = asset
        self.price = price
    }
}

/// The evaluation of one account.
public struct AccountEvaluation: Sendable, Hashable {
    /// The worst pool's status.
    public var status: MarginStatus
    /// Cross pool first, then one pool per isolated position in position order.
    public var pools: [PoolEvaluation]
    /// One entry per position, in the account's order.
    public var positions: [PositionEvaluation]
    /// One entry per positive collateral balance, in the account's order (empty when prices were skipped).
    public var collateralLiquidationPrices: [CollateralLiquidationPrice] = []

    /// The cross pool.
    public var cross: PoolEvaluation { pools[0] }
}
