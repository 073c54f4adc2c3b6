public import SolventCore

/// Whom a socialized loss is charged to.
public enum SocializationBase: String, Sendable, Hashable, Codable {
    /// Accounts with unrealized profit in the bankrupt position's instrument, pro rata to it.
    case profitable
    /// Every account with a positive balance of the settle asset, pro rata to it.
    case all
}

/// Which execution port a liquidation step uses first.
public enum LiquidationExecution: String, Sendable, Hashable, Codable {
    /// Walk the latest book snapshot within the price band; the rest to the backstop if enabled.
    case depth
    /// The backstop liquidator takes the position at its bankruptcy price.
    case backstop
}

/// The risk policy of the engine. Ratios are margin ratios (MM / equity); times in ms.
public struct EngineParameters: Sendable, Hashable, Codable {
    /// Warning, call and restore thresholds.
    public var policy: MarginPolicy
    /// Time a margin call has to be cured, ms (0 for an exchange, hours for a lender).
    public var gracePeriodMs: Int64
    /// Hysteresis in ratio units: a warning clears below `warning − hysteresis`; a call is cured at `restore` or below.
    public var hysteresis: FixedDecimal
    /// Liquidation fee, a fraction of the liquidated notional, paid to the insurance fund out of the surplus.
    public var liquidationFeeRate: FixedDecimal
    /// Fraction of the riskiest position closed per liquidation step (0 < f ≤ 1).
    public var liquidationStepFraction: FixedDecimal
    /// Most liquidation steps in one command; the rest waits in the backlog.
    public var liquidationStepsPerCommand: Int
    /// Cap on liquidated notional per instrument per interval (settle units); nil = no cap.
    public var liquidationNotionalCap: FixedDecimal?
    /// Length of the cap's interval, ms.
    public var liquidationCapIntervalMs: Int64
    /// Liquidation fills must be within index·(1 ± band).
    public var priceBand: FixedDecimal
    /// Liquidations pause on an instrument when |mark − index| / index exceeds this.
    public var oracleDivergenceLimit: FixedDecimal
    /// Liquidations pause when the index moves more than this fraction within `indexMoveWindowMs`.
    public var indexMoveLimit: FixedDecimal
    public var indexMoveWindowMs: Int64
    /// A mark older than this (engine time − source time) is stale, ms.
    public var markStalenessMs: Int64
    public var execution: LiquidationExecution
    /// Whether the backstop takes what the book cannot.
    public var backstopEnabled: Bool
    public var adlEnabled: Bool
    /// Blocks (including the deposit's own) after which an on-chain deposit is final.
    public var finalityDepth: Int64 = 6
    /// When set, an unconfirmed deposit counts at `amount·(1 − haircut)` until final; when nil, not at all.
    public var unconfirmedHaircut: FixedDecimal? = nil
    public var socializeOver: SocializationBase
    /// Delta hedge when an option book is thin (docs/options.md, "Liquidating an option book";
    /// Engine+OptionLiquidation.swift): when set, a liquidating pool whose option steps cannot
    /// trade (no book depth within the price band, no backstop) trades the options' underlying
    /// perpetual or future to flatten the pool's delta, when that lowers its maintenance margin.
    /// Nil (the default) is off and keeps states without it hashing as before; `true` is on.
    public var optionDeltaHedge: Bool? = nil
    /// How far (a fraction of the underlying's price, in [0, 1]) the underlying may move from the
    /// mark a fed option mark was quoted at before that option mark is stale and the option is
    /// marked by Black-76 instead (docs/options.md, "Stale option marks";
    /// Engine+StaleOptionMarks.swift). Nil: the default 0.01 (`Engine.defaultOptionMarkTolerance`),
    /// kept out of the state hash so states without it hash as before.
    public var optionMarkTolerance: FixedDecimal? = nil

    /// Whether the thin-book delta hedge is on.
    public var deltaHedgeEnabled: Bool { optionDeltaHedge == true }

