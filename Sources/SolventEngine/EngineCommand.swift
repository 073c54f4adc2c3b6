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

/// A change of risk parameters, taking effect at a time. Only what it names changes: bracket
/// tables of the named instruments, haircuts of the named assets, and the named engine
/// parameters (`ParameterUpdate`), merged into what is in force at the effective time.
public struct ParameterChange: Sendable, Hashable, Codable {
    /// New bracket tables by instrument symbol.
    public var brackets: [String: BracketTable]
    /// New haircuts by asset symbol, in [0, 1].
    public var haircuts: [String: FixedDecimal]
    /// The engine parameters it names (policy, grace period, breakers, …), if any.
    public var parameters: ParameterUpdate?
    /// Lending terms by asset symbol, each a partial update (docs/loans.md); nil = none named.
    public var lending: [String: LendingTermsUpdate]? = nil
    /// Debt margin rates (defaults and per asset), if named (docs/loans.md).
    public var debtRates: DebtRatesChange? = nil

    public init(brackets: [String: BracketTable] = [:], haircuts: [String: FixedDecimal] = [:], update: ParameterUpdate?) {
        self.brackets = brackets
        self.haircuts = haircuts
        self.parameters = update
    }

    /// A change that sets every engine parameter to `parameters` (all fields named).
    public init(brackets: [String: BracketTable] = [:], haircuts: [String: FixedDecimal] = [:], parameters: EngineParameters? = nil) {
        self.init(brackets: brackets, haircuts: haircuts, update: parameters.map(ParameterUpdate.init(all:)))
    }
}

/// A value that may be set to none (`null` in a scenario): the liquidation notional cap, the
/// unconfirmed-deposit haircut.
public struct Nullable<Value: Sendable & Hashable & Codable>: Sendable, Hashable, Codable {
    public var value: Value?
    public init(_ value: Value?) { self.value = value }
}

/// A partial update of `EngineParameters`: every field optional; a named (non-nil) field
/// replaces the one in force, an absent one keeps it.
public struct ParameterUpdate: Sendable, Hashable, Codable {
    public var warningRatio: FixedDecimal?
    public var callRatio: FixedDecimal?
    public var restoreRatio: FixedDecimal?
    public var gracePeriodMs: Int64?
    public var hysteresis: FixedDecimal?
    public var liquidationFeeRate: FixedDecimal?
    public var liquidationStepFraction: FixedDecimal?
    public var liquidationStepsPerCommand: Int?
    public var liquidationNotionalCap: Nullable<FixedDecimal>?
    public var liquidationCapIntervalMs: Int64?
    public var priceBand: FixedDecimal?
    public var oracleDivergenceLimit: FixedDecimal?
    public var indexMoveLimit: FixedDecimal?
    public var indexMoveWindowMs: Int64?
    public var markStalenessMs: Int64?
    public var execution: LiquidationExecution?
    public var backstopEnabled: Bool?
    public var adlEnabled: Bool?
    public var finalityDepth: Int64?
    public var unconfirmedHaircut: Nullable<FixedDecimal>?
    public var socializeOver: SocializationBase?
    /// The thin-book option delta hedge (`option_delta_hedge`, Engine+OptionLiquidation.swift):
    /// `true` turns it on, `false` off (stored as nil in `EngineParameters`). Last so that an
    /// update without it describes (and hashes, Engine+StateHash.swift) as before it existed.
    public var optionDeltaHedge: Bool? = nil
    /// `option_mark_tolerance` (Engine+StaleOptionMarks.swift); after the delta hedge for the same reason.
    public var optionMarkTolerance: FixedDecimal? = nil

    public init() {}

    /// Every field named, with the values of `p`; the delta hedge only when `p` has it on (off
    /// is not named, so such an update keeps the flag in force and hashes as before it existed).
    public init(all p: EngineParameters) {
        warningRatio = p.policy.warningRatio; callRatio = p.policy.callRatio; restoreRatio = p.policy.restoreRatio
        gracePeriodMs = p.gracePeriodMs; hysteresis = p.hysteresis; liquidationFeeRate = p.liquidationFeeRate
        liquidationStepFraction = p.liquidationStepFraction; liquidationStepsPerCommand = p.liquidationStepsPerCommand
        liquidationNotionalCap = Nullable(p.liquidationNotionalCap); liquidationCapIntervalMs = p.liquidationCapIntervalMs
        priceBand = p.priceBand; oracleDivergenceLimit = p.oracleDivergenceLimit; indexMoveLimit = p.indexMoveLimit
        indexMoveWindowMs = p.indexMoveWindowMs; markStalenessMs = p.markStalenessMs; execution = p.execution
        backstopEnabled = p.backstopEnabled; adlEnabled = p.adlEnabled; finalityDepth = p.finalityDepth
        unconfirmedHaircut = Nullable(p.unconfirmedHaircut); socializeOver = p.socializeOver
        optionDeltaHedge = p.optionDeltaHedge  // nil when off: not named, so the hash of such an update is as before
        optionMarkTolerance = p.optionMarkTolerance  // nil at the default: not named
    }

