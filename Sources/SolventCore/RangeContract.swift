/// The engine's range contract: the largest and smallest values Solvent accepts, chosen so
/// that every product the engine forms from them fits `FixedDecimal` (±1.7 × 10^20) and
/// every time sum fits `Int64`. Values are checked where they enter (decoders, commands,
/// parameters) and on the products a command creates (a position's size, a balance after a
/// deposit or a trade); anything outside is refused with a typed error naming the field,
/// and nothing changes. docs/range-contract.md derives each bound.
///
/// Worst cases inside the contract (all far below 1.7 × 10^20):
/// - a position's notional `size·price` (linear) or `size/price` (inverse, size in quote
///   units): ≤ `maxPositionSize · maxPrice` = 10^17, and so are its PnL, IM (leverage ≥ 1)
///   and MM (rate ≤ 1);
/// - an account's sums over at most `maxPositionsPerAccount` positions: ≤ 10^19;
/// - a collateral balance's value counts at most `maxCollateralValue` (10^18) settle units
///   (a value beyond it, reachable only through extreme asset price ratios, is counted at the
///   bound: conservative for credit), summed over at most `maxAssets` (100) assets: ≤ 10^20;
/// - so a pool's equity stays below 1.1 × 10^20, and every check that subtracts from it fits;
/// - times: ≤ `maxTime` (year 9999) plus durations ≤ `maxDurationMs` fit `Int64`.
public enum RangeContract {
    /// Largest magnitude of any decimal input (amounts, quantities, prices, limits): 10^15.
    public static let maxMagnitude = FixedDecimal(raw: 1_000_000_000_000_000 * FixedDecimal.unitRaw)
    /// Smallest price of an instrument or asset (mark, index, book level, order, fill, entry,
    /// asset price): 10^-8.
    public static let minPrice = FixedDecimal(raw: 10_000_000_000)
    /// Largest price of an instrument or asset: 10^8.
    public static let maxPrice = FixedDecimal(raw: 100_000_000 * FixedDecimal.unitRaw)
    /// Largest position size `|quantity|·contract_size` (base units for linear contracts, quote
    /// units for inverse ones), also of a resting order added to its position: 10^9. Low-priced
    /// assets are listed in multiples (`1000SHIB`), as venues do.
    public static let maxPositionSize = FixedDecimal(raw: 1_000_000_000 * FixedDecimal.unitRaw)
    /// Largest balance of one asset in one account (and of an isolated margin): 10^15.
    public static let maxBalance = maxMagnitude
    /// Largest value one collateral balance contributes to a pool, in settle units: 10^18.
    public static let maxCollateralValue = FixedDecimal(raw: 1_000_000_000_000_000_000 * FixedDecimal.unitRaw)
    /// Most assets in a market: 100.
    public static let maxAssets = 100
    /// Most positions one account holds (one per instrument): 100.
    public static let maxPositionsPerAccount = 100
    /// Most resting orders one account holds (all instruments): 200. With each order's size
    /// ≤ `maxPositionSize`, an account's resting exposure on one side stays ≤ 2 × 10^11, and its
    /// notional at any price ≤ 2 × 10^19.
    public static let maxOrdersPerAccount = 200
    /// Leverage (a position's, a bracket's maximum) lies in [1, 1000].
    public static let minLeverage = FixedDecimal.one
    public static let maxLeverage = FixedDecimal(1000)
    /// Latest time, ms since the epoch: 9999-12-31T23:59:59.999Z.
    public static let maxTime: Int64 = 253_402_300_799_999
    /// Longest duration parameter (grace period, windows, staleness): 100 years in ms.
    public static let maxDurationMs: Int64 = 3_155_760_000_000
    /// Largest block height and finality depth: 10^12.
    public static let maxHeight: Int64 = 1_000_000_000_000

    /// Why a value is outside the contract, or nil: a price in [minPrice, maxPrice].
    public static func priceProblem(_ price: FixedDecimal) -> String? {
        if !price.isPositive { return "must be positive, got \(price)" }
        if price < minPrice || price > maxPrice { return "out of range: a price must be in [1e-8, 1e8], got \(price)" }
        return nil
    }

    /// Why a leverage is outside [1, 1000], or nil.
    public static func leverageProblem(_ leverage: FixedDecimal) -> String? {
        if leverage < minLeverage || leverage > maxLeverage { return "out of range: leverage must be in [1, 1000], got \(leverage)" }
        return nil
    }

    /// Why a time (ms since the epoch) is outside [0, maxTime], or nil.
    public static func timeProblem(_ time: Int64) -> String? {
        if time < 0 || time > maxTime { return "out of range: a time must be in [0, 253402300799999] ms (1970 … 9999), got \(time)" }
        return nil
    }

    /// Why a duration (ms) is outside [0, maxDurationMs], or nil.
    public static func durationProblem(_ ms: Int64) -> String? {
        if ms < 0 || ms > maxDurationMs { return "out of range: a duration must be in [0, 3155760000000] ms (100 years), got \(ms)" }
        return nil
    }

    /// Why a position size is beyond `maxPositionSize`, or nil.
    public static func sizeProblem(_ size: FixedDecimal?) -> String? {
        guard let size, size.magnitude <= maxPositionSize else {
            return "out of range: position size |quantity|·contract_size above 1e9"
        }
        return nil
    }
}
