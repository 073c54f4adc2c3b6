public import SolventCore

/// One level of an order book: price and quantity in contracts (> 0).
public struct BookLevel: Sendable, Hashable, Codable {
    public var price: FixedDecimal
    public var quantity: FixedDecimal
    public init(price: FixedDecimal, quantity: FixedDecimal) {
        self.price = price
        self.quantity = quantity
    }
}

/// A change of risk parameters, taking effect at a time.
public struct ParameterChange: Sendable, Hashable, Codable {
    /// New bracket tables by instrument symbol.
    public var brackets: [String: BracketTable]
    /// New haircuts by asset symbol, in [0, 1].
    public var haircuts: [String: FixedDecimal]
    /// New engine parameters (policy, grace period, breakers), if changed.
    public var parameters: EngineParameters?

    public init(brackets: [String: BracketTable] = [:], haircuts: [String: FixedDecimal] = [:], parameters: EngineParameters? = nil) {
        self.brackets = brackets
        self.haircuts = haircuts
        self.parameters = parameters
    }
}

/// Everything that can change the engine's state. Time only advances through commands
/// (`tick`, or the `time` of any command); the engine never reads a clock.
public enum EngineCommand: Sendable, Hashable, Codable {
    /// Credits `amount` (> 0) of `asset`; opens the account (settled in `settle`, default the asset) if new.
    case deposit(account: String, asset: String, amount: FixedDecimal, settle: String?)
    /// Debits `amount` (> 0), checked against initial margin and margin calls.
    case withdraw(account: String, asset: String, amount: FixedDecimal)
    /// A limit order: `quantity` signed contracts (+ buy), checked pre-trade; accepted orders reserve margin.
    case placeOrder(id: String, account: String, symbol: String, quantity: FixedDecimal, price: FixedDecimal, reduceOnly: Bool)
    case cancelOrder(id: String)
    /// An execution from the matching engine: signed contracts at `price`, `fee` (settle units, may be negative for rebates).
    case fill(account: String, symbol: String, quantity: FixedDecimal, price: FixedDecimal, fee: FixedDecimal, orderID: String?)
    /// A mark price with its source time (ms) .
    case markPrice(symbol: String, price: FixedDecimal, sourceTime: Int64)
    /// An index price with its source time (ms).
    case indexPrice(symbol: String, price: FixedDecimal, sourceTime: Int64)
    /// The price of a collateral asset (in the common quote).
    case assetPrice(asset: String, price: FixedDecimal)
    /// An order-book snapshot for the liquidation depth model: bids high→low, asks low→high.
    case book(symbol: String, bids: [BookLevel], asks: [BookLevel])
    /// A funding rate applied at the mark: longs pay `q·cs·mark·rate` to shorts when positive.
    case funding(symbol: String, rate: FixedDecimal)
    case setLeverage(account: String, symbol: String, leverage: FixedDecimal)
    /// Switches an instrument's margin mode for an account (only without a position or orders in it).
    case setMarginMode(account: String, symbol: String, isolated: Bool)
    /// Moves `amount` into (+) or out of (−) an isolated position's margin.
    case moveIsolatedMargin(account: String, symbol: String, amount: FixedDecimal)
    /// Risk-parameter change, applied when time reaches `effectiveTime`.
    case changeParameters(ParameterChange, effectiveTime: Int64)
    /// Time passes.
    case tick
    /// A deposit seen on a blockchain in block `height` with hash `blockHash`. It counts as
    /// collateral once `finality_depth` blocks confirm it; before that only at
    /// `1 − unconfirmed_haircut` when the policy sets one (otherwise not at all).
    case chainDeposit(account: String, asset: String, amount: FixedDecimal, settle: String?, chain: String, height: Int64, blockHash: String)
    /// The chain's current tip height: deposits reaching the finality depth become final.
    case chainTip(chain: String, height: Int64)
    /// A reorganization: blocks from `forkHeight` on are replaced by `newHashes` (height →
    /// hash); deposits in replaced blocks are orphaned and their credit is reversed.
    case chainReorg(chain: String, forkHeight: Int64, newHashes: [Int64: String])
}

/// A command with its time (ms since epoch) and client idempotency key.
public struct TimedCommand: Sendable, Hashable, Codable {
    public var time: Int64
    public var command: EngineCommand
    /// Client idempotency key (unique per logical command); empty when none.
    public var key: String

    public init(time: Int64, command: EngineCommand, key: String = "") {
        self.time = time
        self.command = command
        self.key = key
    }
}