    /// Whether it names no field.
    public var isEmpty: Bool { self == ParameterUpdate() }

    /// `p` with the named fields replaced.
    public func merged(into p: EngineParameters) -> EngineParameters {
        var r = p
        if let v = warningRatio { r.policy.warningRatio = v }
        if let v = callRatio { r.policy.callRatio = v }
        if let v = restoreRatio { r.policy.restoreRatio = v }
        if let v = gracePeriodMs { r.gracePeriodMs = v }
        if let v = hysteresis { r.hysteresis = v }
        if let v = liquidationFeeRate { r.liquidationFeeRate = v }
        if let v = liquidationStepFraction { r.liquidationStepFraction = v }
        if let v = liquidationStepsPerCommand { r.liquidationStepsPerCommand = v }
        if let v = liquidationNotionalCap { r.liquidationNotionalCap = v.value }
        if let v = liquidationCapIntervalMs { r.liquidationCapIntervalMs = v }
        if let v = priceBand { r.priceBand = v }
        if let v = oracleDivergenceLimit { r.oracleDivergenceLimit = v }
        if let v = indexMoveLimit { r.indexMoveLimit = v }
        if let v = indexMoveWindowMs { r.indexMoveWindowMs = v }
        if let v = markStalenessMs { r.markStalenessMs = v }
        if let v = execution { r.execution = v }
        if let v = backstopEnabled { r.backstopEnabled = v }
        if let v = adlEnabled { r.adlEnabled = v }
        if let v = finalityDepth { r.finalityDepth = v }
        if let v = unconfirmedHaircut { r.unconfirmedHaircut = v.value }
        if let v = socializeOver { r.socializeOver = v }
        if let v = optionDeltaHedge { r.optionDeltaHedge = v ? true : nil }  // off is nil (EngineParameters.optionDeltaHedge)
        if let v = optionMarkTolerance { r.optionMarkTolerance = v }  // Engine+StaleOptionMarks.swift
        return r
    }

    /// The parameters whose value differs between `old` and `new`, by scenario field name,
    /// with both values as text (`null` for none), in a fixed order.
    public static func differences(_ old: EngineParameters, _ new: EngineParameters) -> [(field: String, old: String, new: String)] {
        func text<T>(_ v: T?) -> String { v.map { "\($0)" } ?? "null" }
        var result: [(String, String, String)] = []
        func check<T: Equatable>(_ name: String, _ a: T?, _ b: T?) { if a != b { result.append((name, text(a), text(b))) } }
        check("warning_ratio", old.policy.warningRatio, new.policy.warningRatio)
        check("call_ratio", old.policy.callRatio, new.policy.callRatio)
        check("restore_ratio", old.policy.restoreRatio, new.policy.restoreRatio)
        check("grace_period_ms", old.gracePeriodMs, new.gracePeriodMs)
        check("hysteresis", old.hysteresis, new.hysteresis)
        check("liquidation_fee_rate", old.liquidationFeeRate, new.liquidationFeeRate)
        check("liquidation_step_fraction", old.liquidationStepFraction, new.liquidationStepFraction)
        check("liquidation_steps_per_command", old.liquidationStepsPerCommand, new.liquidationStepsPerCommand)
        check("liquidation_notional_cap", old.liquidationNotionalCap, new.liquidationNotionalCap)
        check("liquidation_cap_interval_ms", old.liquidationCapIntervalMs, new.liquidationCapIntervalMs)
        check("price_band", old.priceBand, new.priceBand)
        check("oracle_divergence_limit", old.oracleDivergenceLimit, new.oracleDivergenceLimit)
        check("index_move_limit", old.indexMoveLimit, new.indexMoveLimit)
        check("index_move_window_ms", old.indexMoveWindowMs, new.indexMoveWindowMs)
        check("mark_staleness_ms", old.markStalenessMs, new.markStalenessMs)
        check("execution", old.execution.rawValue, new.execution.rawValue)
        check("backstop", old.backstopEnabled, new.backstopEnabled)
        check("adl", old.adlEnabled, new.adlEnabled)
        check("finality_depth", old.finalityDepth, new.finalityDepth)
        check("unconfirmed_haircut", old.unconfirmedHaircut, new.unconfirmedHaircut)
        check("socialize_over", old.socializeOver.rawValue, new.socializeOver.rawValue)
        check("option_delta_hedge", old.deltaHedgeEnabled, new.deltaHedgeEnabled)
        // The tolerance in effect (absent is the default 0.01), so naming the default changes nothing.
        check("option_mark_tolerance", old.optionMarkTolerance ?? Engine.defaultOptionMarkTolerance,
              new.optionMarkTolerance ?? Engine.defaultOptionMarkTolerance)
        return result
    }
}

