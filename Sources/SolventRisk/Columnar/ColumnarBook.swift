public import SolventCore

/// Index of an account in a ``ColumnarBook`` (its position in the evaluate input's list).
public struct ColumnarAccountIndex: Sendable, Hashable, Comparable {
    public var value: Int
    @inlinable public init(_ value: Int) { self.value = value }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.value < b.value }
}

/// Index of a position in a ``ColumnarBook``'s flat position columns.
public struct ColumnarPositionIndex: Sendable, Hashable, Comparable {
    public var value: Int
    @inlinable public init(_ value: Int) { self.value = value }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.value < b.value }
}

/// Index of a margin pool in a ``ColumnarResults``' flat pool columns (each account's cross
/// pool first, then one per isolated position, in position order: the order of
/// ``AccountEvaluation/pools``).
public struct ColumnarPoolIndex: Sendable, Hashable, Comparable {
    public var value: Int
    @inlinable public init(_ value: Int) { self.value = value }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.value < b.value }
}

/// An evaluate-contract book (docs/evaluate.md) in struct-of-arrays form, built once from a
/// decoded ``EvaluateInput`` for repeated full evaluations by ``ColumnarEvaluator``.
///
/// Layout: account `k` owns positions `positionStart[k] ..< positionStart[k + 1]`, collateral
/// balances `balanceStart[k] ..< balanceStart[k + 1]` and pools `poolStart[k] ..< poolStart[k + 1]`
/// (cross, then one per isolated position). Per position the static numbers are kept: the
/// instrument index, the signed quantity, the size `Q = |q|·contract_size` (exact, computed
/// once: it depends on the position only), the entry price, the leverage, the isolated margin.
/// Per instrument the mark (refreshed with ``setMark(_:of:)``), whether it is inverse, and
/// its bracket table flattened (`bracketStart[i] ..< bracketStart[i + 1]`).
///
/// Accounts that the evaluate contract does not evaluate with ``MarginEvaluator`` — portfolio
/// (scenario-margined) accounts, and every account when the document has a `haircut_model`
/// (per-account haircuts) — are marked ``isDelegated(_:)``: ``ColumnarEvaluator`` leaves
/// their columns untouched and callers evaluate them by the existing path.
public struct ColumnarBook: Sendable {
    /// The market the book was built from (assets, instruments with their bracket tables).
    public let market: Market
    public let policy: MarginPolicy

    // Accounts.
    public let accountCount: Int
    public let positionStart: [Int]
    public let balanceStart: [Int]
    public let poolStart: [Int]
    public let settle: [Int]
    public let delegated: [Bool]
    /// Cross positions per account (the cross pool's `positionCount`).
    public let crossCount: [Int]

    // Collateral balances.
    public let balanceAsset: [Int]
    public let balanceAmount: [FixedDecimal]
    /// The amount as a ScaledDecimal (nil when it has no short form).
    public let balanceAmountScaled: [ScaledDecimal?]

    // Assets (exact-path forms of the collateral valuation).
    /// Price, `1 − haircut` as ScaledDecimals; the price as a WholeDivisor (a settle asset's divisor).
    public let assetPriceScaled: [ScaledDecimal?]
    public let assetWeightScaled: [ScaledDecimal?]
    public let assetPriceDivisor: [WholeDivisor?]

    // Positions.
    public let positionCount: Int
    public let positionInstrument: [Int]
    /// Signed quantity in contracts.
    public let quantity: [FixedDecimal]
    /// `Q = |q|·contract_size` (PositionMath.size).
    public let size: [FixedDecimal]
    public let entry: [FixedDecimal]
    /// The position's leverage, or `hasLeverage[p] == false` when it has none (bracket maximum).
    public let leverage: [FixedDecimal]
    public let hasLeverage: [Bool]
    /// Isolated margin, or `isIsolated[p] == false` for a cross position.
    public let isolatedMargin: [FixedDecimal]
    public let isIsolated: [Bool]
    /// Index of the position's own pool (cross pool of its account, or its isolated pool).
    public let positionPool: [Int]
    /// Exact-product forms (ScaledDecimal): the size; `Q·entry` when exact (raw, else
    /// ``ColumnarResults/absent``); the leverage as a whole divisor (WholeDivisor) when it is one.
    public let sizeScaled: [ScaledDecimal?]
    public let sizeTimesEntry: [Int128]
    public let leverageDivisor: [WholeDivisor?]

