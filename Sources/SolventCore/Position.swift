/// Cross (shares the account's pool) or isolated (its own pool and margin).
public enum MarginMode: Sendable, Hashable, Codable {
    case cross
    /// An isolated pool holding `margin` (settle asset, ≥ 0).
    case isolated(margin: FixedDecimal)

    @inlinable public var isCross: Bool { if case .cross = self { return true } else { return false } }
}

/// An open position in one instrument.
public struct Position: Sendable, Hashable, Codable {
    /// Index of the instrument in the market's instrument table.
    public var instrument: Int
    /// Signed size in contracts: positive long, negative short; never zero.
    public var quantity: FixedDecimal
    /// Average entry price, > 0.
    public var entryPrice: FixedDecimal
    /// Chosen leverage (> 0); nil means the bracket's maximum.
    public var leverage: FixedDecimal?
    public var marginMode: MarginMode

    public init(instrument: Int, quantity: FixedDecimal, entryPrice: FixedDecimal, leverage: FixedDecimal?, marginMode: MarginMode) {
        self.instrument = instrument
        self.quantity = quantity
        self.entryPrice = entryPrice
        self.leverage = leverage
        self.marginMode = marginMode
    }

    /// `+1` long, `-1` short.
    @inlinable public var side: Int { quantity.signum }
}

/// One balance of an account's multi-asset collateral.
public struct CollateralBalance: Sendable, Hashable, Codable {
    /// Index of the asset in the market's asset table.
    public var asset: Int
    /// Amount in units of the asset; negative means borrowed.
    public var amount: FixedDecimal

    public init(asset: Int, amount: FixedDecimal) {
        self.asset = asset
        self.amount = amount
    }
}

/// An account: collateral in several assets, positions, and the asset it is valued in.
public struct Account: Sendable, Hashable, Codable {
    public var id: String
    /// Index of the asset margin is expressed in (the settle asset of its positions).
    public var settle: Int
    /// Cross-pool collateral, one entry per asset.
    public var collateral: [CollateralBalance]
    /// Positions in input order; at most one cross position per instrument.
    public var positions: [Position]

    public init(id: String, settle: Int, collateral: [CollateralBalance], positions: [Position]) {
        self.id = id
        self.settle = settle
        self.collateral = collateral
        self.positions = positions
    }
}