/// Everything that can change the engine's state. Time only advances through commands
/// (`tick`, or the `time` of any command); the engine never reads a clock.
public enum EngineCommand: Sendable, Hashable, Codable {
    /// Credits `amount` (> 0) of `asset`; opens the account (settled in `settle`, default the asset) if new.
    case deposit(account: String, asset: String, amount: FixedDecimal, settle: String?)
    /// Debits `amount` (> 0), at most what is withdrawable (`collateral − IM − open-order
    /// margin + min(0, uPnL)`: unrealized profit is not withdrawable); none in a margin call.
    case withdraw(account: String, asset: String, amount: FixedDecimal)
    /// A limit order: `quantity` signed contracts (+ buy), checked pre-trade; accepted orders reserve margin.
    case placeOrder(id: String, account: String, symbol: String, quantity: FixedDecimal, price: FixedDecimal, reduceOnly: Bool)
    /// Cancels an open order. Order ids are the account's own (two accounts may use the same id):
    /// `account` names whose; without it the id must name exactly one account's open order
    /// (as in every journal and scenario written before ids were scoped).
    case cancelOrder(id: String, account: String? = nil)
    /// An execution from the matching engine: signed contracts at `price`, `fee` (settle units, may be negative for rebates).
    /// On a reduce-only order, or while the account is in a margin call, it is capped at what
    /// closes the position; the excess is a `rejected` event and is not applied.
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
    /// Risk-parameter change, applied when time reaches `effectiveTime`: only what it names
    /// changes, merged into what is in force then.
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
    /// An option's mark price (premium per contract unit, settle units) and mark implied vol (a
    /// yearly fraction in (0, 10]) with their source time (ms); docs/options.md.
    case optionMark(symbol: String, price: FixedDecimal, impliedVol: FixedDecimal, sourceTime: Int64)
    /// Portfolio (one pool, scenario margin) or standard; only without positions and open orders.
    case setAccountMode(account: String, portfolio: Bool)
    /// The price a dated instrument settles at on expiry: a future's settlement price, an
    /// option's underlying expiration price (the option pays its intrinsic value). Before expiry.
    case settlementPrice(symbol: String, price: FixedDecimal)
    /// A volatility surface slice for the options on `underlying` expiring at `expiry` (ms):
    /// implied vols (yearly fractions in (0, 10]) at strictly increasing `strikes` (settle
    /// units), observed at `sourceTime` (ms); prices those options by Black-76 unless they have a
    /// fed mark at least as fresh (docs/options.md, "Volatility surface"; Engine+VolSurface.swift).
    /// `sticky`: how the smile moves with the underlying (VolSurfaceSticky.swift), sticky strike
    /// by default.
    case volSurface(underlying: String, expiry: Int64, strikes: [FixedDecimal], vols: [FixedDecimal], sourceTime: Int64,
                    sticky: VolSurfaceSticky = .strike)
    /// Borrows `amount` (> 0) of `asset` from the lending pool (docs/loans.md): the asset is
    /// credited and owed as principal, with one hour's interest charged at once. Refused in a
    /// margin call, beyond the asset's or the account's borrow cap or the pool's available
    /// liquidity, and unless the cross pool meets its initial margin without the borrowed funds.
    case borrow(account: String, asset: String, amount: FixedDecimal)
    /// Repays `amount` (> 0, at most what is owed) of the account's loan in `asset` from its own
    /// balance of the asset: accrued interest first, then principal (docs/loans.md).
    case repay(account: String, asset: String, amount: FixedDecimal)
    /// A cross-shard message delivered to this shard (docs/cluster.md, stage 2): message
    /// `messageID` from shard `fromShard`. Applied once per id (a repeat is ignored, and an event
    /// says so). Internal: only the cluster's own delivery appends it, never a client.
    case deliver(messageID: String, fromShard: Int, body: OutboxBody)
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