    // Instruments.
    public private(set) var marks: [FixedDecimal]
    public let inverse: [Bool]
    public let bracketStart: [Int]
    public let bracketFloor: [FixedDecimal]
    public let bracketCap: [FixedDecimal]
    public let bracketMaxLeverage: [FixedDecimal]
    public let bracketRate: [FixedDecimal]
    public let bracketAmount: [FixedDecimal]
    /// Each bracket's rate as a ScaledDecimal and its maximum leverage as a WholeDivisor (when they are).
    public let bracketRateScaled: [ScaledDecimal?]
    public let bracketMaxLeverageDivisor: [WholeDivisor?]
    /// Each instrument's mark as a ScaledDecimal (nil when its mantissa exceeds 64 bits).
    public private(set) var markScaled: [ScaledDecimal?]
    /// Per instrument: the smallest and largest maintenance amount of its brackets, and whether
    /// every maintenance rate lies in `0 ..< 1` (the signs of the liquidation-price
    /// denominators are then known: ColumnarPrices' "no price" test).
    public let minimumAmount: [FixedDecimal]
    public let maximumAmount: [FixedDecimal]
    public let ratesBelowOne: [Bool]
    /// The position loop's packed records (ColumnarRows.swift): one per position, instrument,
    /// bracket and distinct leverage; the same numbers as the columns above.
    public let positionRows: [ColumnarPositionRow]
    public private(set) var instrumentRows: [ColumnarInstrumentRow]
    public let bracketRows: [ColumnarBracketRow]
    public let leverageRows: [ColumnarLeverageRow]
    /// The liquidation-price walk's records (ColumnarRows.swift): one per bracket and per instrument.
    public let priceBracketRows: [ColumnarPriceBracketRow]
    public let priceInstrumentRows: [ColumnarPriceInstrumentRow]

    /// Total pools over all accounts (the size of the pool columns).
    public var poolCount: Int { poolStart[accountCount] }
    /// Total collateral balances.
    public var balanceCount: Int { balanceStart[accountCount] }

