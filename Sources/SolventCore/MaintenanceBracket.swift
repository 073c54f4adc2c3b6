/// One tier of a leverage/maintenance table (Binance "leverage bracket", Bybit "risk limit").
///
/// All amounts are in the instrument's notional unit: the settle currency for linear
/// contracts, the base coin for inverse ones.
public struct MaintenanceBracket: Sendable, Hashable, Codable {
    /// Lowest notional of the tier (inclusive), ≥ 0.
    public var notionalFloor: FixedDecimal
    /// Highest notional of the tier (exclusive), > floor. The last tier also covers
    /// any notional above its cap (the pre-trade check stops new positions there).
    public var notionalCap: FixedDecimal
    /// Highest leverage allowed for a position in this tier, > 0.
    public var maxLeverage: FixedDecimal
    /// Maintenance margin rate, in [0, 1).
    public var maintenanceMarginRate: FixedDecimal
    /// Maintenance amount (Binance `cum`), subtracted from `notional × rate` so that
    /// maintenance margin is continuous in notional.
    public var maintenanceAmount: FixedDecimal

    public init(notionalFloor: FixedDecimal, notionalCap: FixedDecimal, maxLeverage: FixedDecimal,
                maintenanceMarginRate: FixedDecimal, maintenanceAmount: FixedDecimal) {
        self.notionalFloor = notionalFloor
        self.notionalCap = notionalCap
        self.maxLeverage = maxLeverage
        self.maintenanceMarginRate = maintenanceMarginRate
        self.maintenanceAmount = maintenanceAmount
    }

    /// Initial margin rate at the tier's maximum leverage: `1 / maxLeverage`.
    public var minimumInitialMarginRate: FixedDecimal { FixedDecimal.one / maxLeverage }

    /// Maintenance margin of a position of `notional` in this tier: `notional × rate − amount`.
    @inlinable public func maintenanceMargin(notional: FixedDecimal) -> FixedDecimal {
        notional * maintenanceMarginRate - maintenanceAmount
    }
}

/// Why a bracket table is not valid. Each case names the index of the faulty tier.
public enum BracketTableError: Error, Sendable, Hashable, CustomStringConvertible {
    case empty
    case firstFloorNotZero
    case gap(index: Int, floor: FixedDecimal, previousCap: FixedDecimal)
    case overlap(index: Int, floor: FixedDecimal, previousCap: FixedDecimal)
    case capNotAboveFloor(index: Int)
    case leverageNotPositive(index: Int)
    case rateOutOfRange(index: Int)
    case rateDecreasing(index: Int)
    case leverageIncreasing(index: Int)

    /// The bracket index at fault, when there is one.
    public var index: Int? {
        switch self {
        case .empty: return nil
        case .firstFloorNotZero: return 0
        case .gap(let i, _, _), .overlap(let i, _, _), .capNotAboveFloor(let i), .leverageNotPositive(let i),
             .rateOutOfRange(let i), .rateDecreasing(let i), .leverageIncreasing(let i): return i
        }
    }

    /// The field at fault inside the bracket, for a JSON path.
    public var field: String? {
        switch self {
        case .empty: return nil
        case .firstFloorNotZero, .gap, .overlap: return "notional_floor"
        case .capNotAboveFloor: return "notional_cap"
        case .leverageNotPositive, .leverageIncreasing: return "max_leverage"
        case .rateOutOfRange, .rateDecreasing: return "mmr"
        }
    }

    public var description: String {
        switch self {
        case .empty: return "must not be empty"
        case .firstFloorNotZero: return "the first bracket must start at 0"
        case let .gap(_, floor, previousCap): return "gap: floor \(floor) is above the previous cap \(previousCap)"
        case let .overlap(_, floor, previousCap): return "overlap: floor \(floor) is below the previous cap \(previousCap)"
        case .capNotAboveFloor: return "must be above notional_floor"
        case .leverageNotPositive: return "must be positive"
        case .rateOutOfRange: return "must be in [0, 1)"
        case .rateDecreasing: return "must not be below the previous bracket's mmr"
        case .leverageIncreasing: return "must not be above the previous bracket's max_leverage"
        }
    }
}

