public import SolventCore
public import SolventRisk

/// Which maintenance table a backtest runs under.
public enum MarginModel: String, Sendable, Hashable, CaseIterable {
    /// The static Binance-like tiers, never changed.
    case staticTiers = "static"
    /// Dynamic margin (EWMA, anti-procyclical), re-set once a day.
    case dynamic
    /// The same volatility model without anti-procyclicality (no stressed weight, no buffer,
    /// no speed limits), re-set once a day: the procyclical baseline.
    case dynamicRaw = "dynamic_raw"
    /// The walk-forward calibrated model (docs/dynamic-margin.md: the lowest multiplier meeting
    /// coverage with neither Kupiec nor Christoffersen rejecting), no anti-procyclicality, re-set
    /// every `BacktestConfig.calibratedUpdateMs` (an hour).
    case calibrated

    /// The dynamic-margin policy of this model (nil for static tiers).
    public func policy(base: DynamicMargin.Policy) -> DynamicMargin.Policy? {
        switch self {
        case .staticTiers: return nil
        case .dynamic: return base
        case .calibrated:
            var policy = base.withoutAPC
            if policy.fastLambda == nil { policy.fastLambda = 0.7 }
            return policy
        case .dynamicRaw:
            var raw = base
            raw.stressedWeight = 0
            raw.buffer = 0
            raw.maxRisePerDay = 1_000_000
            raw.maxFallPerDay = 0.999_999
            return raw
        }
    }

    /// A bracket table with the static table's floors and caps and the given maintenance
    /// rates (non-decreasing); max leverage is the static one, lowered so that the initial rate
    /// stays at least twice the maintenance rate.
    public static func table(static table: BracketTable, rates: [Double]) -> BracketTable {
        precondition(rates.count == table.brackets.count, "one rate per bracket")
        var rows: [BracketTable.Row] = []
        var previous = FixedDecimal.zero
        for (i, bracket) in table.brackets.enumerated() {
            // Rates in steps of 0.0001 %, rounded up, never below the previous bracket's.
            var mmr = FixedDecimal(raw: Int128((rates[i] * 1e6).rounded(.up)) * 1_000_000_000_000)
            mmr = FixedDecimal.maximum(mmr, previous)
            mmr = FixedDecimal.minimum(mmr, FixedDecimal("0.5")!)
            previous = mmr
            let cap = (FixedDecimal.one / (mmr * 2)).rounded(toDigits: 0, rule: .down)
            let leverage = FixedDecimal.maximum(.one, FixedDecimal.minimum(bracket.maxLeverage, cap))
            rows.append(BracketTable.Row(floor: bracket.notionalFloor, cap: bracket.notionalCap, maxLeverage: leverage, mmr: mmr))
        }
        // Leverage must not increase with the tier.
        for k in 1..<rows.count where rows[k].maxLeverage > rows[k - 1].maxLeverage { rows[k].maxLeverage = rows[k - 1].maxLeverage }
        return try! BracketTable(rows: rows)
    }
}