    /// Builds the columns from a decoded input (every held instrument has a mark: the decoder
    /// guarantees it). O(positions + balances); not on any timed path.
    public init(_ input: EvaluateInput) {
        market = input.market
        policy = input.policy
        let accounts = input.accounts
        accountCount = accounts.count
        var positionStart = [0], balanceStart = [0], poolStart = [0]
        var settle: [Int] = [], delegated: [Bool] = [], crossCount: [Int] = []
        var balanceAsset: [Int] = [], balanceAmount: [FixedDecimal] = []
        var positionInstrument: [Int] = [], quantity: [FixedDecimal] = [], size: [FixedDecimal] = [], entry: [FixedDecimal] = []
        var leverage: [FixedDecimal] = [], hasLeverage: [Bool] = [], isolatedMargin: [FixedDecimal] = [], isIsolated: [Bool] = []
        var positionPool: [Int] = []
        let positions = accounts.reduce(0) { $0 + $1.positions.count }
        positionInstrument.reserveCapacity(positions); quantity.reserveCapacity(positions); size.reserveCapacity(positions)
        entry.reserveCapacity(positions); leverage.reserveCapacity(positions); hasLeverage.reserveCapacity(positions)
        isolatedMargin.reserveCapacity(positions); isIsolated.reserveCapacity(positions); positionPool.reserveCapacity(positions)
        for (k, account) in accounts.enumerated() {
            settle.append(account.settle)
            delegated.append(input.haircuts != nil || input.modes[k] == .portfolio)
            var pools = 1, cross = 0
            let crossPool = poolStart[k]
            for position in account.positions {
                let instrument = market.instruments[position.instrument]
                positionInstrument.append(position.instrument)
                quantity.append(position.quantity)
                size.append(PositionMath.size(position, instrument))
                entry.append(position.entryPrice)
                leverage.append(position.leverage ?? .zero)
                hasLeverage.append(position.leverage != nil)
                switch position.marginMode {
                case .cross:
                    isolatedMargin.append(.zero); isIsolated.append(false)
                    positionPool.append(crossPool)
                    cross += 1
                case .isolated(let margin):
                    isolatedMargin.append(margin); isIsolated.append(true)
                    positionPool.append(crossPool + pools)
                    pools += 1
                }
            }
            for balance in account.collateral {
                balanceAsset.append(balance.asset)
                balanceAmount.append(balance.amount)
            }
            crossCount.append(cross)
            positionStart.append(positionInstrument.count)
            balanceStart.append(balanceAsset.count)
            poolStart.append(crossPool + pools)
        }
        self.positionStart = positionStart; self.balanceStart = balanceStart; self.poolStart = poolStart
        self.settle = settle; self.delegated = delegated; self.crossCount = crossCount
        self.balanceAsset = balanceAsset; self.balanceAmount = balanceAmount
        balanceAmountScaled = balanceAmount.map { ScaledDecimal($0) }
        assetPriceScaled = market.assets.map { ScaledDecimal($0.price) }
        assetWeightScaled = market.assets.map { ScaledDecimal(FixedDecimal.one - $0.haircut) }
        assetPriceDivisor = market.assets.map { WholeDivisor($0.price) }
        positionCount = positionInstrument.count
        self.positionInstrument = positionInstrument; self.quantity = quantity; self.size = size; self.entry = entry
        self.leverage = leverage; self.hasLeverage = hasLeverage; self.isolatedMargin = isolatedMargin; self.isIsolated = isIsolated
        self.positionPool = positionPool
        sizeScaled = size.map { ScaledDecimal($0) }
        sizeTimesEntry = zip(sizeScaled, entry).map { s, e in
            guard let s, let e = ScaledDecimal(e), let p = ScaledDecimal.multiply(s, e) else { return ColumnarResults.absent }
            return p.raw
        }
        leverageDivisor = zip(leverage, hasLeverage).map { $1 ? WholeDivisor($0) : nil }

        var bracketStart = [0]
        var floor: [FixedDecimal] = [], cap: [FixedDecimal] = [], maxLeverage: [FixedDecimal] = [], rate: [FixedDecimal] = [], amount: [FixedDecimal] = []
        for instrument in market.instruments {
            for bracket in instrument.brackets.brackets {
                floor.append(bracket.notionalFloor)
                cap.append(bracket.notionalCap)
                maxLeverage.append(bracket.maxLeverage)
                rate.append(bracket.maintenanceMarginRate)
                amount.append(bracket.maintenanceAmount)
            }
            bracketStart.append(cap.count)
        }
        marks = market.marks.map { $0 ?? .zero }
        inverse = market.instruments.map(\.isInverse)
        self.bracketStart = bracketStart
        bracketFloor = floor; bracketCap = cap; bracketMaxLeverage = maxLeverage; bracketRate = rate; bracketAmount = amount
        bracketRateScaled = rate.map { ScaledDecimal($0) }
        bracketMaxLeverageDivisor = maxLeverage.map { WholeDivisor($0) }
        markScaled = marks.map { ScaledDecimal($0) }
        let tables = (0..<market.instruments.count).map { bracketStart[$0] ..< bracketStart[$0 + 1] }
        minimumAmount = tables.map { amount[$0].min() ?? .zero }
        maximumAmount = tables.map { amount[$0].max() ?? .zero }
        ratesBelowOne = tables.map { rate[$0].allSatisfy { !$0.isNegative && $0 < .one } }
        priceBracketRows = (0..<cap.count).map { ColumnarPriceBracketRow(floor: floor[$0], cap: cap[$0], amount: amount[$0], rate: rate[$0]) }
        let minimumNow = minimumAmount, maximumNow = maximumAmount, belowOneNow = ratesBelowOne
        priceInstrumentRows = tables.indices.map { i in
            ColumnarPriceInstrumentRow(minimumAmount: minimumNow[i], maximumAmount: maximumNow[i], first: Int32(tables[i].lowerBound),
                                       count: Int32(tables[i].count), ratesBelowOne: belowOneNow[i])
        }

        var slots: [FixedDecimal: Int32] = [:], leverageRows: [ColumnarLeverageRow] = []
        var positionRows: [ColumnarPositionRow] = []
        positionRows.reserveCapacity(positionCount)
        for p in 0..<positionCount {
            var slot: Int32 = -1
            if hasLeverage[p] {
                if let known = slots[leverage[p]] { slot = known } else {
                    slot = Int32(leverageRows.count)
                    slots[leverage[p]] = slot
                    leverageRows.append(ColumnarLeverageRow(value: leverage[p], divisor: WholeDivisor(leverage[p])))
                }
            }
            let (m, e) = ScaledDecimal.parts(sizeScaled[p])
            positionRows.append(ColumnarPositionRow(sizeTimesEntry: sizeTimesEntry[p], sizeMantissa: m, instrument: Int32(positionInstrument[p]),
                                                    leverageSlot: slot, sizeExponent: e, side: Int8(quantity[p].signum),
                                                    isolated: isIsolated[p]))
        }
        self.positionRows = positionRows
        self.leverageRows = leverageRows
        let markScaledNow = markScaled, marksNow = marks, inverseNow = inverse
        let rateScaled = bracketRateScaled, maxLeverageDivisors = bracketMaxLeverageDivisor
        instrumentRows = (0..<market.instruments.count).map { i in
            let (m, e) = ScaledDecimal.parts(markScaledNow[i])
            return ColumnarInstrumentRow(mark: marksNow[i], markMantissa: m, markExponent: e, inverse: inverseNow[i],
                                         bracketFirst: Int32(bracketStart[i]), bracketLast: Int32(bracketStart[i + 1] - 1))
        }
        bracketRows = (0..<cap.count).map { b in
            let (m, e) = ScaledDecimal.parts(rateScaled[b])
            return ColumnarBracketRow(cap: cap[b], amount: amount[b], rate: rate[b], maxLeverage: maxLeverage[b],
                                      rateMantissa: m, rateExponent: e, maxLeverageDivisor: maxLeverageDivisors[b])
        }
    }

