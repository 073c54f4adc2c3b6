public import SolventCore
public import SolventRisk

/// What the engine knows of options besides their mark prices (docs/options.md): the fed
/// mark implied volatility per option, the option valuation time, and fed settlement prices.
///
/// Kept as one optional member of `EngineState` (`optionMarks`, nil until the first option
/// input), so a snapshot or state hash of a book without options is unchanged.
public struct OptionMarkState: Sendable, Hashable, Codable {
    /// Mark implied volatility per option instrument index (a yearly fraction in (0, 10]).
    public var impliedVols: [Int: FixedDecimal] = [:]
    /// The time option values are computed at (ms): the latest source time of a fed option
    /// mark (or the scenario's `valuation_time`). Option values move with their inputs, not
    /// with the clock: between two option marks time decay is not applied, as a perpetual's
    /// value does not move between two marks. Nil until the first option input.
    public var valuationTime: Int64? = nil
    /// Fed settlement prices per dated instrument index (`settlement_price` command): for a
    /// future its settlement price, for an option its underlying's expiration price.
    public var settlementPrices: [Int: FixedDecimal] = [:]
    /// The latest fed volatility surface slice per underlying and expiry (`vol_surface`,
    /// Engine+VolSurface.swift), sorted by underlying then expiry; nil until the first one (an
    /// optional so snapshots written before surfaces existed still decode).
    public var surfaces: [VolSurfaceQuote]? = nil
    /// Expired instruments whose settlement waits for a `settlement_price` (no fed price, no
    /// fresh index and no mark of theirs or their underlying at expiry; Engine+Expiry.swift),
    /// ascending; nil when none ever waited.
    public var pendingSettlements: [Int]? = nil
    /// Options whose current mark was computed from a `vol_surface` slice, ascending: re-marked
    /// when their underlying's mark moves (Engine+SurfaceFollow.swift); nil when none.
    public var surfaceMarked: [Int]? = nil
    /// The scenario's `portfolio_policy` when it differs from the defaults (nil: the defaults of
    /// docs/evaluate.md): the scenario-margin parameters of portfolio accounts and of the
    /// liquidation weights (Engine+Portfolio.swift). Set at the scenario's start only.
    public var portfolioPolicy: PortfolioPolicy? = nil
    /// Per fed-marked option whose underlying moved since its mark was fed (within
    /// `option_mark_tolerance`): the underlying's mark the option mark was quoted at
    /// (Engine+StaleOptionMarks.swift). Absent for an option whose underlying has not moved since
    /// (quoted at the current mark); nil when none.
    public var quotedForwards: [Int: FixedDecimal]? = nil
    /// Options whose fed mark went stale (the underlying moved past the tolerance) and that are
    /// now marked by Black-76 at every underlying move, ascending; nil when none.
    public var modelMarked: [Int]? = nil

    public init() {}

    /// Whether it holds nothing (then it is left out of the state hash).
    public var isEmpty: Bool { impliedVols.isEmpty && valuationTime == nil && settlementPrices.isEmpty && (surfaces ?? []).isEmpty && (pendingSettlements ?? []).isEmpty && portfolioPolicy == nil && (surfaceMarked ?? []).isEmpty
        && (quotedForwards ?? [:]).isEmpty && (modelMarked ?? []).isEmpty }
}

/// A fed volatility surface slice (`vol_surface`): implied vols at strictly increasing strikes
/// for the options on `underlying` expiring at `expiry`, as of `sourceTime` (ms).
public struct VolSurfaceQuote: Sendable, Hashable, Codable {
    /// The options' `underlying` (an instrument symbol).
    public var underlying: String
    /// The options' expiry (ms since the epoch).
    public var expiry: Int64
    /// Strictly increasing, positive, within the range contract's prices (settle units).
    public var strikes: [FixedDecimal]
    /// Implied vols at `strikes`, yearly fractions in (0, 10].
    public var vols: [FixedDecimal]
    /// When the surface was observed (ms); ≤ engine time, later than the previous slice's.
    public var sourceTime: Int64
    /// Sticky moneyness (`"sticky": "moneyness"`, VolSurfaceSticky.swift): the underlying's
    /// forward when the slice was fed (settle units, positive), the `F₀` of the strikes'
    /// moneyness `ln(K_j/F₀)`; nil for sticky strike (then absent from the state hash and the
    /// snapshot, so a state from before sticky moneyness reads and hashes as it did).
    public var referenceForward: FixedDecimal? = nil

    public init(underlying: String, expiry: Int64, strikes: [FixedDecimal], vols: [FixedDecimal], sourceTime: Int64,
                referenceForward: FixedDecimal? = nil) {
        self.underlying = underlying
        self.expiry = expiry
        self.strikes = strikes
        self.vols = vols
        self.sourceTime = sourceTime
        self.referenceForward = referenceForward
    }
}

extension PortfolioPolicy {
    /// Every parameter in a fixed order (groups' ranges sorted by name), for the state hash.
    var canonicalText: String {
        var parts = ["\(priceRange)"]
        for (group, range) in priceRanges.sorted(by: { $0.key < $1.key }) { parts.append("\(group)=\(range)") }
        parts += ["\(priceSteps)", "\(volShock)", "\(volShockCap)", "\(volShockReferenceDays)", "\(extremeMultiple)", "\(extremeFraction)",
                  "\(shortOptionMinimum)", "\(basisMinimum)", "\(maintenanceFraction)", "\(correlationCredit)"]
        for c in correlations { parts.append("\(c.first)/\(c.second)=\(c.rho)") }
        return parts.joined(separator: ";")
    }
}