    public init(policy: MarginPolicy = .standard, gracePeriodMs: Int64 = 0, hysteresis: FixedDecimal = FixedDecimal("0.05")!,
                liquidationFeeRate: FixedDecimal = FixedDecimal("0.005")!, liquidationStepFraction: FixedDecimal = FixedDecimal("0.25")!,
                liquidationStepsPerCommand: Int = 64, liquidationNotionalCap: FixedDecimal? = nil, liquidationCapIntervalMs: Int64 = 60_000,
                priceBand: FixedDecimal = FixedDecimal("0.1")!, oracleDivergenceLimit: FixedDecimal = FixedDecimal("0.05")!,
                indexMoveLimit: FixedDecimal = FixedDecimal("0.3")!, indexMoveWindowMs: Int64 = 60_000, markStalenessMs: Int64 = 30_000,
                execution: LiquidationExecution = .depth, backstopEnabled: Bool = false, adlEnabled: Bool = true,
                socializeOver: SocializationBase = .profitable) {
        self.policy = policy
        self.gracePeriodMs = gracePeriodMs
        self.hysteresis = hysteresis
        self.liquidationFeeRate = liquidationFeeRate
        self.liquidationStepFraction = liquidationStepFraction
        self.liquidationStepsPerCommand = liquidationStepsPerCommand
        self.liquidationNotionalCap = liquidationNotionalCap
        self.liquidationCapIntervalMs = liquidationCapIntervalMs
        self.priceBand = priceBand
        self.oracleDivergenceLimit = oracleDivergenceLimit
        self.indexMoveLimit = indexMoveLimit
        self.indexMoveWindowMs = indexMoveWindowMs
        self.markStalenessMs = markStalenessMs
        self.execution = execution
        self.backstopEnabled = backstopEnabled
        self.adlEnabled = adlEnabled
        self.socializeOver = socializeOver
    }

    /// Exchange preset: no grace period.
    public static let exchange = EngineParameters()
    /// Lender preset: 4 hours to cure a call; an uncured call is closed whole by the backstop.
    public static let lender = EngineParameters(gracePeriodMs: 4 * 3_600_000, liquidationStepFraction: .one, execution: .backstop, backstopEnabled: true)

    /// Checks ranges; returns the name of the faulty field and why, or nil.
    public func validationError() -> (field: String, reason: String)? {
        for (field, ms) in [("grace_period_ms", gracePeriodMs), ("liquidation_cap_interval_ms", liquidationCapIntervalMs),
                            ("index_move_window_ms", indexMoveWindowMs), ("mark_staleness_ms", markStalenessMs)] {
            if let problem = RangeContract.durationProblem(ms) { return (field, problem) }
        }
        if finalityDepth > RangeContract.maxHeight { return ("finality_depth", "out of range: must be at most 1e12") }
        // Ratios of prices (≤ 1e8): at most 1000, so `index · (1 + limit)` stays far inside the range.
        if oracleDivergenceLimit > FixedDecimal(1000) { return ("oracle_divergence_limit", "out of range: must be at most 1000") }
        if indexMoveLimit > FixedDecimal(1000) { return ("index_move_limit", "out of range: must be at most 1000") }
        if hysteresis.isNegative || hysteresis >= policy.warningRatio { return ("hysteresis", "must be in [0, warning_ratio)") }
        if liquidationFeeRate.isNegative || liquidationFeeRate >= .one { return ("liquidation_fee_rate", "must be in [0, 1)") }
        if !liquidationStepFraction.isPositive || liquidationStepFraction > .one { return ("liquidation_step_fraction", "must be in (0, 1]") }
        if liquidationStepsPerCommand < 1 || liquidationStepsPerCommand > 100_000 { return ("liquidation_steps_per_command", "must be in 1...100000") }
        if let cap = liquidationNotionalCap, !cap.isPositive { return ("liquidation_notional_cap", "must be positive") }
        if liquidationCapIntervalMs <= 0 { return ("liquidation_cap_interval_ms", "must be positive") }
        if !priceBand.isPositive || priceBand >= .one { return ("price_band", "must be in (0, 1)") }
        if !oracleDivergenceLimit.isPositive { return ("oracle_divergence_limit", "must be positive") }
        if !indexMoveLimit.isPositive { return ("index_move_limit", "must be positive") }
        if indexMoveWindowMs <= 0 { return ("index_move_window_ms", "must be positive") }
        if markStalenessMs <= 0 { return ("mark_staleness_ms", "must be positive") }
        if finalityDepth < 1 { return ("finality_depth", "must be at least 1") }
        if let h = unconfirmedHaircut, h.isNegative || h > .one { return ("unconfirmed_haircut", "must be in [0, 1]") }
        if let t = optionMarkTolerance, t.isNegative || t > .one { return ("option_mark_tolerance", "must be in [0, 1]") }
        return nil
    }
}