    /// Whether account `k` is evaluated by the existing path (portfolio margin or per-account haircuts).
    @inlinable public func isDelegated(_ account: ColumnarAccountIndex) -> Bool { delegated[account.value] }

    /// The positions of an account, as indices into the position columns.
    @inlinable public func positions(of account: ColumnarAccountIndex) -> Range<Int> {
        positionStart[account.value] ..< positionStart[account.value + 1]
    }

    /// Replaces the mark of instrument `instrument` (positive; the caller validated it).
    public mutating func setMark(_ mark: FixedDecimal, of instrument: Int) {
        precondition(mark.isPositive, "a mark is positive")
        marks[instrument] = mark
        markScaled[instrument] = ScaledDecimal(mark)
        let (m, e) = ScaledDecimal.parts(markScaled[instrument])
        instrumentRows[instrument].mark = mark
        instrumentRows[instrument].markMantissa = m
        instrumentRows[instrument].markExponent = e
    }

    /// The account as the row-oriented ``Account`` it was built from (for the delegated path and tests).
    public func account(_ k: ColumnarAccountIndex, id: String) -> Account {
        let balances = (balanceStart[k.value] ..< balanceStart[k.value + 1]).map {
            CollateralBalance(asset: balanceAsset[$0], amount: balanceAmount[$0])
        }
        let list = positions(of: k).map { p in
            Position(instrument: positionInstrument[p], quantity: quantity[p], entryPrice: entry[p],
                     leverage: hasLeverage[p] ? leverage[p] : nil,
                     marginMode: isIsolated[p] ? .isolated(margin: isolatedMargin[p]) : .cross)
        }
        return Account(id: id, settle: settle[k.value], collateral: balances, positions: list)
    }
}