/// A validated, gap-free table of brackets, ordered by notional.
public struct BracketTable: Sendable, Hashable, Codable {
    /// The tiers, in increasing notional, contiguous, starting at 0.
    public let brackets: [MaintenanceBracket]

    /// A row of input: a tier with an optional explicit maintenance amount.
    public struct Row: Sendable, Hashable {
        public var notionalFloor: FixedDecimal
        public var notionalCap: FixedDecimal
        public var maxLeverage: FixedDecimal
        public var maintenanceMarginRate: FixedDecimal
        /// When nil, derived: `amount[0] = 0`, `amount[i] = amount[i-1] + floor[i]·(mmr[i] − mmr[i-1])`.
        public var maintenanceAmount: FixedDecimal?

        public init(floor: FixedDecimal, cap: FixedDecimal, maxLeverage: FixedDecimal, mmr: FixedDecimal, amount: FixedDecimal? = nil) {
            self.notionalFloor = floor
            self.notionalCap = cap
            self.maxLeverage = maxLeverage
            self.maintenanceMarginRate = mmr
            self.maintenanceAmount = amount
        }
    }

    /// Validates the rows (start at 0, contiguous, cap > floor, leverage > 0, rate in
    /// [0,1), rates non-decreasing, leverage non-increasing) and derives the amounts.
    public init(rows: [Row]) throws(BracketTableError) {
        guard let first = rows.first else { throw .empty }
        if !first.notionalFloor.isZero { throw .firstFloorNotZero }
        var result: [MaintenanceBracket] = []
        result.reserveCapacity(rows.count)
        for (i, row) in rows.enumerated() {
            if i > 0 {
                let previous = rows[i - 1]
                if row.notionalFloor > previous.notionalCap { throw .gap(index: i, floor: row.notionalFloor, previousCap: previous.notionalCap) }
                if row.notionalFloor < previous.notionalCap { throw .overlap(index: i, floor: row.notionalFloor, previousCap: previous.notionalCap) }
            }
            if row.notionalCap <= row.notionalFloor { throw .capNotAboveFloor(index: i) }
            if !row.maxLeverage.isPositive { throw .leverageNotPositive(index: i) }
            if row.maintenanceMarginRate.isNegative || row.maintenanceMarginRate >= .one { throw .rateOutOfRange(index: i) }
            if i > 0, row.maintenanceMarginRate < rows[i - 1].maintenanceMarginRate { throw .rateDecreasing(index: i) }
            if i > 0, row.maxLeverage > rows[i - 1].maxLeverage { throw .leverageIncreasing(index: i) }
            let amount: FixedDecimal
            if let given = row.maintenanceAmount {
                amount = given
            } else if i == 0 {
                amount = .zero
            } else {
                amount = result[i - 1].maintenanceAmount
                    + row.notionalFloor * (row.maintenanceMarginRate - rows[i - 1].maintenanceMarginRate)
            }
            result.append(MaintenanceBracket(notionalFloor: row.notionalFloor, notionalCap: row.notionalCap,
                                             maxLeverage: row.maxLeverage, maintenanceMarginRate: row.maintenanceMarginRate,
                                             maintenanceAmount: amount))
        }
        self.brackets = result
    }

    /// Index of the tier whose `[floor, cap)` holds `notional` (the last tier beyond its cap).
    @inlinable public func index(forNotional notional: FixedDecimal) -> Int {
        // Tables are short (≤ ~20 tiers): a linear scan beats a binary search.
        var i = 0
        let last = brackets.count - 1
        while i < last, notional >= brackets[i].notionalCap { i += 1 }
        return i
    }

    /// The tier that holds `notional`.
    @inlinable public func bracket(forNotional notional: FixedDecimal) -> MaintenanceBracket {
        brackets[index(forNotional: notional)]
    }

    /// Whether tier `i` holds `notional` (the last tier is open above).
    @inlinable public func contains(_ notional: FixedDecimal, inBracket i: Int) -> Bool {
        let b = brackets[i]
        return notional >= b.notionalFloor && (i == brackets.count - 1 || notional < b.notionalCap)
    }
}
